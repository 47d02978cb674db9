/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "macros.h"
#include "security-caps.h"
#include "tpm2.h"

#define EFI_GLOBAL_GUID "8be4df61-93ca-11d2-aa0d-00e098032b8c"
#define LOADER_GUID "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"

static const char *const default_esp_dirs[] = { "/efi", "/boot/efi", "/boot", NULL };
static const char *const default_sig_dirs[] = { "/run/systemd/stub", "/run/systemd", "/.extra", NULL };

static const char *
efivars_dir (const ImprintSecurityPaths *p)
{
  return p && p->efivars_dir ? p->efivars_dir : "/sys/firmware/efi/efivars";
}

/* Reads an EFI variable's payload (after the 4-byte attributes). */
static int
efivar_read (const ImprintSecurityPaths *p, const char *name, const char *guid, GBytes **ret)
{
  g_autofree char *path = g_strdup_printf ("%s/%s-%s", efivars_dir (p), name, guid);
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return -ENOENT;
  if (len < 4)
    return -EBADMSG;

  *ret = g_bytes_new (data + 4, len - 4);
  return 0;
}

static int
efivar_read_bool (const ImprintSecurityPaths *p, const char *name, gboolean *ret)
{
  g_autoptr (GBytes) b = NULL;
  int r = efivar_read (p, name, EFI_GLOBAL_GUID, &b);

  if (r < 0)
    return r;
  if (g_bytes_get_size (b) < 1)
    return -EBADMSG;
  *ret = ((const guint8 *) g_bytes_get_data (b, NULL))[0] != 0;
  return 0;
}

/* systemd-boot/-stub variables are NUL-terminated UTF-16LE strings. */
static char *
efivar_read_string (const ImprintSecurityPaths *p, const char *name)
{
  g_autoptr (GBytes) b = NULL;
  const gunichar2 *u;
  gsize n;

  if (efivar_read (p, name, LOADER_GUID, &b) < 0)
    return NULL;
  u = g_bytes_get_data (b, &n);
  n /= 2;
  while (n > 0 && u[n - 1] == 0)
    n--;
  return g_utf16_to_utf8 (u, (glong) n, NULL, NULL, NULL);
}

static void
add_reason (GVariantDict *d, const char *reason)
{
  g_variant_dict_insert (d, "available", "b", FALSE);
  g_variant_dict_insert (d, "reason", "s", reason);
}

/* "banks": each PCR bank the TPM has allocated, with its PCRs. */
static GVariant *
banks_variant (const ImprintTpm2Info *info)
{
  GVariantBuilder banks;

  g_variant_builder_init (&banks, G_VARIANT_TYPE ("a{sau}"));
  for (size_t i = 0; i < info->n_banks; i++)
    {
      const char *name = imprint_tpm2_hash_alg_to_string (info->banks[i].alg);
      GVariantBuilder pcrs;

      if (!name)
        continue;
      g_variant_builder_init (&pcrs, G_VARIANT_TYPE ("au"));
      for (guint32 pcr = 0; pcr < 24; pcr++)
        if (info->banks[i].pcr_mask & (UINT32_C (1) << pcr))
          g_variant_builder_add (&pcrs, "u", pcr);
      g_variant_builder_add (&banks, "{sau}", name, &pcrs);
    }
  return g_variant_builder_end (&banks);
}

/* One failure is forgotten every lockout_interval seconds, which ends
 * the lockout: say how long that is when the TPM tells. */
static void
add_lockout_reason (GVariantDict *d, const ImprintTpm2Info *info)
{
  g_autofree char *msg = NULL;

  if (info->lockout_interval > 0)
    msg = g_strdup_printf (_("The TPM is locked after too many wrong PINs. Clear the lockout in "
                             "the firmware setup, or wait about %u minutes."),
                           (info->lockout_interval + 59) / 60);
  else
    msg = g_strdup (_("The TPM is locked after too many wrong PINs. Clear the lockout in the "
                      "firmware setup."));
  add_reason (d, msg);
}

GVariant *
imprint_security_caps_tpm2 (const char *tpm2_device, ImprintTpm2DeviceFlags tpm2_flags)
{
  g_auto (GVariantDict) d = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (ImprintTpm2) t = NULL;
  ImprintTpm2Info info = { 0 };
  uint16_t best = 0;
  int r;

  r = imprint_tpm2_open (tpm2_device, tpm2_flags, &t);
  if (r == -ENODEV && (!tpm2_device || !*tpm2_device || g_str_equal (tpm2_device, "auto")))
    {
      add_reason (&d, _("No TPM 2.0 was found. If this computer has one, turn it on in the firmware "
                        "setup (it may be called TPM, PTT, fTPM or Security Chip)."));
      return g_variant_dict_end (&d);
    }
  if (r < 0)
    {
      g_autofree char *msg = g_strdup_printf (_("The TPM “%s” cannot be used (%s). Check the device "
                                                "and the TPM settings in the firmware setup."),
                                              tpm2_device ? tpm2_device : "auto", g_strerror (-r));
      add_reason (&d, msg);
      return g_variant_dict_end (&d);
    }

  g_variant_dict_insert (&d, "device", "s", imprint_tpm2_get_tcti (t));

  r = imprint_tpm2_get_info (t, &info);
  if (r < 0)
    {
      g_autofree char *msg = g_strdup_printf (_("The TPM does not answer as expected (%s). Updating "
                                                "the firmware or clearing the TPM in the firmware "
                                                "setup may help."), g_strerror (-r));
      add_reason (&d, msg);
      return g_variant_dict_end (&d);
    }

  g_variant_dict_insert (&d, "manufacturer", "s", info.manufacturer);
  g_variant_dict_insert (&d, "vendor", "s", info.vendor);
  g_variant_dict_insert (&d, "firmware-version", "s", info.firmware_version);
  g_variant_dict_insert (&d, "lockout", "b", info.in_lockout);
  g_variant_dict_insert (&d, "lockout-counter", "u", info.lockout_counter);
  g_variant_dict_insert (&d, "max-auth-fail", "u", info.max_auth_fail);

  g_variant_dict_insert_value (&d, "banks", banks_variant (&info));

  if (imprint_tpm2_pick_bank (&info, IMPRINT_TPM2_DEFAULT_PCR_MASK, &best) >= 0)
    g_variant_dict_insert (&d, "best-bank", "s", imprint_tpm2_hash_alg_to_string (best));

  if (info.in_lockout)
    add_lockout_reason (&d, &info);
  else if (best == 0)
    add_reason (&d, _("The TPM has no PCR bank that measures PCR 7. Turn on the SHA-256 PCR bank in "
                      "the firmware setup."));
  else
    g_variant_dict_insert (&d, "available", "b", TRUE);

  imprint_tpm2_info_done (&info);
  return g_variant_dict_end (&d);
}

GVariant *
imprint_security_caps_secure_boot (const ImprintSecurityPaths *paths)
{
  g_auto (GVariantDict) d = G_VARIANT_DICT_INIT (NULL);
  gboolean secure_boot = FALSE, setup_mode = FALSE;

  if (!g_file_test (efivars_dir (paths), G_FILE_TEST_IS_DIR))
    {
      g_variant_dict_insert (&d, "state", "s", "unsupported");
      add_reason (&d, _("This computer did not start in UEFI mode, so Secure Boot is not available: "
                        "the TPM policy will not protect against a changed boot loader."));
      return g_variant_dict_end (&d);
    }

  /* A missing variable means the firmware does not support it: off. */
  (void) efivar_read_bool (paths, "SecureBoot", &secure_boot);
  (void) efivar_read_bool (paths, "SetupMode", &setup_mode);

  if (setup_mode)
    {
      g_variant_dict_insert (&d, "state", "s", "setup");
      add_reason (&d, _("The firmware is in Secure Boot setup mode: anyone can enroll keys. Enroll "
                        "keys or leave setup mode in the firmware setup."));
    }
  else if (!secure_boot)
    {
      g_variant_dict_insert (&d, "state", "s", "off");
      add_reason (&d, _("Secure Boot is off: the TPM policy will not protect against a changed boot "
                        "loader. Turn Secure Boot on in the firmware setup."));
    }
  else
    {
      g_variant_dict_insert (&d, "state", "s", "on");
      g_variant_dict_insert (&d, "available", "b", TRUE);
    }

  return g_variant_dict_end (&d);
}

int
imprint_pe_has_sections (const char *path, gboolean *ret_linux, gboolean *ret_pcrsig, gboolean *ret_pcrpkey)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return -errno;
  return imprint_pe_has_sections_fd (fd, ret_linux, ret_pcrsig, ret_pcrpkey);
}

int
imprint_pe_has_sections_fd (int fd, gboolean *ret_linux, gboolean *ret_pcrsig, gboolean *ret_pcrpkey)
{
  guint8 dos[64], pe[24];
  guint32 pe_offset;
  guint16 n_sections, opt_size;
  gboolean has_linux = FALSE, has_sig = FALSE, has_key = FALSE;

  if (pread (fd, dos, sizeof (dos), 0) != sizeof (dos) || dos[0] != 'M' || dos[1] != 'Z')
    return -EBADMSG;
  pe_offset = (guint32) dos[0x3c] | (guint32) dos[0x3d] << 8 | (guint32) dos[0x3e] << 16 | (guint32) dos[0x3f] << 24;

  if (pread (fd, pe, sizeof (pe), pe_offset) != sizeof (pe) || memcmp (pe, "PE\0\0", 4) != 0)
    return -EBADMSG;
  /* COFF header after the signature: sections at +2, optional header
   * size at +16. */
  n_sections = (guint16) (pe[4 + 2] | pe[4 + 3] << 8);
  opt_size = (guint16) (pe[4 + 16] | pe[4 + 17] << 8);
  if (n_sections > 96)
    return -EBADMSG;

  for (guint i = 0; i < n_sections; i++)
    {
      char name[9] = { 0 };
      off_t off = (off_t) pe_offset + 24 + opt_size + (off_t) i * 40;

      if (pread (fd, name, 8, off) != 8)
        return -EBADMSG;
      has_linux |= g_str_equal (name, ".linux");
      has_sig |= g_str_equal (name, ".pcrsig");
      has_key |= g_str_equal (name, ".pcrpkey");
    }

  if (ret_linux)
    *ret_linux = has_linux;
  if (ret_pcrsig)
    *ret_pcrsig = has_sig;
  if (ret_pcrpkey)
    *ret_pcrpkey = has_key;
  return 0;
}

int
imprint_pe_read_section (const char *path, const char *section, char **ret, size_t *ret_size)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

  if (fd < 0)
    return -errno;
  return imprint_pe_read_section_fd (fd, section, ret, ret_size);
}

/* Reads the content of section name (VirtualSize bytes, as systemd-stub
 * does) of a PE file. */
int
imprint_pe_read_section_fd (int fd, const char *section, char **ret, size_t *ret_size)
{
  guint8 dos[64], pe[24];
  guint32 pe_offset;
  guint16 n_sections, opt_size;

  if (pread (fd, dos, sizeof (dos), 0) != sizeof (dos) || dos[0] != 'M' || dos[1] != 'Z')
    return -EBADMSG;
  pe_offset = (guint32) dos[0x3c] | (guint32) dos[0x3d] << 8 | (guint32) dos[0x3e] << 16 | (guint32) dos[0x3f] << 24;
  if (pread (fd, pe, sizeof (pe), pe_offset) != sizeof (pe) || memcmp (pe, "PE\0\0", 4) != 0)
    return -EBADMSG;
  n_sections = (guint16) (pe[4 + 2] | pe[4 + 3] << 8);
  opt_size = (guint16) (pe[4 + 16] | pe[4 + 17] << 8);
  if (n_sections > 96)
    return -EBADMSG;

  for (guint i = 0; i < n_sections; i++)
    {
      guint8 h[40];
      char name[9] = { 0 };
      guint32 vsize, rsize, offset;
      g_autofree char *data = NULL;

      if (pread (fd, h, sizeof (h), (off_t) pe_offset + 24 + opt_size + (off_t) i * 40) != sizeof (h))
        return -EBADMSG;
      memcpy (name, h, 8);
      if (!g_str_equal (name, section))
        continue;

      vsize = (guint32) h[8] | (guint32) h[9] << 8 | (guint32) h[10] << 16 | (guint32) h[11] << 24;
      rsize = (guint32) h[16] | (guint32) h[17] << 8 | (guint32) h[18] << 16 | (guint32) h[19] << 24;
      offset = (guint32) h[20] | (guint32) h[21] << 8 | (guint32) h[22] << 16 | (guint32) h[23] << 24;
      if (vsize == 0 || vsize > rsize || vsize > 1024 * 1024)
        return -EBADMSG;

      data = g_malloc0 (vsize + 1);
      if (pread (fd, data, vsize, offset) != (ssize_t) vsize)
        return -EBADMSG;
      *ret = g_steal_pointer (&data);
      *ret_size = vsize;
      return 0;
    }
  return -ENOENT;
}

/* The ESP path of a systemd-boot/-stub identifier ("\EFI\Linux\x.efi"). */
static char *
find_on_esp (const ImprintSecurityPaths *paths, const char *identifier)
{
  const char *const *esps = paths && paths->esp_dirs ? paths->esp_dirs : default_esp_dirs;
  g_autofree char *rel = NULL;

  if (!identifier || !*identifier)
    return NULL;
  rel = g_strdelimit (g_strdup (identifier), "\\", '/');

  for (const char *const *e = esps; *e; e++)
    {
      g_autofree char *p = g_build_filename (*e, rel, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&p);
    }
  return NULL;
}

/* The booted UKI: StubImageIdentifier (systemd-stub 254+), else
 * LoaderImageIdentifier when it names a UKI (booted directly by the
 * firmware), else the selected type #2 boot entry (EFI/Linux/ID). */
static char *
find_booted_uki (const ImprintSecurityPaths *paths)
{
  static const char *const vars[] = { "StubImageIdentifier", "LoaderImageIdentifier" };

  for (size_t i = 0; i < G_N_ELEMENTS (vars); i++)
    {
      g_autofree char *id = efivar_read_string (paths, vars[i]);
      g_autofree char *p = find_on_esp (paths, id);
      gboolean is_uki = FALSE;

      if (p && imprint_pe_has_sections (p, &is_uki, NULL, NULL) >= 0 && is_uki)
        return g_steal_pointer (&p);
    }

  {
    g_autofree char *entry = efivar_read_string (paths, "LoaderEntrySelected");
    g_autofree char *id = NULL, *p = NULL;
    gboolean is_uki = FALSE;

    if (entry && g_str_has_suffix (entry, ".efi") && !strchr (entry, '/') && !strchr (entry, '\\'))
      {
        id = g_strconcat ("\\EFI\\Linux\\", entry, NULL);
        p = find_on_esp (paths, id);
        if (p && imprint_pe_has_sections (p, &is_uki, NULL, NULL) >= 0 && is_uki)
          return g_steal_pointer (&p);
      }
  }
  return NULL;
}

GVariant *
imprint_security_caps_uki (const ImprintSecurityPaths *paths)
{
  g_auto (GVariantDict) d = G_VARIANT_DICT_INIT (NULL);
  const char *const *sig_dirs = paths && paths->pcr_signature_dirs ? paths->pcr_signature_dirs : default_sig_dirs;
  g_autofree char *uki = NULL;
  gboolean is_uki = FALSE, sig = FALSE, key = FALSE, pe_sig = FALSE, pe_key = FALSE;

  /* systemd-stub hands .pcrsig/.pcrpkey to the OS as files. */
  for (const char *const *s = sig_dirs; *s; s++)
    {
      g_autofree char *sf = g_build_filename (*s, "tpm2-pcr-signature.json", NULL);
      g_autofree char *kf = g_build_filename (*s, "tpm2-pcr-public-key.pem", NULL);

      if (g_file_test (sf, G_FILE_TEST_IS_REGULAR) && g_file_test (kf, G_FILE_TEST_IS_REGULAR))
        {
          g_variant_dict_insert (&d, "signature-file", "s", sf);
          sig = key = TRUE;
          break;
        }
    }

  uki = find_booted_uki (paths);
  if (uki && imprint_pe_has_sections (uki, &is_uki, &pe_sig, &pe_key) >= 0)
    {
      g_variant_dict_insert (&d, "path", "s", uki);
      sig |= pe_sig;
      key |= pe_key;
    }

  g_variant_dict_insert (&d, "pcrsig", "b", sig);
  g_variant_dict_insert (&d, "pcrpkey", "b", key);

  if (sig && key)
    g_variant_dict_insert (&d, "available", "b", TRUE);
  else if (!g_file_test (efivars_dir (paths), G_FILE_TEST_IS_DIR))
    add_reason (&d, _("This computer did not start in UEFI mode, so it does not run a unified kernel "
                      "image: the TPM can only be bound to PCR 7."));
  else if (!uki)
    add_reason (&d, _("The running unified kernel image could not be found, so no signed PCR 11 "
                      "policy is possible: the TPM will be bound to PCR 7 only."));
  else
    add_reason (&d, _("The running kernel image carries no PCR signature (.pcrsig and .pcrpkey): the "
                      "TPM will be bound to PCR 7 only. Images signed for measured boot allow more."));

  return g_variant_dict_end (&d);
}

GVariant *
imprint_security_caps_get (const char *tpm2_device, ImprintTpm2DeviceFlags tpm2_flags,
                           const ImprintSecurityPaths *paths)
{
  g_auto (GVariantDict) d = G_VARIANT_DICT_INIT (NULL);

  g_variant_dict_insert_value (&d, "tpm2", imprint_security_caps_tpm2 (tpm2_device, tpm2_flags));
  g_variant_dict_insert_value (&d, "secure-boot", imprint_security_caps_secure_boot (paths));
  g_variant_dict_insert_value (&d, "uki", imprint_security_caps_uki (paths));
  return g_variant_dict_end (&d);
}

int
imprint_uki_read_pcr_signing (const char *uki, char **ret_pubkey_pem, char **ret_signature_json)
{
  g_autofree char *pem = NULL, *sig = NULL;
  size_t pem_size = 0, sig_size = 0;
  _cleanup_close_ int fd = open (uki, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  int r;

  if (fd < 0)
    return -errno;
  r = imprint_pe_read_section_fd (fd, ".pcrpkey", &pem, &pem_size);
  if (r < 0)
    return r;
  r = imprint_pe_read_section_fd (fd, ".pcrsig", &sig, &sig_size);
  if (r < 0)
    return r;
  /* Text sections: an embedded NUL would cut the key or the JSON short. */
  if (strlen (pem) != pem_size || strlen (sig) != sig_size)
    return -EBADMSG;

  *ret_pubkey_pem = g_steal_pointer (&pem);
  *ret_signature_json = g_steal_pointer (&sig);
  return 0;
}

int
imprint_security_read_pcr_signing (const ImprintSecurityPaths *paths, char **ret_pubkey_pem, char **ret_signature_json)
{
  const char *const *sig_dirs = paths && paths->pcr_signature_dirs ? paths->pcr_signature_dirs : default_sig_dirs;
  g_autofree char *uki = NULL, *pem = NULL, *sig = NULL;
  int r;

  /* What systemd-stub handed to the OS... */
  for (const char *const *s = sig_dirs; *s; s++)
    {
      g_autofree char *sf = g_build_filename (*s, "tpm2-pcr-signature.json", NULL);
      g_autofree char *kf = g_build_filename (*s, "tpm2-pcr-public-key.pem", NULL);

      if (g_file_get_contents (kf, &pem, NULL, NULL) && g_file_get_contents (sf, &sig, NULL, NULL))
        goto found;
      g_clear_pointer (&pem, g_free);
      g_clear_pointer (&sig, g_free);
    }

  /* ...or the booted UKI's own sections. */
  uki = find_booted_uki (paths);
  if (!uki)
    return -ENOENT;
  r = imprint_uki_read_pcr_signing (uki, &pem, &sig);
  if (r < 0)
    return r;

found:
  *ret_pubkey_pem = g_steal_pointer (&pem);
  *ret_signature_json = g_steal_pointer (&sig);
  return 0;
}
