/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A repart.d definition as factory reset reads it (factory-reset.c). */
#include "config.h"

#include "fuzz.h"
#include "update.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = fuzz_string (data, size);
  g_autofree char *type = NULL, *label = NULL;
  gboolean reset = FALSE;

  imprint_factory_reset_parse_definition (text, &type, &label, &reset);
  return 0;
}
