/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The encrypted credentials Imprint writes for the initrd (creds.h), read
 * back by the host's own `systemd-creds decrypt`: sealed to swtpm, and with
 * the null key. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "creds.h"
#include "test-crypt-util.h"

static TestSwtpm *swtpm;

/* systemd-creds decrypt FILE - with --name=name; NULL when it refuses. */
static char *
decrypt (const char *dir, const char *text, const char *name, const char *tcti)
{
  g_autofree char *path = g_build_filename (dir, "x.cred", NULL);
  g_autofree char *name_arg = g_strdup_printf ("--name=%s", name);
  g_autofree char *dev_arg = g_strdup_printf ("--tpm2-device=%s", tcti ? tcti : "auto");
  g_autofree char *out = NULL;
  const char *argv[] = { "timeout", "60", "systemd-creds", "decrypt", name_arg, dev_arg, path, "-", NULL };

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  if (tcti == NULL)
    argv[5] = "--newline=no";
  if (test_spawn (argv, &out) != 0)
    return NULL;
  return g_steal_pointer (&out);
}

static void
test_null_key (void)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *text = NULL, *plain = NULL, *wrong = NULL;

  if (!test_have_program ("systemd-creds"))
    {
      g_test_skip ("systemd-creds is not installed");
      return;
    }
  g_assert_cmpint (imprint_creds_encrypt ("vconsole.keymap", "de", 2, NULL, &text), ==, 0);
  g_assert_true (g_str_has_prefix (text, "BYRp2vb1QySABUnaD46i+"));   /* the null key's id */
  plain = decrypt (dir, text, "vconsole.keymap", NULL);
  g_assert_cmpstr (plain, ==, "de");
  /* The name is part of what is authenticated. */
  wrong = decrypt (dir, text, "vconsole.font", NULL);
  g_assert_null (wrong);
  g_assert_cmpint (imprint_creds_encrypt ("a/b", "de", 2, NULL, &text), ==, -EINVAL);
  test_rm_rf (dir);
}

static void
test_tpm2 (void)
{
  g_autofree char *dir = NULL, *text = NULL, *plain = NULL;
  g_autoptr (ImprintTpm2) t = NULL;

  if (swtpm == NULL || !test_have_program ("systemd-creds"))
    {
      g_test_skip ("needs swtpm and systemd-creds");
      return;
    }
  dir = test_make_tmpdir ();
  g_assert_cmpint (imprint_tpm2_open (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &t), ==, 0);
  g_assert_cmpint (imprint_creds_encrypt ("vconsole.keymap", "de-nodeadkeys", 13, t, &text), ==, 0);
  g_assert_true (g_str_has_prefix (text, "DHzAexF2RZGcSwvqCLwg/i"));   /* sealed by a TPM2 */
  plain = decrypt (dir, text, "vconsole.keymap", swtpm->tcti);
  g_assert_cmpstr (plain, ==, "de-nodeadkeys");
  /* Bound to no PCR: a firmware update (PCR 7 moves) leaves it readable. */
  test_tpm2_extend_pcr (swtpm->tcti, 7, 0x42);
  g_free (plain);
  plain = decrypt (dir, text, "vconsole.keymap", swtpm->tcti);
  g_assert_cmpstr (plain, ==, "de-nodeadkeys");
  test_rm_rf (dir);
}

int
main (int argc, char *argv[])
{
  int r;

  g_test_init (&argc, &argv, NULL);
  swtpm = test_swtpm_start ();
  g_test_add_func ("/creds/null-key", test_null_key);
  g_test_add_func ("/creds/tpm2", test_tpm2);
  r = g_test_run ();
  test_swtpm_stop (swtpm);
  return r;
}
