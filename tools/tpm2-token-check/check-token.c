/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opens (check only, no device-mapper) a LUKS2 image through the installed
 * systemd-tpm2 token plugin, pointed at a TPM given as TCTI string. Built
 * and run inside another distribution's root (e.g. Debian 13, systemd 257)
 * by check-tpm2-token-plugin.sh, to prove that the plugin of that systemd
 * version unlocks what Imprint enrolls.
 *
 * usage: check-token IMAGE TCTI TOKEN [PIN|-] [SIGNATURE-JSON]
 * prints the keyslot (>= 0) or the negative errno; exit 0 on success. */
#include <libcryptsetup.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* systemd_tpm2_plugin_params (src/cryptsetup/cryptsetup-tokens/
 * cryptsetup-token.h): search_pcr_mask and device first in every version;
 * later versions append fields, zero = default. */
struct params {
  uint32_t search_pcr_mask;
  const char *device;
  const char *signature_path;
  const void *more[16];
};

int
main (int argc, char *argv[])
{
  struct crypt_device *cd = NULL;
  struct params p = { .search_pcr_mask = UINT32_MAX };
  const char *pin = NULL;
  int r;

  if (argc < 4)
    {
      fprintf (stderr, "usage: %s IMAGE TCTI TOKEN [PIN|-] [SIGNATURE-JSON]\n", argv[0]);
      return 2;
    }
  p.device = argv[2];
  if (argc > 4 && strcmp (argv[4], "-") != 0)
    pin = argv[4];
  if (argc > 5)
    p.signature_path = argv[5];
  if (getenv ("CHECK_TOKEN_DEBUG"))
    crypt_set_debug_level (CRYPT_DEBUG_ALL);

  r = crypt_init (&cd, argv[1]);
  if (r >= 0)
    r = crypt_load (cd, CRYPT_LUKS2, NULL);
  if (r >= 0)
    r = crypt_activate_by_token_pin (cd, NULL, "systemd-tpm2", atoi (argv[3]),
                                     pin, pin ? strlen (pin) : 0, &p, 0);
  printf ("%d\n", r);
  crypt_free (cd);
  return r < 0 ? 1 : 0;
}
