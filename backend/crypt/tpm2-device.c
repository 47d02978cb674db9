/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Finding and opening a TPM: device names (the kernel's tpm/tpmrm nodes or
 * an emulator's TCTI), the ESYS context, what the chip supports (banks,
 * vendor, lockout) and PCR lists as users write them. */

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "devname.h"
#include "macros.h"
#include "tpm2.h"
#include "tpm2-private.h"

/* "tpm<N>" or "tpmrm<N>": the only names a TPM character device has. N is
 * decimal without a leading zero and short, so nothing but the kernel's
 * own names gets through (no "/", no "..", no trailing junk). */
static bool
tpm_node_name_valid (const char *name)
{
  return imprint_devname_valid (name, "tpmrm") || imprint_devname_valid (name, "tpm");
}

/* An emulator TCTI: "swtpm" or "mssim", then ":" and its configuration
 * (or nothing). */
static bool
is_emulator_tcti (const char *device)
{
  return g_str_equal (device, "swtpm") || g_str_has_prefix (device, "swtpm:") ||
         g_str_equal (device, "mssim") || g_str_has_prefix (device, "mssim:");
}

int
imprint_tpm2_device_check (const char *device, ImprintTpm2DeviceFlags flags, char **ret_tcti)
{
  const char *node;

  if (!device || !*device || g_str_equal (device, "auto"))
    {
      if (ret_tcti)
        *ret_tcti = NULL;
      return 0;
    }

  /* The TCTI loader takes "driver:conf" and dlopen()s the driver: "cmd"
   * runs conf as a shell command, "device" opens any path read-write,
   * "libtpms"/"pcap" write files, and a driver name may even be a library
   * path. So nothing is passed on as the caller wrote it except the two
   * emulators, and those only when the caller may (they talk to any TCP
   * endpoint and trust whatever answers there with the sealed secret). */
  if (is_emulator_tcti (device))
    {
      if (!(flags & IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR))
        return -EPERM;
      if (ret_tcti)
        *ret_tcti = g_strdup (device);
      return 0;
    }

  if (g_str_has_prefix (device, "device:"))
    node = device + strlen ("device:");
  else
    node = device;

  if (!g_str_has_prefix (node, "/dev/") || !tpm_node_name_valid (node + strlen ("/dev/")))
    return -EINVAL;

  if (ret_tcti)
    *ret_tcti = g_strconcat ("device:", node, NULL);
  return 0;
}

int
imprint_tpm2_resolve_device (const char *device, ImprintTpm2DeviceFlags flags, char **ret_tcti)
{
  g_autofree char *tcti = NULL;
  int r;

  r = imprint_tpm2_device_check (device, flags, &tcti);
  if (r < 0)
    return r;

  if (!tcti)
    {
      g_autoptr (GDir) dir = g_dir_open ("/sys/class/tpmrm", 0, NULL);
      g_autofree char *best = NULL;
      const char *name;

      while (dir && (name = g_dir_read_name (dir)))
        if (g_str_has_prefix (name, "tpmrm") && tpm_node_name_valid (name) &&
            (!best || strcmp (name, best) < 0))
          {
            g_free (best);
            best = g_strdup (name);
          }

      if (!best)
        return -ENODEV;
      tcti = g_strdup_printf ("device:/dev/%s", best);
    }

  *ret_tcti = g_steal_pointer (&tcti);
  return 0;
}

/* Checks that /dev/NAME is the TPM character device sysfs knows by NAME:
 * not a symlink, a character device, and the device number sysfs lists.
 * O_PATH, because /dev/tpm<N> admits a single opener at a time and the
 * TCTI opens it right after; /dev is the kernel's (devtmpfs, root-only),
 * so the name still means this node then. */
static int
verify_device_node (const char *node)
{
  _cleanup_close_ int fd = -1;
  g_autofree char *sys = NULL, *contents = NULL;
  const char *name = node + strlen ("/dev/");
  unsigned maj, min;
  struct stat st;
  char end;

  fd = open (node, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? -ENODEV : negative_errno ();
  if (fstat (fd, &st) < 0)
    return negative_errno ();
  if (!S_ISCHR (st.st_mode))
    return -ENODEV;

  sys = g_strdup_printf ("/sys/class/%s/%s/dev", g_str_has_prefix (name, "tpmrm") ? "tpmrm" : "tpm", name);
  if (!g_file_get_contents (sys, &contents, NULL, NULL))
    return -ENODEV;
  if (sscanf (contents, "%u:%u%c", &maj, &min, &end) != 3 || end != '\n' ||
      maj != major (st.st_rdev) || min != minor (st.st_rdev))
    return -ENODEV;
  return 0;
}

int
imprint_tpm2_open (const char *device, ImprintTpm2DeviceFlags flags, ImprintTpm2 **ret)
{
  g_autoptr (ImprintTpm2) t = g_new0 (ImprintTpm2, 1);
  TSS2_RC rc;
  int r;

  r = imprint_tpm2_resolve_device (device, flags, &t->tcti_conf);
  if (r < 0)
    return r;

  if (g_str_has_prefix (t->tcti_conf, "device:"))
    {
      r = verify_device_node (t->tcti_conf + strlen ("device:"));
      if (r < 0)
        return r;
    }

  rc = Tss2_TctiLdr_Initialize (t->tcti_conf, &t->tcti);
  if (rc != TSS2_RC_SUCCESS)
    {
      (void) imprint_tpm2_tss_error (rc, "TCTI initialization");
      return -ENODEV;
    }

  rc = Esys_Initialize (&t->esys, t->tcti, NULL);
  if (rc != TSS2_RC_SUCCESS)
    return imprint_tpm2_tss_error (rc, "ESAPI initialization");

  rc = Esys_Startup (t->esys, TPM2_SU_CLEAR);
  if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE)
    {
      r = imprint_tpm2_tss_error (rc, "Startup");
      return r == -ENXIO ? -ENODEV : r;
    }

  *ret = g_steal_pointer (&t);
  return 0;
}

void
imprint_tpm2_close (ImprintTpm2 *t)
{
  if (!t)
    return;
  if (t->esys)
    Esys_Finalize (&t->esys);
  if (t->tcti)
    Tss2_TctiLdr_Finalize (&t->tcti);
  g_free (t->tcti_conf);
  g_free (t);
}

const char *
imprint_tpm2_get_tcti (ImprintTpm2 *t)
{
  return t->tcti_conf;
}

static int
get_property (ImprintTpm2 *t, TPM2_PT property, uint32_t *ret)
{
  TPMS_CAPABILITY_DATA *cap = NULL;
  TPMI_YES_NO more;
  TSS2_RC rc;
  int r = -ENOENT;

  rc = Esys_GetCapability (t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                           TPM2_CAP_TPM_PROPERTIES, property, 1, &more, &cap);
  if (rc != TSS2_RC_SUCCESS)
    return imprint_tpm2_tss_error (rc, "GetCapability");

  if (cap->data.tpmProperties.count >= 1 &&
      cap->data.tpmProperties.tpmProperty[0].property == property)
    {
      *ret = cap->data.tpmProperties.tpmProperty[0].value;
      r = 0;
    }
  Esys_Free (cap);
  return r;
}

/* TPM property strings are up to four big-endian ASCII bytes per value. */
static void
append_chars (GString *s, uint32_t v)
{
  for (int shift = 24; shift >= 0; shift -= 8)
    {
      char c = (char) ((v >> shift) & 0xff);
      if (g_ascii_isprint (c))
        g_string_append_c (s, c);
    }
}

int
imprint_tpm2_get_info (ImprintTpm2 *t, ImprintTpm2Info *ret)
{
  g_autoptr (GString) manufacturer = g_string_new (NULL), vendor = g_string_new (NULL);
  ImprintTpm2Info info = { 0 };
  TPMS_CAPABILITY_DATA *cap = NULL;
  uint32_t v, fw1 = 0, fw2 = 0, permanent = 0;
  TPMI_YES_NO more;
  TSS2_RC rc;
  int r;

  r = get_property (t, TPM2_PT_MANUFACTURER, &v);
  if (r < 0)
    return r;
  append_chars (manufacturer, v);

  for (TPM2_PT p = TPM2_PT_VENDOR_STRING_1; p <= TPM2_PT_VENDOR_STRING_4; p++)
    if (get_property (t, p, &v) >= 0)
      append_chars (vendor, v);

  (void) get_property (t, TPM2_PT_FIRMWARE_VERSION_1, &fw1);
  (void) get_property (t, TPM2_PT_FIRMWARE_VERSION_2, &fw2);

  r = get_property (t, TPM2_PT_PERMANENT, &permanent);
  if (r < 0)
    return r;
  (void) get_property (t, TPM2_PT_LOCKOUT_COUNTER, &info.lockout_counter);
  (void) get_property (t, TPM2_PT_MAX_AUTH_FAIL, &info.max_auth_fail);
  (void) get_property (t, TPM2_PT_LOCKOUT_INTERVAL, &info.lockout_interval);
  (void) get_property (t, TPM2_PT_LOCKOUT_RECOVERY, &info.lockout_recovery);

  rc = Esys_GetCapability (t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                           TPM2_CAP_PCRS, 0, 1, &more, &cap);
  if (rc != TSS2_RC_SUCCESS)
    return imprint_tpm2_tss_error (rc, "GetCapability(PCRS)");

  for (uint32_t i = 0; i < cap->data.assignedPCR.count && info.n_banks < IMPRINT_TPM2_MAX_BANKS; i++)
    {
      const TPMS_PCR_SELECTION *s = &cap->data.assignedPCR.pcrSelections[i];
      uint32_t mask = 0;

      for (unsigned b = 0; b < s->sizeofSelect && b < 3; b++)
        mask |= (uint32_t) s->pcrSelect[b] << (8 * b);
      info.banks[info.n_banks++] = (ImprintTpm2Bank) { .alg = s->hash, .pcr_mask = mask };
    }
  Esys_Free (cap);

  g_strstrip (manufacturer->str);
  g_strstrip (vendor->str);
  info.manufacturer = g_strdup (manufacturer->str);
  info.vendor = g_strdup (vendor->str);
  info.firmware_version = g_strdup_printf ("%u.%u.%u.%u", fw1 >> 16, fw1 & 0xffff, fw2 >> 16, fw2 & 0xffff);
  info.in_lockout = (permanent & TPMA_PERMANENT_INLOCKOUT) != 0;

  *ret = info;
  return 0;
}

void
imprint_tpm2_info_done (ImprintTpm2Info *info)
{
  g_clear_pointer (&info->manufacturer, g_free);
  g_clear_pointer (&info->vendor, g_free);
  g_clear_pointer (&info->firmware_version, g_free);
}

static const struct {
  uint16_t alg;
  const char *name;
} hash_algs[] = {
  { TPM2_ALG_SHA256, "sha256" },
  { TPM2_ALG_SHA384, "sha384" },
  { TPM2_ALG_SHA512, "sha512" },
  { TPM2_ALG_SHA1, "sha1" },
};

const char *
imprint_tpm2_hash_alg_to_string (uint16_t alg)
{
  for (size_t i = 0; i < G_N_ELEMENTS (hash_algs); i++)
    if (hash_algs[i].alg == alg)
      return hash_algs[i].name;
  return NULL;
}

uint16_t
imprint_tpm2_hash_alg_from_string (const char *s)
{
  for (size_t i = 0; s && i < G_N_ELEMENTS (hash_algs); i++)
    if (g_ascii_strcasecmp (hash_algs[i].name, s) == 0)
      return hash_algs[i].alg;
  return 0;
}

int
imprint_tpm2_pick_bank (const ImprintTpm2Info *info, uint32_t pcr_mask, uint16_t *ret_alg)
{
  /* hash_algs is in order of preference. */
  for (size_t a = 0; a < G_N_ELEMENTS (hash_algs); a++)
    for (size_t i = 0; i < info->n_banks; i++)
      if (info->banks[i].alg == hash_algs[a].alg &&
          (info->banks[i].pcr_mask & pcr_mask) == pcr_mask &&
          info->banks[i].pcr_mask != 0)
        {
          *ret_alg = hash_algs[a].alg;
          return 0;
        }
  return -EOPNOTSUPP;
}

int
imprint_tpm2_parse_pcr_list (const char *s, uint32_t *ret_mask)
{
  g_auto (GStrv) parts = NULL;
  uint32_t mask = 0;

  if (!s)
    return -EINVAL;

  parts = g_strsplit_set (s, ",+", -1);
  for (char **p = parts; *p; p++)
    {
      guint64 v;

      g_strstrip (*p);
      if (!**p)
        {
          if (parts[1] == NULL) /* "" alone: no PCRs */
            break;
          return -EINVAL;
        }
      if (!g_ascii_string_to_unsigned (*p, 10, 0, 23, &v, NULL))
        return -EINVAL;
      mask |= UINT32_C (1) << v;
    }

  *ret_mask = mask;
  return 0;
}
