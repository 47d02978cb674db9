/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* "Unlock Automatically Again" (issue 17): after a boot chain change the
 * TPM2 seal no longer opens, the person typed the recovery key at boot and
 * types it again; imprintd's Enroll "tpm2" (imprint_luks_change(), the very
 * function it calls) seals a new secret to the current PCR values. The
 * old TPM2 keyslot is replaced, not joined; the PCRs and the signed PCR 11
 * policy of the old token are kept. Against swtpm, as root. */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <unistd.h>

#include "cleanup-cryptsetup.h"
#include "imprint-error.h"
#include "json-bounded.h"
#include "luks-change.h"
#include "luks-enroll.h"
#include "luks-setup.h"
#include "macros.h"
#include "recovery-key.h"
#include "secret.h"
#include "test-crypt-util.h"

#define MiB (UINT64_C (1024) * 1024)
#define PCRS_0_7 ((1u << 0) | (1u << 7))

static TestSwtpm *swtpm;

/* The one "systemd-tpm2" token of image, parsed; fails the test otherwise. */
static void
only_tpm2_token (const char *image, ImprintTpm2Sealed *ret, int *ret_keyslot)
{
  _cleanup_ (crypt_freep) struct crypt_device *cd = NULL;
  ImprintLuksToken *tokens = NULL;
  size_t n = 0;
  unsigned found = 0;

  g_assert_cmpint (imprint_luks_open (image, &cd), ==, 0);
  g_assert_cmpint (imprint_luks_list_tokens (cd, &tokens, &n), ==, 0);
  for (size_t i = 0; i < n; i++)
    {
      g_autoptr (JsonNode) node = NULL;

      if (!g_str_equal (tokens[i].type, "systemd-tpm2"))
        continue;
      found++;
      node = imprint_json_parse (tokens[i].json, NULL);
      g_assert_nonnull (node);
      g_assert_cmpint (imprint_tpm2_token_parse (json_node_get_object (node), ret), ==, 0);
      *ret_keyslot = tokens[i].keyslots[0];
    }
  imprint_luks_tokens_free (tokens, n);
  g_assert_cmpuint (found, ==, 1);
}

/* What imprintd's Enroll builds for ("tpm2", {"unlock-passphrase": typed}). */
static gboolean
heal (const char *image, const char *typed, const char *signature, GError **error)
{
  g_auto (ImprintLuksChange) c = { .keyslot = -1 };
  int slot = -1;

  c.device = g_strdup (image);
  c.display = g_strdup ("disk.img");
  c.method = g_strdup ("tpm2");
  c.unlock_passphrase = imprint_secret_strdup (typed);
  c.tpm2_device = g_strdup (swtpm->tcti);
  c.tpm2_device_flags = IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR;
  c.tpm2_signature = g_strdup (signature);
  return imprint_luks_change (&c, NULL, &slot, NULL, error);
}

static void
test_heal (void)
{
  g_autofree char *dir = NULL, *image = NULL, *pem = NULL, *sig = NULL, *typed = NULL;
  _cleanup_secret_ char *key = NULL;
  _cleanup_ (crypt_freep) struct crypt_device *cd = NULL;
  g_autoptr (ImprintTpm2) t = NULL;
  g_autoptr (GError) error = NULL;
  ImprintLuksSetupResult res = { 0 };
  ImprintTpm2Sealed before = { 0 }, after = { 0 };
  int old_slot = -1, new_slot = -1;
  EVP_PKEY *pk;

  if (getuid () != 0 || swtpm == NULL)
    {
      g_test_skip ("needs root and swtpm");
      return;
    }
  dir = test_make_tmpdir ();
  image = g_build_filename (dir, "disk.img", NULL);
  test_make_file (image, 32 * MiB);
  g_assert_cmpint (imprint_recovery_key_generate (&key), ==, 0);
  g_assert_cmpint (imprint_tpm2_open (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &t), ==, 0);
  pk = make_signing_key (&pem);
  sig = make_signature_json (t, pk, 1u << 11);

  /* Installed: recovery key, TPM2 on PCRs 0+7 plus the signed PCR 11 policy. */
  ImprintLuksSetup cfg = {
    .device = image,
    .mode = IMPRINT_LUKS_SETUP_FORMAT,
    .recovery_key = key,
    .tpm2 = true,
    .tpm2_device = swtpm->tcti,
    .tpm2_device_flags = IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR,
    .tpm2_pcr_mask = PCRS_0_7,
    .tpm2_pubkey_pem = pem,
    .tpm2_signature_json = sig,
  };
  g_assert_cmpint (imprint_luks_setup (&cfg, NULL, NULL, &res), ==, 0);
  only_tpm2_token (image, &before, &old_slot);
  g_assert_cmpuint (before.pcr_mask, ==, PCRS_0_7);

  /* A firmware update: PCR 7 moves; the TPM refuses, as it did at boot. */
  test_tpm2_extend_pcr (swtpm->tcti, 7, 0x42);
  g_assert_cmpint (imprint_luks_open (image, &cd), ==, 0);
  g_assert_cmpint (imprint_luks_verify_tpm2 (cd, t, old_slot, NULL, sig), ==, -ESTALE);
  crypt_free (g_steal_pointer (&cd));

  /* A wrong key changes nothing. */
  g_assert_false (heal (image, "not-the-key", sig, &error));
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED);
  g_clear_error (&error);

  /* The recovery key as typed at a prompt: upper case, spaces. */
  typed = g_ascii_strup (key, -1);
  g_strdelimit (typed, "-", ' ');
  g_assert_true (heal (image, typed, sig, &error));
  g_assert_no_error (error);

  only_tpm2_token (image, &after, &new_slot);
  g_assert_cmpuint (after.pcr_mask, ==, PCRS_0_7);
  g_assert_cmpstr (after.pubkey_pem, ==, before.pubkey_pem);
  g_assert_cmpuint (after.pubkey_pcr_mask, ==, 1u << 11);
  g_assert_cmpint (imprint_luks_open (image, &cd), ==, 0);
  g_assert_cmpint (imprint_luks_verify_tpm2 (cd, t, new_slot, NULL, sig), ==, 0);
  /* The old seal's keyslot went with its token (unless reused). */
  if (new_slot != old_slot)
    g_assert_cmpint (crypt_keyslot_status (cd, old_slot), ==, CRYPT_SLOT_INACTIVE);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, key, strlen (key), NULL), ==, 0);

  /* And a later update signed with the same key still opens, unsealed again. */
  test_tpm2_extend_pcr (swtpm->tcti, 11, 0x43);
  g_free (sig);
  sig = make_signature_json (t, pk, 1u << 11);
  g_assert_cmpint (imprint_luks_verify_tpm2 (cd, t, new_slot, NULL, sig), ==, 0);

  imprint_tpm2_sealed_done (&before);
  imprint_tpm2_sealed_done (&after);
  imprint_luks_setup_result_done (&res);
  EVP_PKEY_free (pk);
  test_rm_rf (dir);
}

int
main (int argc, char *argv[])
{
  int r;

  g_test_init (&argc, &argv, NULL);
  swtpm = test_swtpm_start ();
  g_test_add_func ("/luks-heal/reseal-keeps-pcrs-and-signed-policy", test_heal);
  r = g_test_run ();
  test_swtpm_stop (swtpm);
  return r;
}
