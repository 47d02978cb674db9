/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd-cryptsetup's journal entries (backend/crypt/unlock-log.h): each
 * input line is "UNIT<TAB>MESSAGE", or a message of the root's unit. */
#include "config.h"

#include "fuzz.h"
#include "unlock-log.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char root[] = "systemd-cryptsetup@root.service";
  g_auto(ImprintUnlockLog) l;
  const char *p = (const char *) data, *end = p + size;

  imprint_unlock_log_init (&l, "root");
  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p), *line_end = nl ? nl : end;
      const char *tab = memchr (p, '\t', line_end - p);
      g_autofree char *volume = NULL;

      if (tab != NULL)
        {
          volume = imprint_unlock_unit_volume (p, tab - p);
          imprint_unlock_log_add (&l, p, tab - p, tab + 1, line_end - tab - 1);
        }
      else
        imprint_unlock_log_add (&l, root, sizeof root - 1, p, line_end - p);
      p = line_end + (nl ? 1 : 0);
    }
  if (l.detail != NULL && (!g_utf8_validate (l.detail, -1, NULL) || strlen (l.detail) > IMPRINT_UNLOCK_DETAIL_MAX))
    abort ();
  (void) imprint_unlock_reason_to_string (l.reason);
  return 0;
}
