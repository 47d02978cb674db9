/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd-sysupdate's output (--json list/check-new, notify datagrams,
 * version text, logs): what the update server's manifest says reaches it. */
#include "config.h"

#include "fuzz.h"
#include "update.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = fuzz_string (data, size);
  g_autofree char *current = NULL, *available = NULL, *version = NULL, *why = NULL;
  g_auto(GStrv) all = NULL;
  g_autoptr(ImprintUpdateVersion) v = NULL;
  int percent = 0;

  (void) imprint_sysupdate_parse_list (text, &current, &all);
  if (imprint_sysupdate_parse_version (text, &v) >= 0 && v != NULL)
    g_variant_unref (g_variant_ref_sink (imprint_update_version_to_variant (v)));
  (void) imprint_sysupdate_parse_check_new (text, &available);
  (void) imprint_sysupdate_parse_notify (text, &percent, &version);
  (void) imprint_sysupdate_parse_systemd_version (text);
  why = imprint_sysupdate_explain_failure (text, 1);
  return 0;
}
