/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

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

static void
test_resolve_device (void)
{
  const ImprintTpm2DeviceFlags emu = IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR;
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
  char *x = NULL;

  g_assert_cmpint (imprint_tpm2_resolve_device ("/dev/tpmrm0", 0, &a), ==, 0);
  g_assert_cmpstr (a, ==, "device:/dev/tpmrm0");
  g_assert_cmpint (imprint_tpm2_resolve_device ("device:/dev/tpm12", 0, &d), ==, 0);
  g_assert_cmpstr (d, ==, "device:/dev/tpm12");
  g_assert_cmpint (imprint_tpm2_resolve_device ("swtpm:port=2321", emu, &b), ==, 0);
  g_assert_cmpstr (b, ==, "swtpm:port=2321");
  g_assert_cmpint (imprint_tpm2_resolve_device ("mssim:host=localhost,port=2321", emu, &c), ==, 0);
  g_assert_cmpstr (c, ==, "mssim:host=localhost,port=2321");
  g_assert_cmpint (imprint_tpm2_resolve_device ("tpmrm0", emu, &x), ==, -EINVAL);
  g_assert_cmpint (imprint_tpm2_resolve_device (":port=1", emu, &x), ==, -EINVAL);
  g_assert_cmpint (imprint_tpm2_resolve_device ("../evil:x", emu, &x), ==, -EINVAL);
  g_assert_cmpint (imprint_tpm2_resolve_device ("swtpm:port=2321", 0, &x), ==, -EPERM);
  g_assert_null (x);

  if (!g_file_test ("/sys/class/tpmrm/tpmrm0", G_FILE_TEST_EXISTS))
    g_assert_cmpint (imprint_tpm2_resolve_device ("auto", 0, &x), ==, -ENODEV);
}

/* What a caller may name: only the kernel's TPM nodes, emulators only with
 * the flag, and nothing the TCTI loader would run, write or dlopen(). */
static void
test_device_check (void)
{
  const ImprintTpm2DeviceFlags emu = IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR;
  static const char *const good[] = {
    "/dev/tpm0", "/dev/tpmrm0", "/dev/tpm1", "/dev/tpmrm17", "/dev/tpm99999",
    "device:/dev/tpm0", "device:/dev/tpmrm3",
  };
  static const char *const emulators[] = {
    "swtpm", "swtpm:", "swtpm:port=2321", "swtpm:host=127.0.0.1,port=2321",
    "mssim", "mssim:", "mssim:host=localhost,port=2321",
  };
  static const char *const bad[] = {
    "cmd:touch /tmp/x", "cmd:", "cmd", "CMD:touch /tmp/x", "cmd :x", " cmd:x",
    "cmd:tpm2_startup -c", "libtss2-tcti-cmd.so.0:touch /tmp/x",
    "/usr/lib/x86_64-linux-gnu/libtss2-tcti-cmd.so.0:true", "./evil.so:x",
    "device:/etc/passwd", "device:/tmp/x", "device:", "device:/dev/null", "device:tpm0",
    "device:/dev/tpm0/", "device:/dev/../dev/tpm0", "device:/dev//tpm0",
    "/etc/passwd", "/tmp/x", "/dev/null", "/dev/tpm", "/dev/tpmrm", "/dev/tpm00",
    "/dev/tpm01", "/dev/tpm0 ", "/dev/tpm0\n", "/dev/tpm-1", "/dev/tpm+1", "/dev/tpm0x1",
    "/dev/tpm123456", "/dev/tpmrm0/../null", "/dev/./tpm0", "//dev/tpm0", "/dev/tpms0",
    "/dev/fd/3", "/proc/self/fd/0", "tpm0", "dev/tpm0", "../dev/tpm0", "tpmrm0",
    "libtpms:/tmp/state", "pcap:device:/dev/tpm0", "tabrmd:", "tabrmd", "spi-helper:",
    "device", "swtpmx:port=1", "mssim2:", "swtp", "auto:", "AUTO", " auto", "default",
  };
  char *tcti = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *t = NULL;
      g_assert_cmpint (imprint_tpm2_device_check (good[i], 0, &t), ==, 0);
      g_assert_true (g_str_has_prefix (t, "device:/dev/tpm"));
      g_assert_cmpint (imprint_tpm2_device_check (good[i], emu, NULL), ==, 0);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (emulators); i++)
    {
      g_autofree char *t = NULL;
      g_assert_cmpint (imprint_tpm2_device_check (emulators[i], 0, &tcti), ==, -EPERM);
      g_assert_null (tcti);
      g_assert_cmpint (imprint_tpm2_device_check (emulators[i], emu, &t), ==, 0);
      g_assert_cmpstr (t, ==, emulators[i]);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("refused: “%s”", bad[i]);
      g_assert_cmpint (imprint_tpm2_device_check (bad[i], 0, &tcti), ==, -EINVAL);
      g_assert_cmpint (imprint_tpm2_device_check (bad[i], emu, &tcti), ==, -EINVAL);
      g_assert_null (tcti);
    }

  /* The system's TPM: no TCTI string yet, "auto" finds it. */
  tcti = (char *) "untouched";
  g_assert_cmpint (imprint_tpm2_device_check (NULL, 0, &tcti), ==, 0);
  g_assert_null (tcti);
  g_assert_cmpint (imprint_tpm2_device_check ("", 0, &tcti), ==, 0);
  g_assert_cmpint (imprint_tpm2_device_check ("auto", 0, &tcti), ==, 0);
  g_assert_null (tcti);
}

/* Opening refuses a node that is not the TPM sysfs knows, and never runs
 * or writes anything for a refused name. */
static void
test_open_refuses (void)
{
  g_autofree char *dir = g_dir_make_tmp ("imprint-tpm2-XXXXXX", NULL);
  g_autofree char *witness = g_build_filename (dir, "x", NULL);
  g_autofree char *cmd = g_strconcat ("cmd:touch ", witness, NULL);
  g_autofree char *dev = g_strconcat ("device:", witness, NULL);
  ImprintTpm2 *t = NULL;

  g_assert_cmpint (imprint_tpm2_open (cmd, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &t), ==, -EINVAL);
  g_assert_cmpint (imprint_tpm2_open (dev, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &t), ==, -EINVAL);
  g_assert_cmpint (imprint_tpm2_open (witness, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &t), ==, -EINVAL);
  g_assert_cmpint (imprint_tpm2_open ("swtpm:host=127.0.0.1,port=9", 0, &t), ==, -EPERM);
  g_assert_null (t);
  g_assert_false (g_file_test (witness, G_FILE_TEST_EXISTS));

  /* A name that passes the text check but is no TPM here. */
  if (!g_file_test ("/sys/class/tpm/tpm9999", G_FILE_TEST_EXISTS))
    g_assert_cmpint (imprint_tpm2_open ("/dev/tpm9999", 0, &t), ==, -ENODEV);
  g_assert_null (t);
  g_rmdir (dir);
}

static void
test_pcr_list (void)
{
  uint32_t m = 1;

  g_assert_cmpint (imprint_tpm2_parse_pcr_list ("7", &m), ==, 0);
  g_assert_cmpuint (m, ==, 1u << 7);
  g_assert_cmpint (imprint_tpm2_parse_pcr_list ("0,2+7", &m), ==, 0);
  g_assert_cmpuint (m, ==, (1u << 0) | (1u << 2) | (1u << 7));
  g_assert_cmpint (imprint_tpm2_parse_pcr_list ("", &m), ==, 0);
  g_assert_cmpuint (m, ==, 0);
  g_assert_cmpint (imprint_tpm2_parse_pcr_list ("24", &m), ==, -EINVAL);
  g_assert_cmpint (imprint_tpm2_parse_pcr_list ("7,,8", &m), ==, -EINVAL);
  g_assert_cmpint (imprint_tpm2_parse_pcr_list ("x", &m), ==, -EINVAL);
}

static void
test_info (void)
{
  g_autoptr (ImprintTpm2) t = NULL;
  ImprintTpm2Info info;
  uint16_t bank = 0;
  bool have_sha256 = false;

  if (!need_swtpm ())
    return;

  g_assert_cmpint (imprint_tpm2_open (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &t), ==, 0);
  g_assert_cmpstr (imprint_tpm2_get_tcti (t), ==, swtpm->tcti);
  g_assert_cmpint (imprint_tpm2_get_info (t, &info), ==, 0);
  g_test_message ("manufacturer '%s' vendor '%s' firmware %s lockout %d (%u/%u)",
                  info.manufacturer, info.vendor, info.firmware_version,
                  info.in_lockout, info.lockout_counter, info.max_auth_fail);
  g_assert_cmpstr (info.manufacturer, ==, "IBM"); /* libtpms */
  g_assert_false (info.in_lockout);
  g_assert_cmpuint (info.n_banks, >, 0);
  for (size_t i = 0; i < info.n_banks; i++)
    {
      g_test_message ("bank %s: 0x%06x", imprint_tpm2_hash_alg_to_string (info.banks[i].alg), info.banks[i].pcr_mask);
      if (info.banks[i].alg == TPM2_ALG_SHA256 && (info.banks[i].pcr_mask & (1u << 7)))
        have_sha256 = true;
    }
  g_assert_true (have_sha256);
  g_assert_cmpint (imprint_tpm2_pick_bank (&info, 1u << 7, &bank), ==, 0);
  g_assert_cmpuint (bank, ==, TPM2_ALG_SHA256);
  imprint_tpm2_info_done (&info);
}

static void
test_pick_bank (void)
{
  ImprintTpm2Info info = {
    .banks = { { TPM2_ALG_SHA1, 0xffffff }, { TPM2_ALG_SHA256, 0 } },
    .n_banks = 2,
  };
  uint16_t bank = 0;

  g_assert_cmpint (imprint_tpm2_pick_bank (&info, 1u << 7, &bank), ==, 0);
  g_assert_cmpuint (bank, ==, TPM2_ALG_SHA1);
  info.banks[1].pcr_mask = 0xffffff;
  g_assert_cmpint (imprint_tpm2_pick_bank (&info, 1u << 7, &bank), ==, 0);
  g_assert_cmpuint (bank, ==, TPM2_ALG_SHA256);
  info.n_banks = 0;
  g_assert_cmpint (imprint_tpm2_pick_bank (&info, 1u << 7, &bank), ==, -EOPNOTSUPP);
}

static void
check_token_fields (JsonObject *o, const ImprintTpm2Sealed *s)
{
  static const char *const expected[] = {
    "type", "tpm2-blob", "tpm2-pcrs", "tpm2-pcr-bank", "tpm2-primary-alg", "tpm2-policy-hash", "tpm2-pin",
  };
  g_autoptr (GList) members = json_object_get_members (o);
  g_autofree guchar *blob = NULL;
  g_autoptr (GString) hex = g_string_new (NULL);
  gsize blob_size;
  JsonArray *pcrs;

  /* Exactly the fields systemd 252 reads: nothing 253+ only. */
  g_assert_cmpuint (g_list_length (members), ==, G_N_ELEMENTS (expected));
  for (size_t i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_true (json_object_has_member (o, expected[i]));

  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "systemd-tpm2");
  blob = g_base64_decode (json_object_get_string_member (o, "tpm2-blob"), &blob_size);
  g_assert_cmpmem (blob, blob_size, s->blob, s->blob_size);
  pcrs = json_object_get_array_member (o, "tpm2-pcrs");
  g_assert_cmpuint (json_array_get_length (pcrs), ==, 1);
  g_assert_cmpint (json_array_get_int_element (pcrs, 0), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (o, "tpm2-pcr-bank"), ==, "sha256");
  g_assert_cmpstr (json_object_get_string_member (o, "tpm2-primary-alg"), ==, "ecc");
  for (size_t i = 0; i < s->policy_hash_size; i++)
    g_string_append_printf (hex, "%02x", s->policy_hash[i]);
  g_assert_cmpstr (json_object_get_string_member (o, "tpm2-policy-hash"), ==, hex->str);
  g_assert_cmpuint (strlen (hex->str), ==, 64);
  g_assert_cmpint (json_object_get_boolean_member (o, "tpm2-pin"), ==, s->pin);
}

static void
test_seal_unseal (void)
{
  g_autoptr (ImprintTpm2) t = NULL;
  g_autoptr (JsonObject) token = NULL;
  ImprintTpm2Sealed s = { 0 }, parsed = { 0 };
  uint8_t trial[TPM2_SHA256_DIGEST_SIZE];
  _cleanup_secret_ char *pass = NULL;
  void *secret = NULL;
  size_t secret_size = 0;

  if (!need_swtpm ())
    return;

  g_assert_cmpint (imprint_tpm2_open (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &t), ==, 0);
  g_assert_cmpint (imprint_tpm2_seal (t, IMPRINT_TPM2_DEFAULT_PCR_MASK, 0, NULL, &s), ==, 0);
  g_assert_cmpuint (s.pcr_bank, ==, TPM2_ALG_SHA256);
  g_assert_cmpuint (s.primary_alg, ==, TPM2_ALG_ECC);
  g_assert_cmpuint (s.secret_size, ==, 32);
  g_assert_false (s.pin);

  /* The token's policy hash is what a trial session computes. */
  g_assert_cmpint (imprint_tpm2_calculate_policy (t, 1u << 7, TPM2_ALG_SHA256, false, trial), ==, 0);
  g_assert_cmpmem (trial, sizeof (trial), s.policy_hash, s.policy_hash_size);

  token = imprint_tpm2_token_new (&s);
  check_token_fields (token, &s);

  g_assert_cmpint (imprint_tpm2_secret_to_passphrase (s.secret, s.secret_size, &pass), ==, 0);
  g_assert_cmpuint (strlen (pass), ==, 44);

  /* Round trip through the JSON, as at boot. */
  g_assert_cmpint (imprint_tpm2_token_parse (token, &parsed), ==, 0);
  g_assert_cmpint (imprint_tpm2_unseal (t, &parsed, NULL, &secret, &secret_size), ==, 0);
  g_assert_cmpmem (secret, secret_size, s.secret, s.secret_size);
  imprint_secret_free (secret);
  secret = NULL;

  g_assert_cmpuint (test_tpm2_count_transient (swtpm->tcti), ==, 0);

  /* A changed PCR 7 refuses. */
  test_tpm2_extend_pcr (swtpm->tcti, 7, 0x42);
  g_assert_cmpint (imprint_tpm2_unseal (t, &parsed, NULL, &secret, &secret_size), ==, -ESTALE);
  g_assert_null (secret);

  /* Without the early digest check, the TPM itself refuses. */
  parsed.policy_hash_size = 0;
  g_assert_cmpint (imprint_tpm2_unseal (t, &parsed, NULL, &secret, &secret_size), <, 0);
  g_assert_null (secret);

  g_assert_cmpuint (test_tpm2_count_transient (swtpm->tcti), ==, 0);

  imprint_tpm2_sealed_done (&parsed);
  imprint_tpm2_sealed_done (&s);
}

static void
test_pin (void)
{
  g_autoptr (ImprintTpm2) t = NULL;
  g_autoptr (JsonObject) token = NULL;
  ImprintTpm2Sealed s = { 0 };
  uint8_t trial[TPM2_SHA256_DIGEST_SIZE];
  void *secret = NULL;
  size_t secret_size = 0;

  if (!need_swtpm ())
    return;

  g_assert_cmpint (imprint_tpm2_open (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &t), ==, 0);
  g_assert_cmpint (imprint_tpm2_seal (t, 1u << 7, TPM2_ALG_SHA256, "123456", &s), ==, 0);
  g_assert_true (s.pin);
  g_assert_cmpint (imprint_tpm2_calculate_policy (t, 1u << 7, TPM2_ALG_SHA256, true, trial), ==, 0);
  g_assert_cmpmem (trial, sizeof (trial), s.policy_hash, s.policy_hash_size);
  token = imprint_tpm2_token_new (&s);
  g_assert_true (json_object_get_boolean_member (token, "tpm2-pin"));

  g_assert_cmpint (imprint_tpm2_unseal (t, &s, NULL, &secret, &secret_size), ==, -ENOANO);
  g_assert_cmpint (imprint_tpm2_unseal (t, &s, "654321", &secret, &secret_size), ==, -EPERM);
  g_assert_null (secret);
  g_assert_cmpint (imprint_tpm2_unseal (t, &s, "123456", &secret, &secret_size), ==, 0);
  g_assert_cmpmem (secret, secret_size, s.secret, s.secret_size);
  imprint_secret_free (secret);

  g_assert_cmpuint (test_tpm2_count_transient (swtpm->tcti), ==, 0);
  imprint_tpm2_sealed_done (&s);
}

static void
test_signed_policy (void)
{
  g_autoptr (ImprintTpm2) t = NULL;
  g_autoptr (JsonObject) token = NULL;
  g_autofree char *pem = NULL, *sig1 = NULL, *sig2 = NULL, *other_pem = NULL, *other_sig = NULL;
  ImprintTpm2Sealed s = { 0 }, parsed = { 0 };
  EVP_PKEY *pk, *other;
  void *secret = NULL;
  size_t secret_size = 0;

  if (!need_swtpm ())
    return;

  pk = make_signing_key (&pem);
  other = make_signing_key (&other_pem);
  g_assert_cmpint (imprint_tpm2_open (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &t), ==, 0);

  const ImprintTpm2SealParams params = { .pcr_mask = 1u << 7, .pubkey_pem = pem };
  g_assert_cmpint (imprint_tpm2_seal_full (t, &params, &s), ==, 0);
  g_assert_cmpuint (s.pubkey_pcr_mask, ==, 1u << 11);

  token = imprint_tpm2_token_new (&s);
  {
    g_autofree guchar *pem_back = NULL;
    gsize n = 0;
    JsonArray *a = json_object_get_array_member (token, "tpm2_pubkey_pcrs");

    g_assert_cmpuint (json_array_get_length (a), ==, 1);
    g_assert_cmpint (json_array_get_int_element (a, 0), ==, 11);
    pem_back = g_base64_decode (json_object_get_string_member (token, "tpm2_pubkey"), &n);
    g_assert_cmpmem (pem_back, n, pem, strlen (pem));
    g_assert_cmpuint (json_object_get_size (token), ==, 9);
  }
  g_assert_cmpint (imprint_tpm2_token_parse (token, &parsed), ==, 0);
  g_assert_cmpstr (parsed.pubkey_pem, ==, pem);
  g_assert_cmpuint (parsed.pubkey_pcr_mask, ==, 1u << 11);

  /* No signature, or one by another key: refused. */
  g_assert_cmpint (imprint_tpm2_unseal (t, &parsed, NULL, &secret, &secret_size), ==, -ENXIO);
  other_sig = make_signature_json (t, other, 1u << 11);
  g_assert_cmpint (imprint_tpm2_unseal_full (t, &parsed, NULL, other_sig, &secret, &secret_size), ==, -ENXIO);
  g_assert_null (secret);

  sig1 = make_signature_json (t, pk, 1u << 11);
  g_assert_cmpint (imprint_tpm2_unseal_full (t, &parsed, NULL, sig1, &secret, &secret_size), ==, 0);
  g_assert_cmpmem (secret, secret_size, s.secret, s.secret_size);
  imprint_secret_free (secret);
  secret = NULL;

  /* A new UKI measures differently into PCR 11: the old signature no
   * longer fits, a signature of the new value does, no re-seal needed. */
  test_tpm2_extend_pcr (swtpm->tcti, 11, 0x42);
  g_assert_cmpint (imprint_tpm2_unseal_full (t, &parsed, NULL, sig1, &secret, &secret_size), ==, -ENXIO);
  sig2 = make_signature_json (t, pk, 1u << 11);
  g_assert_cmpint (imprint_tpm2_unseal_full (t, &parsed, NULL, sig2, &secret, &secret_size), ==, 0);
  g_assert_cmpmem (secret, secret_size, s.secret, s.secret_size);
  imprint_secret_free (secret);

  g_assert_cmpuint (test_tpm2_count_transient (swtpm->tcti), ==, 0);
  imprint_tpm2_sealed_done (&parsed);
  imprint_tpm2_sealed_done (&s);
  EVP_PKEY_free (pk);
  EVP_PKEY_free (other);
}

static void
test_token_parse_refuses_newer (void)
{
  g_autoptr (JsonObject) o = json_object_new ();
  ImprintTpm2Sealed s = { 0 };

  json_object_set_string_member (o, "type", "systemd-tpm2");
  g_assert_cmpint (imprint_tpm2_token_parse (o, &s), ==, -EBADMSG);
  json_object_set_string_member (o, "tpm2_srk", "AAAA");
  g_assert_cmpint (imprint_tpm2_token_parse (o, &s), ==, -EOPNOTSUPP);
}

/* The keyslot passphrase is standard base64 (what systemd writes), made
 * straight in secret memory: every length, every padding case. */
static void
test_secret_to_passphrase (void)
{
  uint8_t bytes[70];
  char *pass = NULL;

  for (size_t i = 0; i < sizeof bytes; i++)
    bytes[i] = (uint8_t) (i * 37 + 11);
  for (size_t n = 1; n <= sizeof bytes; n++)
    {
      g_autofree char *expected = g_base64_encode (bytes, n);

      g_assert_cmpint (imprint_tpm2_secret_to_passphrase (bytes, n, &pass), ==, 0);
      g_assert_cmpstr (pass, ==, expected);
      /* secret memory: imprint_secret_size() stops the process otherwise */
      g_assert_cmpuint (imprint_secret_size (pass), >, strlen (pass));
      imprint_secret_free (g_steal_pointer (&pass));
    }
  g_assert_cmpint (imprint_tpm2_secret_to_passphrase (bytes, 0, &pass), ==, -EINVAL);
  g_assert_cmpint (imprint_tpm2_secret_to_passphrase (NULL, 4, &pass), ==, -EINVAL);
  g_assert_null (pass);
}

int
main (int argc, char *argv[])
{
  int r;

  g_test_init (&argc, &argv, NULL);

  swtpm = test_swtpm_start ();

  g_test_add_func ("/tpm2/resolve-device", test_resolve_device);
  g_test_add_func ("/tpm2/secret-to-passphrase", test_secret_to_passphrase);
  g_test_add_func ("/tpm2/device-check", test_device_check);
  g_test_add_func ("/tpm2/open-refuses", test_open_refuses);
  g_test_add_func ("/tpm2/pcr-list", test_pcr_list);
  g_test_add_func ("/tpm2/pick-bank", test_pick_bank);
  g_test_add_func ("/tpm2/token-parse-refuses-newer", test_token_parse_refuses_newer);
  g_test_add_func ("/tpm2/info", test_info);
  g_test_add_func ("/tpm2/seal-unseal", test_seal_unseal);
  g_test_add_func ("/tpm2/pin", test_pin);
  g_test_add_func ("/tpm2/signed-policy", test_signed_policy);

  r = g_test_run ();
  test_swtpm_stop (swtpm);
  return r;
}
