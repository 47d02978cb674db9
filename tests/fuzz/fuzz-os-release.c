/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* os-release of a target or update source. */
#include "config.h"

#include "fuzz.h"
#include "update.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = fuzz_string (data, size);
  g_autoptr(GHashTable) table = NULL;

  if (imprint_os_release_parse (text, &table) == 0)
    (void) g_hash_table_lookup (table, "VERSION_ID");
  return 0;
}
