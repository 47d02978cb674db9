/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "unlock-log.h"

/* Journal entries (unit, message) as systemd-cryptsetup writes them at
 * notice level and above; the texts are upstream's (see unlock-log.h). */
typedef struct {
  const char *unit;
  const char *message;
} Entry;

static void
feed (ImprintUnlockLog *l, const Entry *e, gsize n)
{
  for (gsize i = 0; i < n; i++)
    imprint_unlock_log_add (l, e[i].unit, e[i].unit ? strlen (e[i].unit) : 0,
                            e[i].message, e[i].message ? strlen (e[i].message) : 0);
}

#define ROOT "systemd-cryptsetup@root.service"

static void
test_tpm_unlocked (void)
{
  /* A start the TPM opened: nothing above debug level but the cipher line. */
  static const Entry e[] = {
    { ROOT, "Set cipher aes, mode xts-plain64, key size 512 bits for device /dev/disk/by-uuid/6f38." },
  };
  g_auto(ImprintUnlockLog) l;

  imprint_unlock_log_init (&l, "root");
  feed (&l, e, G_N_ELEMENTS (e));
  g_assert_false (l.fallback);
  g_assert_cmpint (l.reason, ==, IMPRINT_UNLOCK_REASON_NONE);
  g_assert_cmpstr (imprint_unlock_reason_to_string (l.reason), ==, "");
}

static void
test_v252_pcr_changed (void)
{
  /* v252, tpm2-device=auto, built-in path: tpm2-tss' policy failure. */
  static const Entry e[] = {
    { ROOT, "Failed to unseal HMAC key in TPM: tpm:session(1):a policy check failed" },
    { ROOT, "TPM2 operation failed, falling back to traditional unlocking: State not recoverable" },
  };
  g_auto(ImprintUnlockLog) l;

  imprint_unlock_log_init (&l, "root");
  feed (&l, e, G_N_ELEMENTS (e));
  g_assert_true (l.fallback);
  g_assert_cmpstr (imprint_unlock_reason_to_string (l.reason), ==, "pcr-mismatch");
  g_assert_cmpstr (l.detail, ==, "Failed to unseal HMAC key in TPM: tpm:session(1):a policy check failed");
}

static void
test_v257_signature (void)
{
  /* v257 through the token plugin: no signature for this boot's PCR 11. */
  static const Entry e[] = {
    { ROOT, "Couldn't find signature for this PCR bank, PCR index and public key." },
    { ROOT, "Failed to unseal secret using TPM2: No such device or address" },
    { ROOT, "No TPM2 metadata matching the current system state found in LUKS2 header, falling back to traditional unlocking." },
  };
  g_auto(ImprintUnlockLog) l;

  imprint_unlock_log_init (&l, "root");
  feed (&l, e, G_N_ELEMENTS (e));
  g_assert_true (l.fallback);
  g_assert_cmpstr (imprint_unlock_reason_to_string (l.reason), ==, "signature");
}

static void
test_v257_signature_vm (void)
{
  /* What v257 logged in the VM (Secure Boot, a UKI whose PCR 11 policy
   * another key signed): the lookup's own message is debug-level only. */
  static const Entry e[] = {
    { ROOT, "Automatically discovered security TPM2 token unlocks volume." },
    { ROOT, "Failed to unseal secret using TPM2: No such device or address" },
    { ROOT, "No valid TPM2 token data found." },
  };
  g_auto(ImprintUnlockLog) l;

  imprint_unlock_log_init (&l, "root");
  feed (&l, e, G_N_ELEMENTS (e));
  g_assert_cmpstr (imprint_unlock_reason_to_string (l.reason), ==, "signature");
  g_assert_cmpstr (l.detail, ==, "Failed to unseal secret using TPM2: No such device or address");
}

static void
test_v257_pcr7_vm (void)
{
  /* What v257 logged in the VM after a firmware db update changed PCR 7. */
  static const Entry e[] = {
    { ROOT, "Automatically discovered security TPM2 token unlocks volume." },
    { ROOT, "Failed to unseal secret using TPM2: Operation not permitted" },
    { ROOT, "No valid TPM2 token data found." },
    { ROOT, "No TPM2 metadata matching the current system state found in LUKS2 header, falling back to traditional unlocking." },
  };
  g_auto(ImprintUnlockLog) l;

  imprint_unlock_log_init (&l, "root");
  feed (&l, e, G_N_ELEMENTS (e));
  g_assert_true (l.fallback);
  g_assert_cmpstr (imprint_unlock_reason_to_string (l.reason), ==, "pcr-mismatch");
}

static void
test_v257_policy (void)
{
  static const Entry e[] = {
    { ROOT, "TPM policy does not match current system state. Either system has been tempered with or policy out-of-date: Operation not permitted" },
    { ROOT, "TPM2 operation failed, falling back to traditional unlocking: Operation not permitted" },
  };
  g_auto(ImprintUnlockLog) l;

  imprint_unlock_log_init (&l, "root");
  feed (&l, e, G_N_ELEMENTS (e));
  g_assert_true (l.fallback);
  g_assert_cmpstr (imprint_unlock_reason_to_string (l.reason), ==, "pcr-mismatch");
}

static void
test_other_reasons (void)
{
  static const struct { const char *message; const char *reason; } cases[] = {
    { "No TPM2 hardware discovered and EFI firmware does not see it either, falling back to traditional unlocking.", "no-tpm" },
    { "TPM2 PIN unlock failed, falling back to traditional unlocking.", "pin" },
    { "TPM2 operation failed, falling back to traditional unlocking: Input/output error", "tpm-error" },
    { "Something new, falling back to traditional unlocking.", "unknown" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Entry e = { ROOT, cases[i].message };
      g_auto(ImprintUnlockLog) l;

      imprint_unlock_log_init (&l, "root");
      feed (&l, &e, 1);
      g_assert_true (l.fallback);
      g_assert_cmpstr (imprint_unlock_reason_to_string (l.reason), ==, cases[i].reason);
    }
}

static void
test_not_ours (void)
{
  /* Another volume's fallback, a volume without TPM2 token, and entries
   * with no unit: none is the root's. */
  static const Entry e[] = {
    { "systemd-cryptsetup@swap.service", "TPM2 operation failed, falling back to traditional unlocking: State not recoverable" },
    { NULL, "TPM2 operation failed, falling back to traditional unlocking: State not recoverable" },
    { "systemd-cryptsetup@root.service.evil", "TPM2 PIN unlock failed, falling back to traditional unlocking." },
    { ROOT, "No TPM2 metadata enrolled in LUKS2 header, falling back to traditional unlocking." },
    { ROOT, NULL },
  };
  g_auto(ImprintUnlockLog) l;

  imprint_unlock_log_init (&l, "root");
  feed (&l, e, G_N_ELEMENTS (e));
  g_assert_false (l.fallback);
  g_assert_cmpuint (l.n_entries, ==, G_N_ELEMENTS (e));
}

static void
test_unit_escaping (void)
{
  static const Entry e[] = {
    { "systemd-cryptsetup@luks\\x2d6f38.service", "TPM2 PIN unlock failed, falling back to traditional unlocking." },
  };
  g_auto(ImprintUnlockLog) l;
  g_autofree char *v = NULL;

  imprint_unlock_log_init (&l, "luks-6f38");
  feed (&l, e, G_N_ELEMENTS (e));
  g_assert_true (l.fallback);

  g_assert_null (imprint_unlock_unit_volume ("systemd-cryptsetup@.service", 27));
  g_assert_null (imprint_unlock_unit_volume ("systemd-cryptsetup@a\\x0a.service", 32));
  g_assert_null (imprint_unlock_unit_volume ("systemd-cryptsetup@a\\x2.service", 31));
  v = imprint_unlock_unit_volume ("systemd-cryptsetup@a-b.service", 30);
  g_assert_cmpstr (v, ==, "a/b");
}

static void
test_hostile_detail (void)
{
  g_autoptr(GString) m = g_string_new ("Failed to unseal HMAC key in TPM: a policy check failed \x1b[31m\xff\xfe");
  g_auto(ImprintUnlockLog) l;

  for (int i = 0; i < 1000; i++)
    g_string_append (m, "\xc3\xa4\n");
  imprint_unlock_log_init (&l, "root");
  imprint_unlock_log_add (&l, ROOT, strlen (ROOT), m->str, m->len);
  g_assert_cmpint (l.reason, ==, IMPRINT_UNLOCK_REASON_PCR_MISMATCH);
  g_assert_false (l.fallback);
  g_assert_true (g_utf8_validate (l.detail, -1, NULL));
  g_assert_cmpuint (strlen (l.detail), <=, IMPRINT_UNLOCK_DETAIL_MAX);
  for (const char *p = l.detail; *p; p = g_utf8_next_char (p))
    g_assert_false (g_unichar_iscntrl (g_utf8_get_char (p)));
  /* Not NUL-terminated input is read by its length only. */
  imprint_unlock_log_add (&l, ROOT, strlen (ROOT), "TPM2 PIN unlock failed, falling back to traditional unlocking.XXXX", 63);
  g_assert_true (l.fallback);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/unlock-log/tpm-unlocked", test_tpm_unlocked);
  g_test_add_func ("/unlock-log/v252-pcr-changed", test_v252_pcr_changed);
  g_test_add_func ("/unlock-log/v257-signature", test_v257_signature);
  g_test_add_func ("/unlock-log/v257-signature-vm", test_v257_signature_vm);
  g_test_add_func ("/unlock-log/v257-pcr7-vm", test_v257_pcr7_vm);
  g_test_add_func ("/unlock-log/v257-policy", test_v257_policy);
  g_test_add_func ("/unlock-log/other-reasons", test_other_reasons);
  g_test_add_func ("/unlock-log/not-ours", test_not_ours);
  g_test_add_func ("/unlock-log/unit-escaping", test_unit_escaping);
  g_test_add_func ("/unlock-log/hostile-detail", test_hostile_detail);
  return g_test_run ();
}
