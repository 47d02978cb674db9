/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A repart.d definition as the plan, the install and factory reset read it
 * (backend/basic/repart-definition.c): parsed, interpreted, and the flat
 * copy handed to systemd-repart must read back to the same assignments. */
#include "config.h"

#include "fuzz.h"
#include "repart-definition.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(ImprintRepartDefinition) def = imprint_repart_definition_new ("fuzz.conf");
  g_autoptr(ImprintRepartDefinition) again = imprint_repart_definition_new ("fuzz.conf");
  g_autofree char *flat = NULL, *flat2 = NULL;
  guint64 size_value;

  if (size > IMPRINT_REPART_FILE_MAX)
    return 0;
  if (imprint_repart_definition_parse (def, (const char *) data, size) < 0)
    return 0;
  flat = imprint_repart_definition_format (def, NULL);
  if (imprint_repart_definition_parse (again, flat, strlen (flat)) < 0)
    abort ();
  flat2 = imprint_repart_definition_format (again, NULL);
  if (strcmp (flat, flat2) != 0 || g_strcmp0 (def->type, again->type) != 0 ||
      g_strcmp0 (def->label, again->label) != 0 || def->size_min != again->size_min ||
      def->factory_reset != again->factory_reset)
    abort ();
  if (def->assignments->len > 0)
    {
      const ImprintRepartAssignment *a = def->assignments->pdata[0];
      (void) imprint_repart_parse_size (a->value, &size_value);
    }
  return 0;
}
