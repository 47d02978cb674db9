/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The systemd-tpm2 LUKS2 tokens Imprint writes, end to end: enrolled on a
 * real LUKS2 volume, unsealed again by our code, and opened by the
 * installed systemd's own token plugin against the same swtpm (root). */

#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>

#include "luks.h"
#include "macros.h"
#include "secret.h"
#include "test-crypt-util.h"
#include "tpm2.h"

#define MiB (UINT64_C (1024) * 1024)

static TestSwtpm *swtpm;

static bool
need_swtpm (void)
{
  if (swtpm)
    return true;
  g_test_skip ("swtpm not installed (apt-get install swtpm swtpm-tools)");
  return false;
}

/* systemd's token plugin parameters (cryptsetup-token.h,
 * systemd_tpm2_plugin_params): 252 has the first two fields, newer
 * versions append more; zeroed extra fields are their defaults. */
typedef struct {
  uint32_t search_pcr_mask;
  const char *device;
  const char *signature_path;
  const char *pcrlock_path;
  const void *reserved[8];
} SystemdTpm2PluginParams;

static char *
systemd_tpm2_plugin_path (void)
{
  const char *dir = crypt_token_external_path ();
  char *p;

  if (!dir)
    return NULL;
  p = g_build_filename (dir, "libcryptsetup-token-systemd-tpm2.so", NULL);
  if (!g_file_test (p, G_FILE_TEST_EXISTS))
    g_clear_pointer (&p, g_free);
  return p;
}

/* The volume and what the phases of the test share. Slots are the
 * keyslots of tokens 0..4, in token order. */
typedef struct {
  char *dir, *image, *signature, *signature_file;
  ImprintTpm2 *t;
  struct crypt_device *cd;
  EVP_PKEY *signing_key;
  ImprintTpm2Sealed s, sp;
  int slot, slot_pin, slot_unbound, slot_384, slot_signed;
} TokenFixture;

/* Seals with @params, enrolls the keyslot with the token and returns the
 * keyslot; *ret_token (may be NULL) gets the token for checks. */
static int
enroll_sealed (TokenFixture *f, const void *vk, size_t vk_size, const ImprintTpm2SealParams *params,
               ImprintTpm2Sealed *sealed, JsonObject **ret_token)
{
  g_autoptr (JsonObject) token = NULL;
  _cleanup_secret_ char *pass = NULL;
  int slot;

  g_assert_cmpint (imprint_tpm2_seal_full (f->t, params, sealed), ==, 0);
  g_assert_cmpint (imprint_tpm2_secret_to_passphrase (sealed->secret, sealed->secret_size, &pass), ==, 0);
  token = imprint_tpm2_token_new (sealed);
  /* With systemd's plugin installed, libcryptsetup validates the token
   * through the plugin's own validator here. */
  g_assert_cmpint (imprint_luks_enroll (f->cd, vk, vk_size, pass, strlen (pass), IMPRINT_LUKS_PBKDF_MINIMAL, NULL,
                                        token, &slot, NULL), ==, 0);
  if (ret_token)
    *ret_token = g_steal_pointer (&token);
  return slot;
}

/* Token 0: PCR 7; 1: PCR 7 and a PIN; 2: bound to no PCR at all
 * (tpm2-pcrs []); 3: PCRs 0 and 7 on the SHA-384 bank, under the RSA-2048
 * legacy primary (the fallback for TPMs without ECC P-256); 4: PCR 7 plus
 * a signed PCR 11 policy (UKI .pcrpkey/.pcrsig). */
static void
enroll_tokens (TokenFixture *f, const void *vk, size_t vk_size)
{
  const ImprintTpm2SealParams p7 = { .pcr_mask = 1u << 7 };
  const ImprintTpm2SealParams p7_pin = { .pcr_mask = 1u << 7, .pin = "2468" };
  const ImprintTpm2SealParams unbound = { 0 };
  const ImprintTpm2SealParams p384 = {
    .pcr_mask = (1u << 0) | (1u << 7),
    .pcr_bank = TPM2_ALG_SHA384,
    .primary_alg = TPM2_ALG_RSA,
  };
  g_autofree char *signing_pem = NULL;
  ImprintTpm2Sealed su = { 0 }, s384 = { 0 }, ss = { 0 };
  g_autoptr (JsonObject) tu = NULL, t384 = NULL;

  f->slot = enroll_sealed (f, vk, vk_size, &p7, &f->s, NULL);
  f->slot_pin = enroll_sealed (f, vk, vk_size, &p7_pin, &f->sp, NULL);

  f->slot_unbound = enroll_sealed (f, vk, vk_size, &unbound, &su, &tu);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (tu, "tpm2-pcrs")), ==, 0);

  f->slot_384 = enroll_sealed (f, vk, vk_size, &p384, &s384, &t384);
  g_assert_cmpuint (s384.primary_alg, ==, TPM2_ALG_RSA);
  g_assert_cmpstr (json_object_get_string_member (t384, "tpm2-pcr-bank"), ==, "sha384");
  g_assert_cmpstr (json_object_get_string_member (t384, "tpm2-primary-alg"), ==, "rsa");

  f->signing_key = make_signing_key (&signing_pem);
  {
    const ImprintTpm2SealParams signed_params = { .pcr_mask = 1u << 7, .pubkey_pem = signing_pem };
    f->slot_signed = enroll_sealed (f, vk, vk_size, &signed_params, &ss, NULL);
  }
  f->signature = make_signature_json (f->t, f->signing_key, 1u << 11);
  f->signature_file = g_build_filename (f->dir, "tpm2-pcr-signature.json", NULL);
  g_assert_true (g_file_set_contents (f->signature_file, f->signature, -1, NULL));

  imprint_tpm2_sealed_done (&su);
  imprint_tpm2_sealed_done (&s384);
  imprint_tpm2_sealed_done (&ss);
}

/* Each token parses back, unseals with our code, and its secret (as
 * base64, the keyslot passphrase) opens exactly its own keyslot. */
static void
check_tokens_unseal (TokenFixture *f)
{
  const int expected[] = { f->slot, f->slot_pin, f->slot_unbound, f->slot_384, f->slot_signed };
  ImprintLuksToken *tokens = NULL;
  size_t n = 0;
  guint seen = 0;

  g_assert_cmpint (imprint_luks_list_tokens (f->cd, &tokens, &n), ==, 0);
  for (size_t i = 0; i < n; i++)
    {
      g_autoptr (JsonNode) node = json_from_string (tokens[i].json, NULL);
      ImprintTpm2Sealed p = { 0 };
      _cleanup_secret_ char *pw = NULL;
      void *sec = NULL;
      size_t sec_size = 0;
      int ks = -1;

      g_assert_cmpstr (tokens[i].type, ==, "systemd-tpm2");
      g_assert_cmpuint (tokens[i].n_keyslots, ==, 1);
      g_assert_cmpint (imprint_tpm2_token_parse (json_node_get_object (node), &p), ==, 0);
      g_assert_cmpint (imprint_tpm2_unseal_full (f->t, &p, p.pin ? "2468" : NULL, f->signature, &sec, &sec_size), ==, 0);
      g_assert_cmpint (imprint_tpm2_secret_to_passphrase (sec, sec_size, &pw), ==, 0);
      g_assert_cmpint (imprint_luks_check_passphrase (f->cd, pw, strlen (pw), &ks), ==, 0);
      g_assert_cmpint (ks, ==, tokens[i].keyslots[0]);
      g_assert_cmpint (tokens[i].id, <, 5);
      g_assert_cmpint (ks, ==, expected[tokens[i].id]);
      imprint_secret_free (sec);
      imprint_tpm2_sealed_done (&p);
      seen++;
    }
  g_assert_cmpuint (seen, ==, 5);
  imprint_luks_tokens_free (tokens, n);
}

/* For checking the same tokens with other systemd versions' plugins
 * (tools/check-tpm2-token-plugin.sh): keep the image and the TPM's state
 * (its seeds; PCRs start from zero again when swtpm restarts, matching a
 * seal made on a fresh swtpm). */
static void
export_for_plugins (TokenFixture *f, const char *out)
{
  g_autofree char *state = g_build_filename (swtpm->state_dir, "tpm2-00.permall", NULL);
  g_autofree char *state_out = g_build_filename (out, "tpm2-00.permall", NULL);
  g_autofree char *image_out = g_build_filename (out, "disk.img", NULL);
  g_autofree char *cmd = NULL;

  cmd = g_strdup_printf ("cp --sparse=always '%s' '%s'", f->image, image_out);
  g_assert_cmpint (system (cmd), ==, 0);
  g_clear_pointer (&cmd, g_free);
  cmd = g_strdup_printf ("cp '%s' '%s'", state, state_out);
  g_assert_cmpint (system (cmd), ==, 0);
  g_clear_pointer (&cmd, g_free);
  cmd = g_strdup_printf ("cp '%s' '%s'", f->signature_file, out);
  g_assert_cmpint (system (cmd), ==, 0);
}

static int
plugin_activate (TokenFixture *f, int token, const char *pin, SystemdTpm2PluginParams *params)
{
  return crypt_activate_by_token_pin (f->cd, NULL, "systemd-tpm2", token, pin, pin ? strlen (pin) : 0,
                                      params, 0);
}

/* The signed PCR 11 policy: the plugin reads the signature file. Without
 * a signature for the current PCR 11 it refuses; with a new one it opens
 * again. */
static void
check_plugin_signed (TokenFixture *f, const SystemdTpm2PluginParams *params)
{
  SystemdTpm2PluginParams sparams = *params;

  sparams.signature_path = f->signature_file;
  g_assert_cmpint (plugin_activate (f, 4, NULL, &sparams), ==, f->slot_signed);
  test_tpm2_flush_all_transient (swtpm->tcti);

  test_tpm2_extend_pcr (swtpm->tcti, 11, 0x42);
  g_assert_cmpint (plugin_activate (f, 4, NULL, &sparams), <, 0);
  test_tpm2_flush_all_transient (swtpm->tcti);
  g_free (f->signature);
  f->signature = make_signature_json (f->t, f->signing_key, 1u << 11);
  g_assert_true (g_file_set_contents (f->signature_file, f->signature, -1, NULL));
  g_assert_cmpint (plugin_activate (f, 4, NULL, &sparams), ==, f->slot_signed);
  test_tpm2_flush_all_transient (swtpm->tcti);
}

/* The strongest proof on this host: systemd's own token plugin (the
 * installed systemd-cryptsetup's) opens the volume from our tokens,
 * talking to the same swtpm. */
static void
check_with_systemd_plugin (TokenFixture *f, const char *plugin)
{
  SystemdTpm2PluginParams params = {
    .search_pcr_mask = UINT32_MAX,
    .device = swtpm->tcti,
  };

  g_test_message ("checking with %s", plugin);
  if (g_getenv ("IMPRINT_TEST_CRYPT_DEBUG"))
    crypt_set_debug_level (CRYPT_DEBUG_ALL);
  /* With type NULL (what systemd-cryptsetup 252 tries first),
   * libcryptsetup drops usrptr, so the plugin looks for the TPM on its
   * own (/sys/class/tpmrm): -EAGAIN "hardware missing" proves it took the
   * token as its own. Where a real TPM exists, skip this. */
  if (!g_file_test ("/sys/class/tpmrm/tpmrm0", G_FILE_TEST_EXISTS))
    g_assert_cmpint (crypt_activate_by_token_pin (f->cd, NULL, NULL, CRYPT_ANY_TOKEN, NULL, 0, &params, 0),
                     ==, -EAGAIN);

  /* Without PIN: only the PIN-less token can open. */
  g_assert_cmpint (plugin_activate (f, CRYPT_ANY_TOKEN, NULL, &params), ==, f->slot);
  /* The PIN token asks for its PIN (-ENOANO), as at boot... */
  g_assert_cmpint (plugin_activate (f, 1, NULL, &params), ==, -ENOANO);
  /* ...and opens with it. (systemd-cryptsetup never passes a PIN to a
   * token that has none: 252's plugin fails such a call.) */
  g_assert_cmpint (plugin_activate (f, 1, "2468", &params), ==, f->slot_pin);
  g_assert_cmpint (plugin_activate (f, 1, "0000", &params), <, 0);
  test_tpm2_flush_all_transient (swtpm->tcti);

  /* Still opens right before the PCR changes: what follows fails for the
   * PCR, not for a TPM left in a bad state. */
  g_assert_cmpint (plugin_activate (f, 0, NULL, &params), ==, f->slot);
  test_tpm2_flush_all_transient (swtpm->tcti);

  g_assert_cmpint (plugin_activate (f, 2, NULL, &params), ==, f->slot_unbound);
  test_tpm2_flush_all_transient (swtpm->tcti);
  g_assert_cmpint (plugin_activate (f, 3, NULL, &params), ==, f->slot_384);
  test_tpm2_flush_all_transient (swtpm->tcti);

  check_plugin_signed (f, &params);

  /* After the PCR moves, the plugin refuses too; the unbound token still
   * opens. */
  test_tpm2_extend_pcr (swtpm->tcti, 7, 0x42);
  g_assert_cmpint (plugin_activate (f, 0, NULL, &params), <, 0);
  test_tpm2_flush_all_transient (swtpm->tcti);
  g_assert_cmpint (plugin_activate (f, 2, NULL, &params), ==, f->slot_unbound);
}

static void
test_luks_token (void)
{
  const char *onetime = "tpm2-test-one-time-key-000000000";
  g_autofree char *plugin = NULL;
  TokenFixture f = { 0 };
  void *vk = NULL;
  size_t vk_size = 0;
  int slot0;

  if (!need_swtpm ())
    return;
  if (getuid () != 0)
    {
      g_test_skip ("LUKS part needs root");
      return;
    }

  f.dir = test_make_tmpdir ();
  f.image = g_build_filename (f.dir, "disk.img", NULL);
  test_make_file (f.image, 32 * MiB);

  g_assert_cmpint (imprint_tpm2_open (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &f.t), ==, 0);
  g_assert_cmpint (imprint_luks_format (f.image, NULL, onetime, strlen (onetime), &f.cd, &slot0), ==, 0);
  g_assert_cmpint (imprint_luks_volume_key_get (f.cd, onetime, strlen (onetime), &vk, &vk_size, NULL), ==, 0);
  enroll_tokens (&f, vk, vk_size);
  imprint_secret_free (vk);
  g_assert_cmpint (imprint_luks_remove_keyslot (f.cd, slot0), ==, 0);

  {
    struct crypt_pbkdf_type pbkdf;
    g_assert_cmpint (crypt_keyslot_get_pbkdf (f.cd, f.slot, &pbkdf), ==, 0);
    g_assert_cmpstr (pbkdf.type, ==, CRYPT_KDF_PBKDF2);
    g_assert_cmpstr (pbkdf.hash, ==, "sha512");
    g_assert_cmpuint (pbkdf.iterations, ==, 1000);
  }

  crypt_free (f.cd);
  g_assert_cmpint (imprint_luks_open (f.image, &f.cd), ==, 0);
  check_tokens_unseal (&f);
  if (g_getenv ("IMPRINT_TEST_EXPORT_DIR"))
    export_for_plugins (&f, g_getenv ("IMPRINT_TEST_EXPORT_DIR"));

  /* Ours leave nothing behind. (252's plugin does leave transient
   * handles after failed attempts, so count before it runs.) */
  g_assert_cmpuint (test_tpm2_count_transient (swtpm->tcti), ==, 0);

  plugin = systemd_tpm2_plugin_path ();
  if (!plugin)
    g_test_message ("systemd's libcryptsetup-token-systemd-tpm2.so not installed: plugin check skipped");
  else
    check_with_systemd_plugin (&f, plugin);

  crypt_free (f.cd);
  EVP_PKEY_free (f.signing_key);
  imprint_tpm2_sealed_done (&f.s);
  imprint_tpm2_sealed_done (&f.sp);
  g_clear_pointer (&f.t, imprint_tpm2_close);
  test_rm_rf (f.dir);
  g_free (f.dir);
  g_free (f.image);
  g_free (f.signature);
  g_free (f.signature_file);
}

int
main (int argc, char *argv[])
{
  int r;

  g_test_init (&argc, &argv, NULL);

  swtpm = test_swtpm_start ();

  g_test_add_func ("/tpm2/luks-token", test_luks_token);

  r = g_test_run ();
  test_swtpm_stop (swtpm);
  return r;
}
