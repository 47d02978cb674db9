/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "json-bounded.h"
#include "macros.h"
#include "secret.h"
#include "tpm2.h"
#include "random.h"

struct ImprintTpm2 {
  TSS2_TCTI_CONTEXT *tcti;
  ESYS_CONTEXT *esys;
  char *tcti_conf;
};

/* Maps a TSS2 response code to an errno, logging the decoded text. */
static int
tss_error (TSS2_RC rc, const char *what)
{
  TSS2_RC base;

  g_debug ("TPM2 %s failed: %s (0x%" PRIx32 ")", what, Tss2_RC_Decode (rc), rc);

  if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER)
    return (rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER ? -ENXIO : -EIO;

  /* Format-one codes carry a handle/session/parameter number in the upper
   * bits; strip it to get the error itself. */
  base = (rc & TPM2_RC_FMT1) ? (rc & (TPM2_RC_FMT1 | 0x3f)) : (rc & 0xfff);
  switch (base)
    {
    case TPM2_RC_AUTH_FAIL:
    case TPM2_RC_BAD_AUTH:
      return -EPERM;
    case TPM2_RC_LOCKOUT:
      return -ENOLCK;
    case TPM2_RC_POLICY_FAIL:
    case TPM2_RC_PCR_CHANGED:
      return -ESTALE;
    case TPM2_RC_CURVE:
    case TPM2_RC_ASYMMETRIC:
    case TPM2_RC_HASH:
    case TPM2_RC_KEY_SIZE:
    case TPM2_RC_SYMMETRIC:
      return -EOPNOTSUPP;
    default:
      return -EIO;
    }
}

static void
flush (ImprintTpm2 *t, ESYS_TR *h)
{
  if (*h == ESYS_TR_NONE)
    return;
  /* Failures are ignored: a session the TPM already closed leaves an
   * invalid handle, and in error paths there is nothing better to do. */
  (void) Esys_FlushContext (t->esys, *h);
  *h = ESYS_TR_NONE;
}

/* "tpm<N>" or "tpmrm<N>": the only names a TPM character device has. N is
 * decimal without a leading zero and short, so nothing but the kernel's
 * own names gets through (no "/", no "..", no trailing junk). */
static bool
tpm_node_name_valid (const char *name)
{
  const char *n;
  size_t len;

  if (g_str_has_prefix (name, "tpmrm"))
    n = name + strlen ("tpmrm");
  else if (g_str_has_prefix (name, "tpm"))
    n = name + strlen ("tpm");
  else
    return false;

  len = strlen (n);
  if (len == 0 || len > 5 || (n[0] == '0' && len > 1))
    return false;
  for (size_t i = 0; i < len; i++)
    if (!g_ascii_isdigit (n[i]))
      return false;
  return true;
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
      (void) tss_error (rc, "TCTI initialization");
      return -ENODEV;
    }

  rc = Esys_Initialize (&t->esys, t->tcti, NULL);
  if (rc != TSS2_RC_SUCCESS)
    return tss_error (rc, "ESAPI initialization");

  rc = Esys_Startup (t->esys, TPM2_SU_CLEAR);
  if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE)
    {
      r = tss_error (rc, "Startup");
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
    return tss_error (rc, "GetCapability");

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
    return tss_error (rc, "GetCapability(PCRS)");

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

static void
pcr_selection (uint32_t mask, uint16_t bank, TPML_PCR_SELECTION *ret)
{
  /* sizeofSelect 3 (24 PCRs), as systemd: it is part of the marshalled
   * selection and so of the policy digest. */
  *ret = (TPML_PCR_SELECTION) {
    .count = 1,
    .pcrSelections[0] = {
      .hash = bank,
      .sizeofSelect = 3,
      .pcrSelect = { mask & 0xff, (mask >> 8) & 0xff, (mask >> 16) & 0xff },
    },
  };
}

/* systemd's legacy transient primary key (tpm2_get_legacy_template() /
 * v252 tpm2_make_primary()). Do not change a single field: the key is
 * derived from the template, and a different key cannot load the blob. */
static void
legacy_primary_template (uint16_t alg, TPM2B_PUBLIC *ret)
{
  const TPMA_OBJECT attrs =
    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM |
    TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH;
  const TPMT_SYM_DEF_OBJECT sym = {
    .algorithm = TPM2_ALG_AES,
    .keyBits.aes = 128,
    .mode.aes = TPM2_ALG_CFB,
  };

  *ret = (TPM2B_PUBLIC) { .size = sizeof (TPMT_PUBLIC) };
  ret->publicArea.type = alg;
  ret->publicArea.nameAlg = TPM2_ALG_SHA256;
  ret->publicArea.objectAttributes = attrs;
  if (alg == TPM2_ALG_ECC)
    {
      ret->publicArea.parameters.eccDetail.symmetric = sym;
      ret->publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
      ret->publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
      ret->publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    }
  else
    {
      ret->publicArea.parameters.rsaDetail.symmetric = sym;
      ret->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
      ret->publicArea.parameters.rsaDetail.keyBits = 2048;
    }
}

static int
create_primary (ImprintTpm2 *t, uint16_t alg, ESYS_TR *ret)
{
  const TPM2B_SENSITIVE_CREATE sensitive = { 0 };
  const TPM2B_DATA outside = { 0 };
  const TPML_PCR_SELECTION creation_pcr = { 0 };
  TPM2B_PUBLIC template;
  TSS2_RC rc;

  legacy_primary_template (alg, &template);
  rc = Esys_CreatePrimary (t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                           &sensitive, &template, &outside, &creation_pcr,
                           ret, NULL, NULL, NULL, NULL);
  if (rc != TSS2_RC_SUCCESS)
    return tss_error (rc, alg == TPM2_ALG_ECC ? "CreatePrimary(ECC)" : "CreatePrimary(RSA)");
  return 0;
}

/* An HMAC session salted with the primary key, used to encrypt the secret
 * on its way into and out of the TPM (parameter encryption). */
static int
start_encryption_session (ImprintTpm2 *t, ESYS_TR primary, ESYS_TR *ret)
{
  const TPMT_SYM_DEF sym = {
    .algorithm = TPM2_ALG_AES,
    .keyBits.aes = 128,
    .mode.aes = TPM2_ALG_CFB,
  };
  ESYS_TR s = ESYS_TR_NONE;
  TSS2_RC rc;

  rc = Esys_StartAuthSession (t->esys, primary, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                              NULL, TPM2_SE_HMAC, &sym, TPM2_ALG_SHA256, &s);
  if (rc != TSS2_RC_SUCCESS)
    return tss_error (rc, "StartAuthSession(HMAC)");

  rc = Esys_TRSess_SetAttributes (t->esys, s,
                                  TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION,
                                  0xff);
  if (rc != TSS2_RC_SUCCESS)
    {
      flush (t, &s);
      return tss_error (rc, "TRSess_SetAttributes");
    }

  *ret = s;
  return 0;
}

/* What a policy consists of, in systemd's order: [PolicyAuthorize over a
 * signed PolicyPCR] -> PolicyPCR(current values) -> [PolicyAuthValue]. */
typedef struct {
  uint32_t pcr_mask;
  uint16_t bank;
  bool pin;
  const char *pubkey_pem;      /* signed PCR policy, or NULL */
  uint32_t pubkey_pcr_mask;
  const char *signature_json;  /* real sessions with a pubkey */
} PolicySpec;

/* The .pcrpkey (PEM) as the TPM sees it, exactly as systemd 252 builds it
 * (openssl_pubkey_to_tpm2_pubkey): the key's Name goes into the policy
 * digest, so every field matters. Also returns the "pkfp" of signature
 * files: SHA256 of the key's DER encoding from i2d_PublicKey() (for RSA
 * the PKCS#1 RSAPublicKey, as systemd's pubkey_fingerprint()). */
static int
pem_to_tpm2b_public (const char *pem, TPM2B_PUBLIC *ret, uint8_t ret_fp[SHA256_DIGEST_LENGTH])
{
  BIO *bio = BIO_new_mem_buf (pem, -1);
  EVP_PKEY *pk = NULL;
  BIGNUM *n = NULL, *e = NULL;
  unsigned char *der = NULL;
  int der_len, n_bytes, r = -EINVAL;

  if (!bio)
    return -ENOMEM;
  pk = PEM_read_bio_PUBKEY (bio, NULL, NULL, NULL);
  BIO_free (bio);
  if (!pk)
    return -EBADMSG;

  /* systemd 252 accepts RSA keys only. */
  if (EVP_PKEY_base_id (pk) != EVP_PKEY_RSA ||
      !EVP_PKEY_get_bn_param (pk, OSSL_PKEY_PARAM_RSA_N, &n) ||
      !EVP_PKEY_get_bn_param (pk, OSSL_PKEY_PARAM_RSA_E, &e))
    goto finish;

  n_bytes = BN_num_bytes (n);
  if (n_bytes <= 0 || (size_t) n_bytes > sizeof (ret->publicArea.unique.rsa.buffer))
    goto finish;
  /* 252 copies the exponent's big-endian bytes into the 32-bit field,
   * which yields the right number only for the usual 65537. */
  if (!BN_is_word (e, 65537))
    {
      r = -EOPNOTSUPP;
      goto finish;
    }

  *ret = (TPM2B_PUBLIC) { .size = sizeof (TPMT_PUBLIC) };
  ret->publicArea.type = TPM2_ALG_RSA;
  ret->publicArea.nameAlg = TPM2_ALG_SHA256;
  ret->publicArea.objectAttributes = TPMA_OBJECT_DECRYPT | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_USERWITHAUTH;
  ret->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
  ret->publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
  ret->publicArea.parameters.rsaDetail.keyBits = (TPMI_RSA_KEY_BITS) (n_bytes * 8);
  ret->publicArea.parameters.rsaDetail.exponent = 65537;
  ret->publicArea.unique.rsa.size = (UINT16) n_bytes;
  if (BN_bn2bin (n, ret->publicArea.unique.rsa.buffer) != n_bytes)
    goto finish;

  der_len = i2d_PublicKey (pk, &der);
  if (der_len <= 0)
    goto finish;
  SHA256 (der, (size_t) der_len, ret_fp);
  r = 0;

finish:
  OPENSSL_free (der);
  BN_free (n);
  BN_free (e);
  EVP_PKEY_free (pk);
  return r;
}

static bool
hex_equal (const char *hex, const uint8_t *data, size_t size)
{
  if (!hex || strlen (hex) != size * 2)
    return false;
  for (size_t i = 0; i < size; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0 || (uint8_t) (hi << 4 | lo) != data[i])
        return false;
    }
  return true;
}

/* Finds the signature for (bank, PCR mask, key, policy) in a
 * tpm2-pcr-signature.json as systemd-measure/ukify write it:
 * {"sha256": [{"pcrs": [11], "pkfp": HEX, "pol": HEX, "sig": BASE64}]}. */
static int
find_signature (const char *json, uint16_t bank, uint32_t mask, const uint8_t fp[SHA256_DIGEST_LENGTH],
                const uint8_t *policy, size_t policy_size, guchar **ret_sig, gsize *ret_size)
{
  g_autoptr (JsonNode) root = imprint_json_parse (json, NULL);
  const char *bank_name = imprint_tpm2_hash_alg_to_string (bank);
  JsonObject *o;
  JsonArray *entries;

  if (!root || !JSON_NODE_HOLDS_OBJECT (root) || !bank_name)
    return -EBADMSG;
  o = json_node_get_object (root);
  if (!json_object_has_member (o, bank_name) || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, bank_name)))
    return -ENXIO;
  entries = json_object_get_array_member (o, bank_name);

  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonNode *en = json_array_get_element (entries, i);
      JsonObject *e;
      JsonArray *pcrs;
      uint32_t m = 0;

      if (!JSON_NODE_HOLDS_OBJECT (en))
        continue;
      e = json_node_get_object (en);
      if (!json_object_has_member (e, "pcrs") || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (e, "pcrs")))
        continue;
      pcrs = json_object_get_array_member (e, "pcrs");
      for (guint k = 0; k < json_array_get_length (pcrs); k++)
        {
          gint64 v = json_array_get_int_element (pcrs, k);
          if (v >= 0 && v < 24)
            m |= UINT32_C (1) << v;
        }
      if (m != mask ||
          !hex_equal (json_object_get_string_member_with_default (e, "pkfp", NULL), fp, SHA256_DIGEST_LENGTH) ||
          !hex_equal (json_object_get_string_member_with_default (e, "pol", NULL), policy, policy_size) ||
          !json_object_get_string_member_with_default (e, "sig", NULL))
        continue;

      *ret_sig = g_base64_decode (json_object_get_string_member (e, "sig"), ret_size);
      return *ret_size > 0 ? 0 : -EBADMSG;
    }
  return -ENXIO;
}

/* PolicyPCR over the signed PCRs, then PolicyAuthorize of that digest with
 * the key: in a trial session without a ticket (the TPM does not check it
 * there), in a real one with a ticket from VerifySignature. */
static int
apply_signed_policy (ImprintTpm2 *t, ESYS_TR session, bool trial, const PolicySpec *spec)
{
  const TPM2B_DIGEST empty = { 0 };
  const TPM2B_NONCE no_ref = { 0 };
  TPM2B_PUBLIC pub;
  uint8_t fp[SHA256_DIGEST_LENGTH];
  ESYS_TR key = ESYS_TR_NONE;
  TPM2B_NAME *name = NULL;
  TPM2B_DIGEST *approved = NULL;
  TPMT_TK_VERIFIED *ticket = NULL;
  TPMT_TK_VERIFIED null_ticket = { .tag = TPM2_ST_VERIFIED, .hierarchy = TPM2_RH_NULL };
  TPML_PCR_SELECTION sel;
  TSS2_RC rc;
  int r;

  r = pem_to_tpm2b_public (spec->pubkey_pem, &pub, fp);
  if (r < 0)
    return r;

  rc = Esys_LoadExternal (t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, &pub, ESYS_TR_RH_OWNER, &key);
  if (rc != TSS2_RC_SUCCESS)
    return tss_error (rc, "LoadExternal");

  rc = Esys_TR_GetName (t->esys, key, &name);
  if (rc != TSS2_RC_SUCCESS)
    {
      r = tss_error (rc, "TR_GetName");
      goto finish;
    }

  pcr_selection (spec->pubkey_pcr_mask, spec->bank, &sel);
  rc = Esys_PolicyPCR (t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &empty, &sel);
  if (rc == TSS2_RC_SUCCESS)
    rc = Esys_PolicyGetDigest (t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &approved);
  if (rc != TSS2_RC_SUCCESS)
    {
      r = tss_error (rc, "PolicyPCR(signed)");
      goto finish;
    }

  if (!trial)
    {
      g_autofree guchar *sig = NULL;
      gsize sig_size = 0;
      TPM2B_DIGEST hash = { .size = TPM2_SHA256_DIGEST_SIZE };
      TPMT_SIGNATURE signature = {
        .sigAlg = TPM2_ALG_RSASSA,
        .signature.rsassa.hash = TPM2_ALG_SHA256,
      };

      if (!spec->signature_json)
        {
          r = -ENXIO;
          goto finish;
        }
      r = find_signature (spec->signature_json, spec->bank, spec->pubkey_pcr_mask, fp,
                          approved->buffer, approved->size, &sig, &sig_size);
      if (r < 0)
        goto finish;
      if (sig_size > sizeof (signature.signature.rsassa.sig.buffer))
        {
          r = -EBADMSG;
          goto finish;
        }
      signature.signature.rsassa.sig.size = (UINT16) sig_size;
      memcpy (signature.signature.rsassa.sig.buffer, sig, sig_size);

      /* The TPM checks the RSA part; the SHA-256 of the policy is ours. */
      SHA256 (approved->buffer, approved->size, hash.buffer);
      rc = Esys_VerifySignature (t->esys, key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &hash, &signature, &ticket);
      if (rc != TSS2_RC_SUCCESS)
        {
          r = tss_error (rc, "VerifySignature");
          if (r == -EIO)
            r = -EPERM;
          goto finish;
        }
    }

  rc = Esys_PolicyAuthorize (t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                             approved, &no_ref, name, ticket ? ticket : &null_ticket);
  if (rc != TSS2_RC_SUCCESS)
    {
      r = tss_error (rc, "PolicyAuthorize");
      goto finish;
    }
  r = 0;

finish:
  Esys_Free (ticket);
  Esys_Free (approved);
  Esys_Free (name);
  flush (t, &key);
  return r;
}

/* Runs the policy commands in session and reads back its digest. */
static int
apply_policy (ImprintTpm2 *t, ESYS_TR session, bool trial, const PolicySpec *spec,
              uint8_t ret_digest[TPM2_SHA256_DIGEST_SIZE])
{
  TPM2B_DIGEST *digest = NULL;
  TSS2_RC rc;
  int r;

  if (spec->pubkey_pem && spec->pubkey_pcr_mask != 0)
    {
      r = apply_signed_policy (t, session, trial, spec);
      if (r < 0)
        return r;
    }

  if (spec->pcr_mask != 0)
    {
      /* An empty digest: the TPM uses the PCRs' current values. */
      const TPM2B_DIGEST empty = { 0 };
      TPML_PCR_SELECTION sel;

      pcr_selection (spec->pcr_mask, spec->bank, &sel);
      rc = Esys_PolicyPCR (t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &empty, &sel);
      if (rc != TSS2_RC_SUCCESS)
        return tss_error (rc, "PolicyPCR");
    }

  if (spec->pin)
    {
      rc = Esys_PolicyAuthValue (t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE);
      if (rc != TSS2_RC_SUCCESS)
        return tss_error (rc, "PolicyAuthValue");
    }

  rc = Esys_PolicyGetDigest (t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &digest);
  if (rc != TSS2_RC_SUCCESS)
    return tss_error (rc, "PolicyGetDigest");

  if (digest->size != TPM2_SHA256_DIGEST_SIZE)
    {
      Esys_Free (digest);
      return -EIO;
    }
  memcpy (ret_digest, digest->buffer, TPM2_SHA256_DIGEST_SIZE);
  Esys_Free (digest);
  return 0;
}

static int
start_policy_session (ImprintTpm2 *t, ESYS_TR tpm_key, TPM2_SE type, ESYS_TR *ret)
{
  const TPMT_SYM_DEF sym_aes = {
    .algorithm = TPM2_ALG_AES,
    .keyBits.aes = 128,
    .mode.aes = TPM2_ALG_CFB,
  };
  const TPMT_SYM_DEF sym_null = { .algorithm = TPM2_ALG_NULL };
  TSS2_RC rc;

  rc = Esys_StartAuthSession (t->esys, tpm_key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                              NULL, type, type == TPM2_SE_TRIAL ? &sym_null : &sym_aes,
                              TPM2_ALG_SHA256, ret);
  if (rc != TSS2_RC_SUCCESS)
    return tss_error (rc, "StartAuthSession(policy)");
  return 0;
}

static int
trial_policy (ImprintTpm2 *t, const PolicySpec *spec, uint8_t ret[TPM2_SHA256_DIGEST_SIZE])
{
  ESYS_TR session = ESYS_TR_NONE;
  int r;

  r = start_policy_session (t, ESYS_TR_NONE, TPM2_SE_TRIAL, &session);
  if (r < 0)
    return r;

  r = apply_policy (t, session, true, spec, ret);
  flush (t, &session);
  return r;
}

int
imprint_tpm2_calculate_policy (ImprintTpm2 *t, uint32_t pcr_mask, uint16_t pcr_bank, bool pin,
                               uint8_t ret[TPM2_SHA256_DIGEST_SIZE])
{
  const PolicySpec spec = { .pcr_mask = pcr_mask, .bank = pcr_bank, .pin = pin };
  return trial_policy (t, &spec, ret);
}

static void
hash_pin (const char *pin, TPM2B_AUTH *ret)
{
  /* systemd without tpm2_salt: userAuth = SHA256(PIN as typed). */
  ret->size = TPM2_SHA256_DIGEST_SIZE;
  SHA256 ((const unsigned char *) pin, strlen (pin), ret->buffer);
}

void
imprint_tpm2_sealed_done (ImprintTpm2Sealed *s)
{
  if (!s)
    return;
  g_free (s->blob);
  g_free (s->pubkey_pem);
  if (s->secret)
    imprint_secret_free (s->secret);
  *s = (ImprintTpm2Sealed) { 0 };
}

int
imprint_tpm2_seal (ImprintTpm2 *t, uint32_t pcr_mask, uint16_t pcr_bank, const char *pin,
                   ImprintTpm2Sealed *ret)
{
  const ImprintTpm2SealParams p = { .pcr_mask = pcr_mask, .pcr_bank = pcr_bank, .pin = pin };
  return imprint_tpm2_seal_full (t, &p, ret);
}

int
imprint_tpm2_seal_full (ImprintTpm2 *t, const ImprintTpm2SealParams *params, ImprintTpm2Sealed *ret)
{
  uint32_t pcr_mask = params->pcr_mask;
  uint16_t pcr_bank = params->pcr_bank, primary_alg = params->primary_alg;
  const char *pin = params->pin;
  uint32_t pubkey_pcr_mask = params->pubkey_pem
    ? (params->pubkey_pcr_mask ? params->pubkey_pcr_mask : IMPRINT_TPM2_DEFAULT_PUBKEY_PCR_MASK)
    : 0;
  PolicySpec spec;
  ESYS_TR primary = ESYS_TR_NONE, enc = ESYS_TR_NONE;
  TPM2B_SENSITIVE_CREATE sensitive = { 0 };
  TPM2B_PUBLIC template = { .size = sizeof (TPMT_PUBLIC) };
  const TPM2B_DATA outside = { 0 };
  const TPML_PCR_SELECTION creation_pcr = { 0 };
  TPM2B_PRIVATE *priv = NULL;
  TPM2B_PUBLIC *pub = NULL;
  ImprintTpm2Sealed s = { 0 };
  uint8_t buf[sizeof (TPM2B_PRIVATE) + sizeof (TPM2B_PUBLIC)];
  size_t off = 0;
  TSS2_RC rc;
  int r;

  if (pcr_mask >= (UINT32_C (1) << 24) || pubkey_pcr_mask >= (UINT32_C (1) << 24))
    return -EINVAL;

  if (pcr_bank == 0)
    {
      ImprintTpm2Info info;

      r = imprint_tpm2_get_info (t, &info);
      if (r < 0)
        return r;
      r = imprint_tpm2_pick_bank (&info, (pcr_mask | pubkey_pcr_mask) ? (pcr_mask | pubkey_pcr_mask) : IMPRINT_TPM2_DEFAULT_PCR_MASK,
                                  &pcr_bank);
      imprint_tpm2_info_done (&info);
      if (r < 0)
        return r;
    }

  s.pcr_mask = pcr_mask;
  s.pcr_bank = pcr_bank;
  s.pin = pin != NULL;
  s.policy_hash_size = TPM2_SHA256_DIGEST_SIZE;
  s.pubkey_pcr_mask = pubkey_pcr_mask;
  s.pubkey_pem = g_strdup (params->pubkey_pem);

  spec = (PolicySpec) {
    .pcr_mask = pcr_mask,
    .bank = pcr_bank,
    .pin = s.pin,
    .pubkey_pem = params->pubkey_pem,
    .pubkey_pcr_mask = pubkey_pcr_mask,
  };
  r = trial_policy (t, &spec, s.policy_hash);
  if (r < 0)
    {
      imprint_tpm2_sealed_done (&s);
      return r;
    }

  /* ECC first, RSA when the TPM cannot do P-256: the alg goes into the
   * token so that unlocking recreates the same primary. */
  if (primary_alg != 0 && primary_alg != TPM2_ALG_ECC && primary_alg != TPM2_ALG_RSA)
    r = -EINVAL;
  else
    {
      s.primary_alg = primary_alg ? primary_alg : TPM2_ALG_ECC;
      r = create_primary (t, s.primary_alg, &primary);
      if (r < 0 && primary_alg == 0)
        {
          s.primary_alg = TPM2_ALG_RSA;
          r = create_primary (t, TPM2_ALG_RSA, &primary);
        }
    }
  if (r < 0)
    {
      imprint_tpm2_sealed_done (&s);
      return r;
    }

  r = start_encryption_session (t, primary, &enc);
  if (r < 0)
    goto finish;

  /* The sealed object, as systemd makes it: KEYEDHASH, no scheme, only
   * the policy authorizes use (no USERWITHAUTH). */
  template.publicArea.type = TPM2_ALG_KEYEDHASH;
  template.publicArea.nameAlg = TPM2_ALG_SHA256;
  template.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT;
  template.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
  template.publicArea.unique.keyedHash.size = IMPRINT_TPM2_SECRET_SIZE;
  template.publicArea.authPolicy.size = TPM2_SHA256_DIGEST_SIZE;
  memcpy (template.publicArea.authPolicy.buffer, s.policy_hash, TPM2_SHA256_DIGEST_SIZE);

  sensitive.sensitive.data.size = IMPRINT_TPM2_SECRET_SIZE;
  r = imprint_random_bytes (sensitive.sensitive.data.buffer, IMPRINT_TPM2_SECRET_SIZE);
  if (r < 0)
    goto finish;
  if (pin)
    hash_pin (pin, &sensitive.sensitive.userAuth);

  rc = Esys_Create (t->esys, primary, ESYS_TR_PASSWORD, enc, ESYS_TR_NONE,
                    &sensitive, &template, &outside, &creation_pcr,
                    &priv, &pub, NULL, NULL, NULL);
  if (rc != TSS2_RC_SUCCESS)
    {
      r = tss_error (rc, "Create");
      goto finish;
    }

  rc = Tss2_MU_TPM2B_PRIVATE_Marshal (priv, buf, sizeof (buf), &off);
  if (rc == TSS2_RC_SUCCESS)
    rc = Tss2_MU_TPM2B_PUBLIC_Marshal (pub, buf, sizeof (buf), &off);
  if (rc != TSS2_RC_SUCCESS)
    {
      r = tss_error (rc, "marshalling");
      goto finish;
    }

  s.blob = g_memdup2 (buf, off);
  s.blob_size = off;
  s.secret = (uint8_t *) imprint_secret_memdup0 (sensitive.sensitive.data.buffer, IMPRINT_TPM2_SECRET_SIZE);
  if (s.secret == NULL)
    {
      r = -ENOMEM;
      goto finish;
    }
  s.secret_size = IMPRINT_TPM2_SECRET_SIZE;
  *ret = s;
  s = (ImprintTpm2Sealed) { 0 };
  r = 0;

finish:
  explicit_bzero (&sensitive, sizeof (sensitive));
  Esys_Free (priv);
  Esys_Free (pub);
  flush (t, &enc);
  flush (t, &primary);
  imprint_tpm2_sealed_done (&s);
  return r;
}

int
imprint_tpm2_unseal (ImprintTpm2 *t, const ImprintTpm2Sealed *sealed, const char *pin,
                     void **ret_secret, size_t *ret_secret_size)
{
  return imprint_tpm2_unseal_full (t, sealed, pin, NULL, ret_secret, ret_secret_size);
}

int
imprint_tpm2_unseal_full (ImprintTpm2 *t, const ImprintTpm2Sealed *sealed, const char *pin,
                          const char *signature_json, void **ret_secret, size_t *ret_secret_size)
{
  PolicySpec spec;
  ESYS_TR primary = ESYS_TR_NONE, enc = ESYS_TR_NONE, object = ESYS_TR_NONE, policy = ESYS_TR_NONE;
  TPM2B_PRIVATE priv = { 0 };
  TPM2B_PUBLIC pub = { 0 };
  TPM2B_SENSITIVE_DATA *out = NULL;
  uint8_t digest[TPM2_SHA256_DIGEST_SIZE];
  void *secret;
  size_t off = 0;
  TSS2_RC rc;
  int r;

  if (!sealed || !sealed->blob || (sealed->pin && !pin))
    return sealed && sealed->pin && !pin ? -ENOANO : -EINVAL;

  rc = Tss2_MU_TPM2B_PRIVATE_Unmarshal (sealed->blob, sealed->blob_size, &off, &priv);
  if (rc == TSS2_RC_SUCCESS)
    rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal (sealed->blob, sealed->blob_size, &off, &pub);
  if (rc != TSS2_RC_SUCCESS)
    {
      (void) tss_error (rc, "unmarshalling");
      return -EBADMSG;
    }

  r = create_primary (t, sealed->primary_alg, &primary);
  if (r < 0)
    return r;

  rc = Esys_Load (t->esys, primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &object);
  if (rc != TSS2_RC_SUCCESS)
    {
      r = tss_error (rc, "Load");
      goto finish;
    }

  r = start_encryption_session (t, primary, &enc);
  if (r < 0)
    goto finish;

  r = start_policy_session (t, primary, TPM2_SE_POLICY, &policy);
  if (r < 0)
    goto finish;

  spec = (PolicySpec) {
    .pcr_mask = sealed->pcr_mask,
    .bank = sealed->pcr_bank,
    .pin = sealed->pin,
    .pubkey_pem = sealed->pubkey_pem,
    .pubkey_pcr_mask = sealed->pubkey_pcr_mask,
    .signature_json = signature_json,
  };
  r = apply_policy (t, policy, false, &spec, digest);
  if (r < 0)
    goto finish;

  /* As systemd: a different digest means the PCRs moved on; say so
   * instead of letting Unseal fail with a policy error. */
  if (sealed->policy_hash_size > 0 &&
      (sealed->policy_hash_size != sizeof (digest) || memcmp (digest, sealed->policy_hash, sizeof (digest)) != 0))
    {
      r = -ESTALE;
      goto finish;
    }

  /* The PIN only counts when the policy has PolicyAuthValue. */
  if (sealed->pin)
    {
      TPM2B_AUTH auth;

      hash_pin (pin, &auth);
      rc = Esys_TR_SetAuth (t->esys, object, &auth);
      explicit_bzero (&auth, sizeof (auth));
      if (rc != TSS2_RC_SUCCESS)
        {
          r = tss_error (rc, "TR_SetAuth");
          goto finish;
        }
    }

  rc = Esys_Unseal (t->esys, object, policy, enc, ESYS_TR_NONE, &out);
  if (rc != TSS2_RC_SUCCESS)
    {
      r = tss_error (rc, "Unseal");
      goto finish;
    }

  /* Esys hands the secret back in its own malloc()ed TPM2B: copy it into
   * secret memory at once and wipe Esys's copy before Esys_Free(). */
  secret = imprint_secret_memdup0 (out->buffer, out->size);
  explicit_bzero (out->buffer, out->size);
  if (secret == NULL)
    {
      r = -ENOMEM;
      goto finish;
    }
  *ret_secret = secret;
  *ret_secret_size = out->size;
  r = 0;

finish:
  Esys_Free (out);
  flush (t, &policy);
  flush (t, &enc);
  flush (t, &object);
  flush (t, &primary);
  return r;
}

JsonObject *
imprint_tpm2_token_new (const ImprintTpm2Sealed *sealed)
{
  JsonObject *o = json_object_new ();
  g_autoptr (JsonArray) pcrs = json_array_new ();
  g_autofree char *blob = g_base64_encode (sealed->blob, sealed->blob_size);
  g_autoptr (GString) hex = g_string_new (NULL);

  for (size_t i = 0; i < sealed->policy_hash_size; i++)
    g_string_append_printf (hex, "%02x", sealed->policy_hash[i]);
  for (int i = 0; i < 24; i++)
    if (sealed->pcr_mask & (UINT32_C (1) << i))
      json_array_add_int_element (pcrs, i);

  /* Field order as systemd's tpm2_make_luks2_json(); "keyslots" is added
   * on import. */
  json_object_set_string_member (o, "type", "systemd-tpm2");
  json_object_set_string_member (o, "tpm2-blob", blob);
  json_object_set_array_member (o, "tpm2-pcrs", g_steal_pointer (&pcrs));
  json_object_set_string_member (o, "tpm2-pcr-bank", imprint_tpm2_hash_alg_to_string (sealed->pcr_bank));
  json_object_set_string_member (o, "tpm2-primary-alg", sealed->primary_alg == TPM2_ALG_RSA ? "rsa" : "ecc");
  json_object_set_string_member (o, "tpm2-policy-hash", hex->str);
  json_object_set_boolean_member (o, "tpm2-pin", sealed->pin);
  /* Signed PCR policy (systemd 252+): the key as base64 of its PEM text. */
  if (sealed->pubkey_pem && sealed->pubkey_pcr_mask != 0)
    {
      g_autoptr (JsonArray) pk_pcrs = json_array_new ();
      g_autofree char *pem64 = g_base64_encode ((const guchar *) sealed->pubkey_pem, strlen (sealed->pubkey_pem));

      for (int i = 0; i < 24; i++)
        if (sealed->pubkey_pcr_mask & (UINT32_C (1) << i))
          json_array_add_int_element (pk_pcrs, i);
      json_object_set_array_member (o, "tpm2_pubkey_pcrs", g_steal_pointer (&pk_pcrs));
      json_object_set_string_member (o, "tpm2_pubkey", pem64);
    }
  return o;
}

int
imprint_tpm2_token_parse (JsonObject *token, ImprintTpm2Sealed *ret)
{
  static const char *const newer[] = {
    "tpm2_srk", "tpm2_salt", "tpm2_pcrlock", "tpm2_pcrlock_nv",
  };
  ImprintTpm2Sealed s = { 0 };
  JsonArray *pcrs;
  const char *str;
  g_autofree guchar *blob = NULL;
  gsize blob_size = 0;

  if (!token || g_strcmp0 (json_object_get_string_member_with_default (token, "type", NULL), "systemd-tpm2") != 0)
    return -EINVAL;

  for (size_t i = 0; i < G_N_ELEMENTS (newer); i++)
    if (json_object_has_member (token, newer[i]))
      return -EOPNOTSUPP;

  if (!json_object_has_member (token, "tpm2-pcrs") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (token, "tpm2-pcrs")))
    return -EBADMSG;
  pcrs = json_object_get_array_member (token, "tpm2-pcrs");
  for (guint i = 0; i < json_array_get_length (pcrs); i++)
    {
      JsonNode *n = json_array_get_element (pcrs, i);
      gint64 v;

      if (json_node_get_value_type (n) != G_TYPE_INT64)
        return -EBADMSG;
      v = json_node_get_int (n);
      if (v < 0 || v >= 24)
        return -EBADMSG;
      s.pcr_mask |= UINT32_C (1) << v;
    }

  /* Defaults of the fields that came later (systemd 250, 251). */
  str = json_object_get_string_member_with_default (token, "tpm2-pcr-bank", "sha256");
  s.pcr_bank = imprint_tpm2_hash_alg_from_string (str);
  if (s.pcr_bank == 0)
    return -EBADMSG;

  str = json_object_get_string_member_with_default (token, "tpm2-primary-alg", "ecc");
  if (g_ascii_strcasecmp (str, "ecc") == 0)
    s.primary_alg = TPM2_ALG_ECC;
  else if (g_ascii_strcasecmp (str, "rsa") == 0)
    s.primary_alg = TPM2_ALG_RSA;
  else
    return -EBADMSG;

  s.pin = json_object_get_boolean_member_with_default (token, "tpm2-pin", FALSE);

  str = json_object_get_string_member_with_default (token, "tpm2-blob", NULL);
  if (!str)
    return -EBADMSG;
  blob = g_base64_decode (str, &blob_size);
  if (!blob || blob_size == 0)
    return -EBADMSG;

  str = json_object_get_string_member_with_default (token, "tpm2-policy-hash", NULL);
  if (!str || strlen (str) != 2 * TPM2_SHA256_DIGEST_SIZE)
    return -EBADMSG;
  for (size_t i = 0; i < TPM2_SHA256_DIGEST_SIZE; i++)
    {
      int hi = g_ascii_xdigit_value (str[2 * i]), lo = g_ascii_xdigit_value (str[2 * i + 1]);
      if (hi < 0 || lo < 0)
        return -EBADMSG;
      s.policy_hash[i] = (uint8_t) (hi << 4 | lo);
    }
  s.policy_hash_size = TPM2_SHA256_DIGEST_SIZE;

  if (json_object_has_member (token, "tpm2_pubkey"))
    {
      gsize pem_size = 0;
      g_autofree guchar *pem = NULL;
      JsonNode *pk_pcrs = json_object_get_member (token, "tpm2_pubkey_pcrs");

      str = json_object_get_string_member_with_default (token, "tpm2_pubkey", NULL);
      if (!str)
        return -EBADMSG;
      pem = g_base64_decode (str, &pem_size);
      if (!pem || pem_size == 0 || memchr (pem, 0, pem_size))
        return -EBADMSG;
      if (pk_pcrs)
        {
          JsonArray *a;

          if (!JSON_NODE_HOLDS_ARRAY (pk_pcrs))
            return -EBADMSG;
          a = json_node_get_array (pk_pcrs);
          for (guint i = 0; i < json_array_get_length (a); i++)
            {
              gint64 v = json_array_get_int_element (a, i);
              if (v < 0 || v >= 24)
                return -EBADMSG;
              s.pubkey_pcr_mask |= UINT32_C (1) << v;
            }
        }
      s.pubkey_pem = g_strndup ((const char *) pem, pem_size);
    }

  s.blob = g_steal_pointer (&blob);
  s.blob_size = blob_size;
  *ret = s;
  return 0;
}

int
imprint_tpm2_secret_to_passphrase (const void *secret, size_t size, char **ret)
{
  gint state = 0, save = 0;
  char *b64;
  size_t len;

  if (!secret || size == 0)
    return -EINVAL;

  /* Encoded straight into secret memory: no copy of it on the heap.
   * g_base64_encode_step() wants (len / 3 + 1) * 4 + 4 bytes, and
   * g_base64_encode_close() up to 5 more. */
  if (size / 3 + 1 > (SIZE_MAX - 10) / 4)
    return -ENOMEM;
  b64 = imprint_secret_alloc ((size / 3 + 1) * 4 + 4 + 5 + 1);
  if (b64 == NULL)
    return -ENOMEM;
  len = g_base64_encode_step (secret, size, FALSE, b64, &state, &save);
  len += g_base64_encode_close (FALSE, b64 + len, &state, &save);
  b64[len] = '\0';
  explicit_bzero (&save, sizeof (save));
  *ret = b64;
  return 0;
}
