/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>

#include "security-caps.h"
#include "test-crypt-util.h"

#define EFI_GLOBAL_GUID "8be4df61-93ca-11d2-aa0d-00e098032b8c"
#define LOADER_GUID "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"

static void
write_efivar (const char *dir, const char *name, const char *guid, const void *data, gsize size)
{
  g_autofree char *path = g_strdup_printf ("%s/%s-%s", dir, name, guid);
  g_autofree guint8 *buf = g_malloc0 (size + 4);

  buf[0] = 0x06; /* BOOTSERVICE_ACCESS | RUNTIME_ACCESS */
  memcpy (buf + 4, data, size);
  g_assert_true (g_file_set_contents (path, (const char *) buf, (gssize) (size + 4), NULL));
}

static void
write_efivar_string (const char *dir, const char *name, const char *value)
{
  glong n = 0;
  g_autofree gunichar2 *u = g_utf8_to_utf16 (value, -1, NULL, &n, NULL);
  write_efivar (dir, name, LOADER_GUID, u, (gsize) (n + 1) * 2);
}

static void
put32 (guint8 *p, guint32 v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (guint8) (v >> (8 * i));
}

/* A PE image with just a section table and, for ".pcrpkey"/".pcrsig",
 * some content: enough for section lookup. */
static void
write_pe (const char *path, const char *const *sections)
{
  guint8 buf[8192] = { 0 };
  guint n = g_strv_length ((char **) sections);
  guint32 data_off = 0x400;

  buf[0] = 'M';
  buf[1] = 'Z';
  buf[0x3c] = 0x80;
  memcpy (buf + 0x80, "PE\0\0", 4);
  buf[0x84] = 0x64;
  buf[0x85] = 0x86;
  buf[0x86] = (guint8) n;
  for (guint i = 0; i < n; i++)
    {
      guint8 *h = buf + 0x80 + 24 + i * 40;
      const char *content = g_str_equal (sections[i], ".pcrpkey") ? "PEM-IN-UKI"
                          : g_str_equal (sections[i], ".pcrsig") ? "{\"sha256\":[]}" : "x";

      memcpy (h, sections[i], strlen (sections[i]));
      put32 (h + 8, (guint32) strlen (content));   /* VirtualSize */
      put32 (h + 16, 0x200);                       /* SizeOfRawData */
      put32 (h + 20, data_off);                    /* PointerToRawData */
      memcpy (buf + data_off, content, strlen (content));
      data_off += 0x200;
    }
  g_assert_true (g_file_set_contents (path, (const char *) buf, sizeof (buf), NULL));
}

static const char *
lookup_s (GVariant *v, const char *key)
{
  const char *s = NULL;
  if (!g_variant_lookup (v, key, "&s", &s))
    return NULL;
  return s;
}

static gboolean
lookup_b (GVariant *v, const char *key)
{
  gboolean b = FALSE;
  g_assert_true (g_variant_lookup (v, key, "b", &b));
  return b;
}

static void
test_secure_boot (void)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *missing = g_build_filename (dir, "missing", NULL);
  ImprintSecurityPaths paths = { .efivars_dir = dir };
  const guint8 one = 1, zero = 0;
  GVariant *v;

  v = g_variant_ref_sink (imprint_security_caps_secure_boot (&paths));
  g_assert_cmpstr (lookup_s (v, "state"), ==, "off");
  g_assert_false (lookup_b (v, "available"));
  g_assert_nonnull (lookup_s (v, "reason"));
  g_variant_unref (v);

  write_efivar (dir, "SecureBoot", EFI_GLOBAL_GUID, &one, 1);
  write_efivar (dir, "SetupMode", EFI_GLOBAL_GUID, &zero, 1);
  v = g_variant_ref_sink (imprint_security_caps_secure_boot (&paths));
  g_assert_cmpstr (lookup_s (v, "state"), ==, "on");
  g_assert_true (lookup_b (v, "available"));
  g_assert_null (lookup_s (v, "reason"));
  g_variant_unref (v);

  write_efivar (dir, "SecureBoot", EFI_GLOBAL_GUID, &zero, 1);
  write_efivar (dir, "SetupMode", EFI_GLOBAL_GUID, &one, 1);
  v = g_variant_ref_sink (imprint_security_caps_secure_boot (&paths));
  g_assert_cmpstr (lookup_s (v, "state"), ==, "setup");
  g_assert_false (lookup_b (v, "available"));
  g_assert_nonnull (strstr (lookup_s (v, "reason"), "setup mode"));
  g_variant_unref (v);

  paths.efivars_dir = missing;
  v = g_variant_ref_sink (imprint_security_caps_secure_boot (&paths));
  g_assert_cmpstr (lookup_s (v, "state"), ==, "unsupported");
  g_assert_nonnull (strstr (lookup_s (v, "reason"), "UEFI"));
  g_variant_unref (v);
}

/* The UKI part of the capabilities: how the stub, its signature and
 * /run tell whether the machine booted a signed UKI.
 * (Over 80 lines on purpose: one scenario whose steps build on the state
 * the previous ones left; split up, it would only be harder to follow.) */
static void
test_uki (void)
{
  g_autofree char *root = test_make_tmpdir ();
  g_autofree char *efivars = g_build_filename (root, "efivars", NULL);
  g_autofree char *esp = g_build_filename (root, "esp", NULL);
  g_autofree char *linux_dir = g_build_filename (esp, "EFI", "Linux", NULL);
  g_autofree char *uki = g_build_filename (linux_dir, "imprint-1.0.efi", NULL);
  g_autofree char *plain = g_build_filename (linux_dir, "plain.efi", NULL);
  g_autofree char *sigdir = g_build_filename (root, "stub", NULL);
  g_autofree char *sigfile = g_build_filename (sigdir, "tpm2-pcr-signature.json", NULL);
  g_autofree char *keyfile = g_build_filename (sigdir, "tpm2-pcr-public-key.pem", NULL);
  const char *esps[] = { esp, NULL };
  const char *sigs[] = { sigdir, NULL };
  ImprintSecurityPaths paths = { .efivars_dir = efivars, .esp_dirs = esps, .pcr_signature_dirs = sigs };
  GVariant *v;

  g_assert_cmpint (g_mkdir_with_parents (efivars, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (linux_dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (sigdir, 0755), ==, 0);
  write_pe (uki, (const char *[]) { ".text", ".osrel", ".cmdline", ".linux", ".initrd", ".pcrsig", ".pcrpkey", NULL });
  write_pe (plain, (const char *[]) { ".text", ".osrel", ".linux", ".initrd", NULL });

  {
    gboolean l = FALSE, s = FALSE, k = FALSE;
    g_assert_cmpint (imprint_pe_has_sections (uki, &l, &s, &k), ==, 0);
    g_assert_true (l && s && k);
    g_assert_cmpint (imprint_pe_has_sections (keyfile, &l, &s, &k), ==, -ENOENT);
    g_assert_true (g_file_set_contents (keyfile, "not a PE", -1, NULL));
    g_assert_cmpint (imprint_pe_has_sections (keyfile, &l, &s, &k), ==, -EBADMSG);
    g_assert_cmpint (g_unlink (keyfile), ==, 0);
  }

  /* Nothing to go by. */
  v = g_variant_ref_sink (imprint_security_caps_uki (&paths));
  g_assert_false (lookup_b (v, "available"));
  g_assert_nonnull (strstr (lookup_s (v, "reason"), "could not be found"));
  g_variant_unref (v);

  /* systemd-stub 254+ names itself. */
  write_efivar_string (efivars, "StubImageIdentifier", "\\EFI\\Linux\\imprint-1.0.efi");
  v = g_variant_ref_sink (imprint_security_caps_uki (&paths));
  g_assert_true (lookup_b (v, "available"));
  g_assert_cmpstr (lookup_s (v, "path"), ==, uki);
  g_assert_true (lookup_b (v, "pcrsig"));
  g_variant_unref (v);
  {
    g_autofree char *pem = NULL, *sig = NULL;
    g_assert_cmpint (imprint_security_read_pcr_signing (&paths, &pem, &sig), ==, 0);
    g_assert_cmpstr (pem, ==, "PEM-IN-UKI");
    g_assert_cmpstr (sig, ==, "{\"sha256\":[]}");
  }

  /* Older: the selected type #2 entry; this one has no signature. */
  {
    g_autofree char *pem = NULL, *sig = NULL;
    ImprintSecurityPaths none = { .efivars_dir = efivars, .esp_dirs = (const char *[]) { root, NULL },
                                  .pcr_signature_dirs = (const char *[]) { root, NULL } };
    g_assert_cmpint (imprint_security_read_pcr_signing (&none, &pem, &sig), ==, -ENOENT);
    g_assert_null (pem);
  }
  {
    g_autofree char *var = g_strdup_printf ("%s/StubImageIdentifier-%s", efivars, LOADER_GUID);
    g_assert_cmpint (g_unlink (var), ==, 0);
  }
  write_efivar_string (efivars, "LoaderImageIdentifier", "\\EFI\\systemd\\systemd-bootx64.efi");
  write_efivar_string (efivars, "LoaderEntrySelected", "plain.efi");
  v = g_variant_ref_sink (imprint_security_caps_uki (&paths));
  g_assert_false (lookup_b (v, "available"));
  g_assert_cmpstr (lookup_s (v, "path"), ==, plain);
  g_assert_false (lookup_b (v, "pcrsig"));
  g_assert_nonnull (strstr (lookup_s (v, "reason"), ".pcrsig"));
  g_variant_unref (v);

  /* The stub's files in /run count too. */
  g_assert_true (g_file_set_contents (sigfile, "{}", -1, NULL));
  g_assert_true (g_file_set_contents (keyfile, "-----BEGIN PUBLIC KEY-----\n", -1, NULL));
  v = g_variant_ref_sink (imprint_security_caps_uki (&paths));
  g_assert_true (lookup_b (v, "available"));
  g_assert_cmpstr (lookup_s (v, "signature-file"), ==, sigfile);
  g_variant_unref (v);
  {
    g_autofree char *pem = NULL, *sig = NULL;
    g_assert_cmpint (imprint_security_read_pcr_signing (&paths, &pem, &sig), ==, 0);
    g_assert_cmpstr (pem, ==, "-----BEGIN PUBLIC KEY-----\n");
    g_assert_cmpstr (sig, ==, "{}");
  }
}

/* The TPM2 part: an unreachable TCTI, then swtpm available, then
 * locked out by wrong PINs.
 * (Over 80 lines on purpose: one scenario whose steps build on the state
 * the previous ones left; split up, it would only be harder to follow.) */
static void
test_tpm2 (void)
{
  TestSwtpm *swtpm;
  GVariant *v, *banks;
  guint32 pcr7 = 0;
  g_autoptr (GVariant) sha256 = NULL;

  /* Unreachable TCTI: a reason, no crash. */
  v = g_variant_ref_sink (imprint_security_caps_tpm2 ("swtpm:host=127.0.0.1,port=9", IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR));
  g_assert_false (lookup_b (v, "available"));
  g_assert_nonnull (lookup_s (v, "reason"));
  g_variant_unref (v);

  if (!g_file_test ("/sys/class/tpmrm", G_FILE_TEST_IS_DIR))
    {
      v = g_variant_ref_sink (imprint_security_caps_tpm2 ("auto", IMPRINT_TPM2_DEVICE_DEFAULT));
      g_assert_false (lookup_b (v, "available"));
      g_assert_nonnull (strstr (lookup_s (v, "reason"), "No TPM 2.0"));
      g_variant_unref (v);
    }

  swtpm = test_swtpm_start ();
  if (!swtpm)
    {
      g_test_skip ("swtpm not installed");
      return;
    }
  v = g_variant_ref_sink (imprint_security_caps_tpm2 (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR));
  {
    g_autofree char *text = g_variant_print (v, TRUE);
    g_test_message ("%s", text);
  }
  g_assert_true (lookup_b (v, "available"));
  g_assert_cmpstr (lookup_s (v, "device"), ==, swtpm->tcti);
  g_assert_cmpstr (lookup_s (v, "manufacturer"), ==, "IBM");
  g_assert_cmpstr (lookup_s (v, "best-bank"), ==, "sha256");
  g_assert_false (lookup_b (v, "lockout"));
  banks = g_variant_lookup_value (v, "banks", G_VARIANT_TYPE ("a{sau}"));
  g_assert_nonnull (banks);
  sha256 = g_variant_lookup_value (banks, "sha256", G_VARIANT_TYPE ("au"));
  g_assert_nonnull (sha256);
  for (gsize i = 0; i < g_variant_n_children (sha256); i++)
    {
      guint32 u;
      g_variant_get_child (sha256, i, "u", &u);
      if (u == 7)
        pcr7 = 1;
    }
  g_assert_true (pcr7);
  g_variant_unref (banks);
  g_variant_unref (v);

  {
    ImprintSecurityPaths paths = { .efivars_dir = "/nonexistent" };
    g_autoptr (GVariant) all = g_variant_ref_sink (imprint_security_caps_get (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &paths));
    g_assert_true (g_variant_is_of_type (all, G_VARIANT_TYPE ("a{sv}")));
    g_assert_true (g_variant_lookup (all, "tpm2", "@a{sv}", NULL));
    g_assert_true (g_variant_lookup (all, "secure-boot", "@a{sv}", NULL));
    g_assert_true (g_variant_lookup (all, "uki", "@a{sv}", NULL));
  }

  /* Wrong PINs until the TPM locks out: reported, with what to do. */
  {
    g_autoptr (ImprintTpm2) t = NULL;
    ImprintTpm2Sealed sealed = { 0 };
    void *secret = NULL;
    size_t size = 0;
    int r = 0, tries = 0;

    g_assert_cmpint (imprint_tpm2_open (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &t), ==, 0);
    g_assert_cmpint (imprint_tpm2_seal (t, 1u << 7, 0, "1234", &sealed), ==, 0);
    while (tries++ < 10 && (r = imprint_tpm2_unseal (t, &sealed, "9999", &secret, &size)) == -EPERM)
      ;
    g_assert_cmpint (r, ==, -ENOLCK);
    g_assert_null (secret);
    imprint_tpm2_sealed_done (&sealed);

    v = g_variant_ref_sink (imprint_security_caps_tpm2 (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR));
    g_assert_false (lookup_b (v, "available"));
    g_assert_true (lookup_b (v, "lockout"));
    g_assert_nonnull (strstr (lookup_s (v, "reason"), "locked"));
    g_test_message ("%s", lookup_s (v, "reason"));
    g_variant_unref (v);
  }

  test_swtpm_stop (swtpm);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/security-caps/secure-boot", test_secure_boot);
  g_test_add_func ("/security-caps/uki", test_uki);
  g_test_add_func ("/security-caps/tpm2", test_tpm2);
  return g_test_run ();
}
