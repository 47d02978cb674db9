/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A repart.d definition as the install planner reads it (plan.c). */
#include "config.h"

#include "fuzz.h"
#include "plan-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = fuzz_string (data, size);
  g_autofree char *type = imprint_definition_type (text);

  (void) imprint_definition_size_min (text);
  return 0;
}
