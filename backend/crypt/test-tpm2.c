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

/* Extends a PCR in the SHA-256 bank, the way firmware would on a change
 * of the Secure Boot state. */
static void
extend_pcr (unsigned pcr)
{
  TSS2_TCTI_CONTEXT *tcti = NULL;
  ESYS_CONTEXT *esys = NULL;
  TPML_DIGEST_VALUES digests = {
    .count = 1,
    .digests[0] = { .hashAlg = TPM2_ALG_SHA256 },
  };

  memset (digests.digests[0].digest.sha256, 0x42, TPM2_SHA256_DIGEST_SIZE);
  g_assert_cmpuint (Tss2_TctiLdr_Initialize (swtpm->tcti, &tcti), ==, TSS2_RC_SUCCESS);
  g_assert_cmpuint (Esys_Initialize (&esys, tcti, NULL), ==, TSS2_RC_SUCCESS);
  g_assert_cmpuint (Esys_PCR_Extend (esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                     &digests), ==, TSS2_RC_SUCCESS);
  Esys_Finalize (&esys);
  Tss2_TctiLdr_Finalize (&tcti);
}

/* Transient objects left behind would fill the TPM (no resource manager
 * in front of swtpm): count them. */
static guint
count_transient (void)
{
  g_autoptr (ImprintTpm2) t = NULL;
  TSS2_TCTI_CONTEXT *tcti = NULL;
  ESYS_CONTEXT *esys = NULL;
  TPMS_CAPABILITY_DATA *cap = NULL, *cap2 = NULL;
  TPMI_YES_NO more;
  guint n;

  g_assert_cmpuint (Tss2_TctiLdr_Initialize (swtpm->tcti, &tcti), ==, TSS2_RC_SUCCESS);
  g_assert_cmpuint (Esys_Initialize (&esys, tcti, NULL), ==, TSS2_RC_SUCCESS);
  g_assert_cmpuint (Esys_GetCapability (esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                        UINT32_C (0x80000000) /* TPM2_TRANSIENT_FIRST: its macro overflows int */, 64, &more, &cap), ==, TSS2_RC_SUCCESS);
  g_assert_cmpuint (Esys_GetCapability (esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                        UINT32_C (0x02000000), 64, &more, &cap2), ==, TSS2_RC_SUCCESS);
  n = cap->data.handles.count + cap2->data.handles.count;
  Esys_Free (cap);
  Esys_Free (cap2);
  Esys_Finalize (&esys);
  Tss2_TctiLdr_Finalize (&tcti);
  return n;
}

/* systemd 252's plugin leaves sessions and objects loaded after failed
 * attempts; with no resource manager they would make later commands fail
 * for the wrong reason (TPM_RC_SESSION_MEMORY). */
static void
flush_all_transient (void)
{
  static const TPM2_HANDLE ranges[] = { UINT32_C (0x80000000) /* TPM2_TRANSIENT_FIRST: its macro overflows int */, UINT32_C (0x02000000) };
  TSS2_TCTI_CONTEXT *tcti = NULL;
  ESYS_CONTEXT *esys = NULL;

  g_assert_cmpuint (Tss2_TctiLdr_Initialize (swtpm->tcti, &tcti), ==, TSS2_RC_SUCCESS);
  g_assert_cmpuint (Esys_Initialize (&esys, tcti, NULL), ==, TSS2_RC_SUCCESS);
  for (size_t r = 0; r < G_N_ELEMENTS (ranges); r++)
    {
      TPMS_CAPABILITY_DATA *cap = NULL;
      TPMI_YES_NO more;

      g_assert_cmpuint (Esys_GetCapability (esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                            ranges[r], 64, &more, &cap), ==, TSS2_RC_SUCCESS);
      for (uint32_t i = 0; i < cap->data.handles.count; i++)
        {
          ESYS_TR h = ESYS_TR_NONE;
          if (Esys_TR_FromTPMPublic (esys, cap->data.handles.handle[i], ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, &h) == TSS2_RC_SUCCESS)
            (void) Esys_FlushContext (esys, h);
        }
      Esys_Free (cap);
    }
  Esys_Finalize (&esys);
  Tss2_TctiLdr_Finalize (&tcti);
}

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

  g_assert_cmpuint (count_transient (), ==, 0);

  /* A changed PCR 7 refuses. */
  extend_pcr (7);
  g_assert_cmpint (imprint_tpm2_unseal (t, &parsed, NULL, &secret, &secret_size), ==, -ESTALE);
  g_assert_null (secret);

  /* Without the early digest check, the TPM itself refuses. */
  parsed.policy_hash_size = 0;
  g_assert_cmpint (imprint_tpm2_unseal (t, &parsed, NULL, &secret, &secret_size), <, 0);
  g_assert_null (secret);

  g_assert_cmpuint (count_transient (), ==, 0);

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

  g_assert_cmpuint (count_transient (), ==, 0);
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
  extend_pcr (11);
  g_assert_cmpint (imprint_tpm2_unseal_full (t, &parsed, NULL, sig1, &secret, &secret_size), ==, -ENXIO);
  sig2 = make_signature_json (t, pk, 1u << 11);
  g_assert_cmpint (imprint_tpm2_unseal_full (t, &parsed, NULL, sig2, &secret, &secret_size), ==, 0);
  g_assert_cmpmem (secret, secret_size, s.secret, s.secret_size);
  imprint_secret_free (secret);

  g_assert_cmpuint (count_transient (), ==, 0);
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

static void
test_luks_token (void)
{
  g_autofree char *dir = NULL, *image = NULL, *plugin = NULL;
  g_autoptr (ImprintTpm2) t = NULL;
  g_autoptr (JsonObject) token = NULL, token_pin = NULL;
  struct crypt_device *cd = NULL;
  ImprintTpm2Sealed s = { 0 }, sp = { 0 };
  _cleanup_secret_ char *pass = NULL, *pass_pin = NULL;
  const char *onetime = "tpm2-test-one-time-key-000000000";
  void *vk = NULL;
  size_t vk_size = 0;
  int slot0, slot, slot_pin, slot_unbound, slot_384, slot_signed, tok, r;
  EVP_PKEY *signing_key = NULL;
  g_autofree char *signing_pem = NULL, *signature = NULL, *signature_file = NULL;

  if (!need_swtpm ())
    return;
  if (getuid () != 0)
    {
      g_test_skip ("LUKS part needs root");
      return;
    }

  dir = test_make_tmpdir ();
  image = g_build_filename (dir, "disk.img", NULL);
  test_make_file (image, 32 * MiB);

  g_assert_cmpint (imprint_tpm2_open (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &t), ==, 0);
  g_assert_cmpint (imprint_luks_format (image, NULL, onetime, strlen (onetime), &cd, &slot0), ==, 0);
  g_assert_cmpint (imprint_luks_volume_key_get (cd, onetime, strlen (onetime), &vk, &vk_size, NULL), ==, 0);

  g_assert_cmpint (imprint_tpm2_seal (t, 1u << 7, 0, NULL, &s), ==, 0);
  g_assert_cmpint (imprint_tpm2_secret_to_passphrase (s.secret, s.secret_size, &pass), ==, 0);
  token = imprint_tpm2_token_new (&s);
  /* With systemd's plugin installed, libcryptsetup validates the token
   * through the plugin's own validator here. */
  g_assert_cmpint (imprint_luks_enroll (cd, vk, vk_size, pass, strlen (pass), IMPRINT_LUKS_PBKDF_MINIMAL, NULL,
                                        token, &slot, &tok), ==, 0);

  g_assert_cmpint (imprint_tpm2_seal (t, 1u << 7, 0, "2468", &sp), ==, 0);
  g_assert_cmpint (imprint_tpm2_secret_to_passphrase (sp.secret, sp.secret_size, &pass_pin), ==, 0);
  token_pin = imprint_tpm2_token_new (&sp);
  g_assert_cmpint (imprint_luks_enroll (cd, vk, vk_size, pass_pin, strlen (pass_pin), IMPRINT_LUKS_PBKDF_MINIMAL, NULL,
                                        token_pin, &slot_pin, NULL), ==, 0);
  /* Token 2: bound to no PCR at all (tpm2-pcrs []); token 3: PCRs 0 and 7
   * on the SHA-384 bank, under the RSA-2048 legacy primary (the fallback
   * for TPMs without ECC P-256). */
  {
    ImprintTpm2Sealed su = { 0 }, s384 = { 0 };
    g_autoptr (JsonObject) tu = NULL, t384 = NULL;
    _cleanup_secret_ char *pu = NULL, *pass384 = NULL;

    g_assert_cmpint (imprint_tpm2_seal (t, 0, 0, NULL, &su), ==, 0);
    g_assert_cmpint (imprint_tpm2_secret_to_passphrase (su.secret, su.secret_size, &pu), ==, 0);
    tu = imprint_tpm2_token_new (&su);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (tu, "tpm2-pcrs")), ==, 0);
    g_assert_cmpint (imprint_luks_enroll (cd, vk, vk_size, pu, strlen (pu), IMPRINT_LUKS_PBKDF_MINIMAL, NULL,
                                          tu, &slot_unbound, NULL), ==, 0);

    const ImprintTpm2SealParams p384 = {
      .pcr_mask = (1u << 0) | (1u << 7),
      .pcr_bank = TPM2_ALG_SHA384,
      .primary_alg = TPM2_ALG_RSA,
    };
    g_assert_cmpint (imprint_tpm2_seal_full (t, &p384, &s384), ==, 0);
    g_assert_cmpuint (s384.primary_alg, ==, TPM2_ALG_RSA);
    g_assert_cmpint (imprint_tpm2_secret_to_passphrase (s384.secret, s384.secret_size, &pass384), ==, 0);
    t384 = imprint_tpm2_token_new (&s384);
    g_assert_cmpstr (json_object_get_string_member (t384, "tpm2-pcr-bank"), ==, "sha384");
    g_assert_cmpstr (json_object_get_string_member (t384, "tpm2-primary-alg"), ==, "rsa");
    g_assert_cmpint (imprint_luks_enroll (cd, vk, vk_size, pass384, strlen (pass384), IMPRINT_LUKS_PBKDF_MINIMAL, NULL,
                                          t384, &slot_384, NULL), ==, 0);
    imprint_tpm2_sealed_done (&su);
    imprint_tpm2_sealed_done (&s384);
  }

  /* Token 4: PCR 7 plus a signed PCR 11 policy (UKI .pcrpkey/.pcrsig). */
  {
    ImprintTpm2Sealed ss = { 0 };
    g_autoptr (JsonObject) ts = NULL;
    _cleanup_secret_ char *ps = NULL;

    signing_key = make_signing_key (&signing_pem);
    const ImprintTpm2SealParams sp_params = { .pcr_mask = 1u << 7, .pubkey_pem = signing_pem };
    g_assert_cmpint (imprint_tpm2_seal_full (t, &sp_params, &ss), ==, 0);
    g_assert_cmpint (imprint_tpm2_secret_to_passphrase (ss.secret, ss.secret_size, &ps), ==, 0);
    ts = imprint_tpm2_token_new (&ss);
    g_assert_cmpint (imprint_luks_enroll (cd, vk, vk_size, ps, strlen (ps), IMPRINT_LUKS_PBKDF_MINIMAL, NULL,
                                          ts, &slot_signed, NULL), ==, 0);
    signature = make_signature_json (t, signing_key, 1u << 11);
    signature_file = g_build_filename (dir, "tpm2-pcr-signature.json", NULL);
    g_assert_true (g_file_set_contents (signature_file, signature, -1, NULL));
    imprint_tpm2_sealed_done (&ss);
  }

  imprint_secret_free (vk);
  g_assert_cmpint (imprint_luks_remove_keyslot (cd, slot0), ==, 0);

  {
    struct crypt_pbkdf_type pbkdf;
    g_assert_cmpint (crypt_keyslot_get_pbkdf (cd, slot, &pbkdf), ==, 0);
    g_assert_cmpstr (pbkdf.type, ==, CRYPT_KDF_PBKDF2);
    g_assert_cmpstr (pbkdf.hash, ==, "sha512");
    g_assert_cmpuint (pbkdf.iterations, ==, 1000);
  }

  crypt_free (cd);
  g_assert_cmpint (imprint_luks_open (image, &cd), ==, 0);

  /* The keyslot takes the base64 of what the TPM unseals. */
  {
    ImprintLuksToken *tokens = NULL;
    size_t n = 0;
    guint seen = 0;

    g_assert_cmpint (imprint_luks_list_tokens (cd, &tokens, &n), ==, 0);
    for (size_t i = 0; i < n; i++)
      {
        g_autoptr (JsonNode) node = json_from_string (tokens[i].json, NULL);
        ImprintTpm2Sealed p = { 0 };
        _cleanup_secret_ char *pw = NULL;
        bool pin = false;
        void *sec = NULL;
        size_t sec_size = 0;
        int ks = -1;

        g_assert_cmpstr (tokens[i].type, ==, "systemd-tpm2");
        g_assert_cmpuint (tokens[i].n_keyslots, ==, 1);
        g_assert_cmpint (imprint_tpm2_token_parse (json_node_get_object (node), &p), ==, 0);
        pin = p.pin;
        g_assert_cmpint (imprint_tpm2_unseal_full (t, &p, pin ? "2468" : NULL, signature, &sec, &sec_size), ==, 0);
        g_assert_cmpint (imprint_tpm2_secret_to_passphrase (sec, sec_size, &pw), ==, 0);
        g_assert_cmpint (imprint_luks_check_passphrase (cd, pw, strlen (pw), &ks), ==, 0);
        g_assert_cmpint (ks, ==, tokens[i].keyslots[0]);
        {
          const int expected[] = { slot, slot_pin, slot_unbound, slot_384, slot_signed };
          g_assert_cmpint (tokens[i].id, <, 5);
          g_assert_cmpint (ks, ==, expected[tokens[i].id]);
        }
        imprint_secret_free (sec);
        imprint_tpm2_sealed_done (&p);
        seen++;
      }
    g_assert_cmpuint (seen, ==, 5);
    imprint_luks_tokens_free (tokens, n);
  }

  /* For checking the same tokens with other systemd versions' plugins
   * (tools/check-tpm2-token-plugin.sh): keep the image and the TPM's
   * state (its seeds; PCRs start from zero again when swtpm restarts,
   * matching a seal made on a fresh swtpm). */
  if (g_getenv ("IMPRINT_TEST_EXPORT_DIR"))
    {
      const char *out = g_getenv ("IMPRINT_TEST_EXPORT_DIR");
      g_autofree char *state = g_build_filename (swtpm->state_dir, "tpm2-00.permall", NULL);
      g_autofree char *state_out = g_build_filename (out, "tpm2-00.permall", NULL);
      g_autofree char *image_out = g_build_filename (out, "disk.img", NULL);
      g_autofree char *cmd = NULL;

      cmd = g_strdup_printf ("cp --sparse=always '%s' '%s'", image, image_out);
      g_assert_cmpint (system (cmd), ==, 0);
      g_clear_pointer (&cmd, g_free);
      cmd = g_strdup_printf ("cp '%s' '%s'", state, state_out);
      g_assert_cmpint (system (cmd), ==, 0);
      g_clear_pointer (&cmd, g_free);
      cmd = g_strdup_printf ("cp '%s' '%s'", signature_file, out);
      g_assert_cmpint (system (cmd), ==, 0);
    }

  /* Ours leave nothing behind. (252's plugin does leave transient
   * handles after failed attempts, so count before it runs.) */
  g_assert_cmpuint (count_transient (), ==, 0);

  /* The strongest proof on this host: systemd's own token plugin (the
   * installed systemd-cryptsetup's) opens the volume from our token,
   * talking to the same swtpm. */
  plugin = systemd_tpm2_plugin_path ();
  if (!plugin)
    g_test_message ("systemd's libcryptsetup-token-systemd-tpm2.so not installed: plugin check skipped");
  else
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
       * own (/sys/class/tpmrm): -EAGAIN "hardware missing" proves it took
       * the token as its own. Where a real TPM exists, skip this. */
      if (!g_file_test ("/sys/class/tpmrm/tpmrm0", G_FILE_TEST_EXISTS))
        {
          r = crypt_activate_by_token_pin (cd, NULL, NULL, CRYPT_ANY_TOKEN, NULL, 0, &params, 0);
          g_assert_cmpint (r, ==, -EAGAIN);
        }

      /* Without PIN: only the PIN-less token can open. */
      r = crypt_activate_by_token_pin (cd, NULL, "systemd-tpm2", CRYPT_ANY_TOKEN, NULL, 0, &params, 0);
      g_assert_cmpint (r, ==, slot);
      /* The PIN token asks for its PIN (-ENOANO), as at boot... */
      r = crypt_activate_by_token_pin (cd, NULL, "systemd-tpm2", 1, NULL, 0, &params, 0);
      g_assert_cmpint (r, ==, -ENOANO);
      /* ...and opens with it. (systemd-cryptsetup never passes a PIN to a
       * token that has none: 252's plugin fails such a call.) */
      r = crypt_activate_by_token_pin (cd, NULL, "systemd-tpm2", 1, "2468", 4, &params, 0);
      g_assert_cmpint (r, ==, slot_pin);
      r = crypt_activate_by_token_pin (cd, NULL, "systemd-tpm2", 1, "0000", 4, &params, 0);
      g_assert_cmpint (r, <, 0);
      flush_all_transient ();

      /* Still opens right before the PCR changes: what follows fails for
       * the PCR, not for a TPM left in a bad state. */
      r = crypt_activate_by_token_pin (cd, NULL, "systemd-tpm2", 0, NULL, 0, &params, 0);
      g_assert_cmpint (r, ==, slot);
      flush_all_transient ();

      r = crypt_activate_by_token_pin (cd, NULL, "systemd-tpm2", 2, NULL, 0, &params, 0);
      g_assert_cmpint (r, ==, slot_unbound);
      flush_all_transient ();
      r = crypt_activate_by_token_pin (cd, NULL, "systemd-tpm2", 3, NULL, 0, &params, 0);
      g_assert_cmpint (r, ==, slot_384);
      flush_all_transient ();

      /* The signed PCR 11 policy: the plugin reads the signature file. */
      {
        SystemdTpm2PluginParams sparams = params;

        sparams.signature_path = signature_file;
        r = crypt_activate_by_token_pin (cd, NULL, "systemd-tpm2", 4, NULL, 0, &sparams, 0);
        g_assert_cmpint (r, ==, slot_signed);
        flush_all_transient ();

        /* Without a signature for the current PCR 11: refused; with a new
         * one: opens again. */
        extend_pcr (11);
        r = crypt_activate_by_token_pin (cd, NULL, "systemd-tpm2", 4, NULL, 0, &sparams, 0);
        g_assert_cmpint (r, <, 0);
        flush_all_transient ();
        g_free (signature);
        signature = make_signature_json (t, signing_key, 1u << 11);
        g_assert_true (g_file_set_contents (signature_file, signature, -1, NULL));
        r = crypt_activate_by_token_pin (cd, NULL, "systemd-tpm2", 4, NULL, 0, &sparams, 0);
        g_assert_cmpint (r, ==, slot_signed);
        flush_all_transient ();
      }

      /* After the PCR moves, the plugin refuses too; the unbound token
       * still opens. */
      extend_pcr (7);
      r = crypt_activate_by_token_pin (cd, NULL, "systemd-tpm2", 0, NULL, 0, &params, 0);
      g_assert_cmpint (r, <, 0);
      flush_all_transient ();
      r = crypt_activate_by_token_pin (cd, NULL, "systemd-tpm2", 2, NULL, 0, &params, 0);
      g_assert_cmpint (r, ==, slot_unbound);
    }

  crypt_free (cd);
  EVP_PKEY_free (signing_key);
  imprint_tpm2_sealed_done (&s);
  imprint_tpm2_sealed_done (&sp);
  test_rm_rf (dir);
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
  g_test_add_func ("/tpm2/luks-token", test_luks_token);

  r = g_test_run ();
  test_swtpm_stop (swtpm);
  return r;
}
