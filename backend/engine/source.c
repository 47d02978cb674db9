/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include <fcntl.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libfdisk.h>
#include <linux/fs.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "buffer.h"
#include "copy.h"
#include "imprint-error.h"
#include "json-bounded.h"
#include "lba.h"
#include "macros.h"
#include "plan-private.h"
#include "source.h"
#include "cleanup-util-linux.h"

typedef struct {
  const char *name;   /* as in the spec: "x86-64" */
  const char *root, *usr, *usr_verity, *usr_verity_sig;
} ArchTypes;

static const ArchTypes arch_types[] = {
  { "x86-64",
    "4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "8484680c-9521-48c6-9c11-b0720656f69e",
    "77ff5f63-e7b6-4633-acf4-1565b864c0e6", "e7bb33fb-06cf-4e81-8273-e543b413e2e2" },
  { "arm64",
    "b921b045-1df0-41c3-af44-4c6f280d3fae", "b0e01050-ee5f-4390-949a-9101b17104e9",
    "6e11a4e7-fbca-4ded-b9e9-e1a512bb664e", "c23ce4ff-44bd-4b00-b2d4-b41b3419e02a" },
};

static const ArchTypes *
native_arch (void)
{
#if defined(__x86_64__)
  return &arch_types[0];
#elif defined(__aarch64__)
  return &arch_types[1];
#else
  return NULL;
#endif
}

const char *imprint_gpt_type_usr_native (void)            { return native_arch () ? native_arch ()->usr : NULL; }
const char *imprint_gpt_type_usr_verity_native (void)     { return native_arch () ? native_arch ()->usr_verity : NULL; }
const char *imprint_gpt_type_usr_verity_sig_native (void) { return native_arch () ? native_arch ()->usr_verity_sig : NULL; }
const char *imprint_gpt_type_root_native (void)           { return native_arch () ? native_arch ()->root : NULL; }

const char *
imprint_gpt_type_name (const char *type)
{
  static const struct { const char *uuid, *name; } fixed[] = {
    { IMPRINT_GPT_ESP, "esp" },
    { IMPRINT_GPT_XBOOTLDR, "xbootldr" },
    { "933ac7e1-2eb4-4f13-b844-0e14e2aef915", "home" },
    { "3b8f8425-20e0-4f3b-907f-1a25a76f98e8", "srv" },
    { "4d21b016-b534-45c2-a9fb-5c16e091fd2d", "var" },
    { "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", "swap" },
    { "e3c9e316-0b5c-4db8-817d-f92df00215ae", "microsoft-reserved" },
    { "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "microsoft-basic-data" },
    { "de94bba4-06d1-4d40-a16a-bfd50179d6ac", "windows-recovery" },
    { "0fc63daf-8483-4772-8e79-3d69d8477de4", "linux-generic" },
  };

  if (type == NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (fixed); i++)
    if (g_ascii_strcasecmp (type, fixed[i].uuid) == 0)
      return fixed[i].name;
  /* Names as systemd-repart spells them. */
  static const char *const names[][4] = {
    { "root-x86-64", "usr-x86-64", "usr-x86-64-verity", "usr-x86-64-verity-sig" },
    { "root-arm64", "usr-arm64", "usr-arm64-verity", "usr-arm64-verity-sig" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (arch_types); i++)
    {
      const char *u[4] = { arch_types[i].root, arch_types[i].usr,
                           arch_types[i].usr_verity, arch_types[i].usr_verity_sig };
      for (int k = 0; k < 4; k++)
        if (g_ascii_strcasecmp (type, u[k]) == 0)
          return names[i][k];
    }
  return NULL;
}

void
imprint_partition_clear (ImprintPartition *p)
{
  g_clear_pointer (&p->type, g_free);
  g_clear_pointer (&p->uuid, g_free);
  g_clear_pointer (&p->label, g_free);
  memset (p, 0, sizeof (*p));
}

void
imprint_partition_free (ImprintPartition *p)
{
  if (p == NULL)
    return;
  imprint_partition_clear (p);
  g_free (p);
}

void
imprint_partition_copy (ImprintPartition *dst, const ImprintPartition *src)
{
  *dst = *src;
  dst->type = g_strdup (src->type);
  dst->uuid = g_strdup (src->uuid);
  dst->label = g_strdup (src->label);
}

void
imprint_source_free (ImprintSource *s)
{
  if (s == NULL)
    return;
  if (s->fd >= 0)
    close (s->fd);
  g_free (s->path);
  g_free (s->display);
  g_free (s->disk_uuid);
  imprint_partition_clear (&s->esp);
  imprint_partition_clear (&s->usr);
  imprint_partition_clear (&s->usr_verity);
  imprint_partition_clear (&s->usr_verity_sig);
  g_free (s->name);
  g_free (s->version);
  g_free (s->root_hash);
  g_free (s->certificate_fingerprint);
  g_free (s->signature_json);
  imprint_verity_tree_free (s->tree);
  g_free (s);
}

gboolean
imprint_parse_version_label (const char *label, char **ret_name, char **ret_version)
{
  const char *us;

  if (label == NULL || g_str_equal (label, IMPRINT_EMPTY_LABEL))
    return FALSE;
  us = strrchr (label, '_');
  if (us == NULL || us == label || us[1] == 0)
    return FALSE;
  if (ret_name)
    *ret_name = g_strndup (label, us - label);
  if (ret_version)
    *ret_version = g_strdup (us + 1);
  return TRUE;
}

static int
read_exact (int fd, void *buf, size_t len, guint64 offset)
{
  guint8 *p = buf;
  while (len > 0)
    {
      ssize_t n = pread (fd, p, len, (off_t) offset);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -errno;
        }
      if (n == 0)
        return -EIO; /* short file: truncated */
      p += n;
      len -= (size_t) n;
      offset += (guint64) n;
    }
  return 0;
}

static char *
uuid_from_hash_half (const char *root_hash, gboolean second)
{
  const char *h = root_hash + (second ? 32 : 0);
  return g_strdup_printf ("%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

typedef struct {
  ImprintPartition part;
  char *json;
  char *root_hash;
  char *fingerprint;
  char *signature;
} SigCandidate;

static void
sig_candidate_clear (SigCandidate *c)
{
  imprint_partition_clear (&c->part);
  g_free (c->json);
  g_free (c->root_hash);
  g_free (c->fingerprint);
  g_free (c->signature);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SigCandidate, sig_candidate_clear)

/* Reads {"rootHash":"…","signature":"…"[,"certificateFingerprint":"…"]},
 * NUL-padded to the partition size. Only the first
 * IMPRINT_SIGNATURE_MAX_JSON bytes are read (real ones are a few KiB;
 * systemd-repart makes the partition 16 KiB): JSON that does not end there
 * is refused, so a hostile image costs 64 KiB, whatever its partition
 * claims. */
gboolean
imprint_signature_json_parse (const char *buf, gsize size, char **ret_json, char **ret_root_hash,
                              char **ret_signature, char **ret_fingerprint, GError **error)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) local = NULL;
  JsonObject *o;
  gsize len = strnlen (buf, size);

  if (len == size && size >= IMPRINT_SIGNATURE_MAX_JSON)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity signature partition holds more than %u bytes of JSON"),
                   IMPRINT_SIGNATURE_MAX_JSON);
      return FALSE;
    }
  /* Bounded before json-glib sees it: it recurses per nesting level. */
  o = imprint_json_parse_object (buf, (gssize) len, IMPRINT_SIGNATURE_MAX_JSON, &root, &local);
  if (o == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity signature partition does not contain valid JSON: %s"),
                   local->message);
      return FALSE;
    }
  const char *rh = imprint_json_object_get_string (o, "rootHash");
  const char *sig = imprint_json_object_get_string (o, "signature");
  if (rh == NULL || sig == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity signature partition lacks \"rootHash\" or \"signature\""));
      return FALSE;
    }
  guint8 tmp[IMPRINT_VERITY_MAX_DIGEST];
  if (strlen (rh) != 64 || imprint_verity_unhex (rh, tmp, sizeof (tmp)) != 32)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The root hash in the verity signature partition is not a SHA-256 hash in hex: \"%s\""),
                   rh);
      return FALSE;
    }
  if (ret_json)
    *ret_json = g_strndup (buf, len);
  if (ret_root_hash)
    *ret_root_hash = g_ascii_strdown (rh, -1);
  if (ret_signature)
    *ret_signature = g_strdup (sig);
  if (ret_fingerprint)
    *ret_fingerprint = g_strdup (imprint_json_object_get_string (o, "certificateFingerprint"));
  return TRUE;
}

static gboolean
read_signature (int fd, const ImprintPartition *p, SigCandidate *c, GError **error)
{
  g_autofree char *buf = NULL;
  gsize n;
  int r;

  if (p->size == 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity signature partition is empty"));
      return FALSE;
    }
  n = (gsize) MIN (p->size, (guint64) IMPRINT_SIGNATURE_MAX_JSON);
  buf = g_malloc0 (n + 1);
  r = read_exact (fd, buf, n, p->offset);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("Cannot read the verity signature partition: %s"), g_strerror (-r));
      return FALSE;
    }
  if (!imprint_signature_json_parse (buf, n, &c->json, &c->root_hash, &c->signature,
                                     &c->fingerprint, error))
    return FALSE;
  imprint_partition_copy (&c->part, p);
  return TRUE;
}

/* The signature is PKCS#7 (DER, base64) over the hex root hash, as
 * systemd-repart writes it and the kernel checks it. */
static gboolean
verify_signature (const char *root_hash, const char *signature_b64,
                  const char *cert_path, const char *cert_pem, GError **error)
{
  g_autofree guint8 *der = NULL;
  gsize der_len = 0;
  BIO *in = NULL, *data = NULL, *certbio = NULL;
  PKCS7 *p7 = NULL;
  X509 *cert = NULL;
  STACK_OF(X509) *certs = NULL;
  X509_STORE *store = NULL;
  gboolean ok = FALSE;

  der = g_base64_decode (signature_b64, &der_len);
  in = BIO_new_mem_buf (der, (int) der_len);
  p7 = in ? d2i_PKCS7_bio (in, NULL) : NULL;
  if (p7 == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity signature is not a PKCS#7 signature"));
      goto out;
    }
  certbio = cert_pem != NULL ? BIO_new_mem_buf (cert_pem, -1) : BIO_new_file (cert_path, "r");
  cert = certbio ? PEM_read_bio_X509 (certbio, NULL, NULL, NULL) : NULL;
  if (cert == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Cannot read the certificate %s"), cert_path ? cert_path : "");
      goto out;
    }
  certs = sk_X509_new_null ();
  store = X509_STORE_new ();
  data = BIO_new_mem_buf (root_hash, (int) strlen (root_hash));
  if (certs == NULL || store == NULL || data == NULL || !sk_X509_push (certs, cert))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("Out of memory"));
      goto out;
    }
  cert = NULL; /* owned by certs now */
  /* Only the given certificate may have signed; no chain to a CA here, the
   * certificate itself is the trust anchor. */
  if (PKCS7_verify (p7, certs, store, data, NULL,
                    PKCS7_NOINTERN | PKCS7_NOVERIFY | PKCS7_BINARY | PKCS7_DETACHED) != 1)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity signature does not verify with the certificate %s"),
                   cert_path ? cert_path : "");
      goto out;
    }
  ok = TRUE;
out:
  BIO_free (in);
  BIO_free (data);
  BIO_free (certbio);
  PKCS7_free (p7);
  X509_free (cert);
  sk_X509_pop_free (certs, X509_free);
  X509_STORE_free (store);
  return ok;
}

/* The table as libfdisk reads it from @cxt. Partitions whose sectors do
 * not convert to bytes (empty, end before start, beyond 64 bits) make the
 * whole table invalid: the rest of the code trusts offset + size. */
static int
read_gpt_cxt (struct fdisk_context *cxt, const char *name, guint32 *ret_sector_size,
              char **ret_disk_uuid, GPtrArray **ret_parts, GError **error)
{
  _cleanup_(fdisk_unref_tablep) struct fdisk_table *tb = NULL;
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func ((GDestroyNotify) imprint_partition_free);
  char *id = NULL;
  int r;

  if (!fdisk_is_labeltype (cxt, FDISK_DISKLABEL_GPT))
    {
      /* Not an error for the caller that only wants to know. */
      if (ret_sector_size)
        *ret_sector_size = fdisk_get_sector_size (cxt);
      if (ret_disk_uuid)
        *ret_disk_uuid = NULL;
      if (ret_parts)
        *ret_parts = NULL;
      return 0;
    }
  r = fdisk_get_partitions (cxt, &tb);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("Cannot read the partition table of %s: %s"), name, g_strerror (-r));
      return r;
    }
  guint32 ss = fdisk_get_sector_size (cxt);
  for (size_t i = 0; i < fdisk_table_get_nents (tb); i++)
    {
      struct fdisk_partition *pa = fdisk_table_get_partition (tb, i);
      struct fdisk_parttype *pt;
      ImprintPartition *p;
      uint64_t attrs = 0;

      if (!fdisk_partition_is_used (pa))
        continue;
      p = g_new0 (ImprintPartition, 1);
      g_ptr_array_add (parts, p);
      p->partno = (guint) fdisk_partition_get_partno (pa);
      pt = fdisk_partition_get_type (pa);
      p->type = g_ascii_strdown (pt ? fdisk_parttype_get_string (pt) : "", -1);
      p->uuid = g_ascii_strdown (fdisk_partition_get_uuid (pa) ?: "", -1);
      p->label = g_strdup (fdisk_partition_get_name (pa) ?: "");
      /* libfdisk gives size = end - start + 1: an end before the start
       * wraps to a huge size, caught by the overflow check. */
      if (!fdisk_partition_has_start (pa) || !fdisk_partition_has_size (pa) ||
          !imprint_lba_range_to_bytes (fdisk_partition_get_start (pa), fdisk_partition_get_size (pa),
                                       ss, &p->offset, &p->size))
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                       _("Partition %u of %s has an invalid start or size"), p->partno + 1, name);
          return -EBADMSG;
        }
      if (fdisk_gpt_get_partition_attrs (cxt, p->partno, &attrs) == 0)
        p->attrs = attrs;
    }
  if (fdisk_get_disklabel_id (cxt, &id) < 0)
    id = NULL;

  if (ret_sector_size)
    *ret_sector_size = ss;
  if (ret_disk_uuid)
    *ret_disk_uuid = id ? g_ascii_strdown (id, -1) : NULL;
  free (id);
  if (ret_parts)
    *ret_parts = g_steal_pointer (&parts);
  return 1;
}

int
imprint_read_gpt (const char *path, guint32 *ret_sector_size, char **ret_disk_uuid,
                  GPtrArray **ret_parts, GError **error)
{
  _cleanup_(fdisk_unref_contextp) struct fdisk_context *cxt = NULL;
  int r;

  cxt = fdisk_new_context ();
  if (cxt == NULL)
    return -ENOMEM;
  r = fdisk_assign_device (cxt, path, 1);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Cannot open %s: %s"), path, g_strerror (-r));
      return r;
    }
  return read_gpt_cxt (cxt, path, ret_sector_size, ret_disk_uuid, ret_parts, error);
}

int
imprint_read_gpt_fd (int fd, const char *name, guint32 *ret_sector_size, char **ret_disk_uuid,
                     GPtrArray **ret_parts, GError **error)
{
  _cleanup_(fdisk_unref_contextp) struct fdisk_context *cxt = NULL;
  int r;

  cxt = fdisk_new_context ();
  if (cxt == NULL)
    return -ENOMEM;
  /* libfdisk does not own (or close) an fd it is given. */
  r = fdisk_assign_device_by_fd (cxt, fd, name, 1);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Cannot open %s: %s"), name, g_strerror (-r));
      return r;
    }
  return read_gpt_cxt (cxt, name, ret_sector_size, ret_disk_uuid, ret_parts, error);
}

static int
cmp_partition_offset (gconstpointer a, gconstpointer b)
{
  const ImprintPartition *p = *(ImprintPartition *const *) a, *q = *(ImprintPartition *const *) b;
  return p->offset < q->offset ? -1 : p->offset > q->offset;
}

gboolean
imprint_partitions_check_layout (GPtrArray *parts, guint64 device_size, const char *name,
                                 GError **error)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();

  for (guint i = 0; i < parts->len; i++)
    {
      ImprintPartition *p = parts->pdata[i];
      guint64 end;

      /* read_gpt_cxt() made sure this does not wrap; checked again since
       * callers may build the array themselves. */
      if (p->size == 0 || !g_uint64_checked_add (&end, p->offset, p->size) || end > device_size)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                       _("The source is truncated or invalid: partition %u (%s) lies outside the "
                         "%" PRIu64 " bytes of %s"),
                       p->partno + 1, p->label && p->label[0] ? p->label : _("unnamed"),
                       device_size, name);
          return FALSE;
        }
      g_ptr_array_add (sorted, p);
    }
  g_ptr_array_sort (sorted, cmp_partition_offset);
  for (guint i = 1; i < sorted->len; i++)
    {
      const ImprintPartition *prev = sorted->pdata[i - 1], *p = sorted->pdata[i];
      if (prev->offset + prev->size > p->offset)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                       _("Partitions %u and %u of %s overlap"), prev->partno + 1, p->partno + 1, name);
          return FALSE;
        }
    }
  return TRUE;
}

static int
device_size (int fd, gboolean *ret_block, guint64 *ret_size)
{
  struct stat st;

  if (fstat (fd, &st) < 0)
    return -errno;
  if (S_ISBLK (st.st_mode))
    {
      uint64_t sz;
      if (ioctl (fd, BLKGETSIZE64, &sz) < 0)
        return -errno;
      *ret_block = TRUE;
      *ret_size = sz;
      return 0;
    }
  if (!S_ISREG (st.st_mode))
    return -ENOTBLK;
  *ret_block = FALSE;
  *ret_size = (guint64) st.st_size;
  return 0;
}

/* FALSE when [@offset, @offset + @len) of a regular file has a hole in it.
 * Block devices and file systems without SEEK_HOLE hold what they say. */
static gboolean
source_range_is_data (const ImprintSource *s, guint64 offset, guint64 len)
{
  off_t hole;

  if (s->is_block_device || len == 0)
    return TRUE;
  hole = lseek (s->fd, (off_t) offset, SEEK_HOLE);
  if (hole < 0)
    return errno == EINVAL || errno == EOPNOTSUPP;
  return (guint64) hole - offset >= len;
}

ImprintSource *
imprint_source_inspect (const char *path, const ImprintSourceOptions *options, GError **error)
{
  int fd;

  /* O_NONBLOCK: a FIFO must not hang us in open(); its type is refused
   * right after. */
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    {
      int r = -errno;
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Cannot open the source %s: %s"), path, g_strerror (-r));
      return NULL;
    }
  return imprint_source_inspect_fd (fd, path, path, options, error);
}

ImprintSource *
imprint_source_inspect_fd (int fd, const char *io_path, const char *display,
                           const ImprintSourceOptions *options, GError **error)
{
  g_autoptr(ImprintSource) s = g_new0 (ImprintSource, 1);
  g_autoptr(GPtrArray) parts = NULL;
  guint8 *hashpart = NULL;
  guint64 hashpart_size = 0;
  const ArchTypes *arch = native_arch ();
  ImprintSourceOptions noopts = { 0 };
  SigCandidate chosen = { 0 };
  guint8 rh[IMPRINT_VERITY_MAX_DIGEST];
  guint8 hdr[512];
  const char *path = display;
  int r, fl;

  if (options == NULL)
    options = &noopts;
  s->fd = fd;
  s->path = io_path ? g_strdup (io_path) : g_strdup_printf ("/proc/%d/fd/%d", (int) getpid (), fd);
  s->display = g_strdup (display);

  if (arch == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                   _("This architecture is not supported"));
      return NULL;
    }

  r = device_size (s->fd, &s->is_block_device, &s->size);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The source %s is neither an image file nor a block device"), path);
      return NULL;
    }
  /* Only now, with a file or a disk: blocking reads from here on. */
  fl = fcntl (s->fd, F_GETFL);
  if (fl >= 0 && (fl & O_NONBLOCK))
    (void) fcntl (s->fd, F_SETFL, fl & ~O_NONBLOCK);

  /* The GPT header names where its backup lives: beyond the end of the
   * file means the image was cut short (a partial download). The header
   * sits in LBA 1: byte 512 or 4096 depending on the sector size. */
  for (guint32 ss = 512; ss <= 4096; ss *= 8)
    {
      r = read_exact (s->fd, hdr, sizeof (hdr), ss);
      if (r < 0 || memcmp (hdr, "EFI PART", 8) != 0)
        continue;
      guint64 alt;
      memcpy (&alt, hdr + 32, 8);
      alt = GUINT64_FROM_LE (alt);
      if (alt < G_MAXUINT64 / ss && (alt + 1) * ss > s->size)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                       _("The source is truncated: its partition table describes %" PRIu64
                         " bytes but %s has only %" PRIu64 " bytes"),
                       (alt + 1) * ss, path, s->size);
          return NULL;
        }
      break;
    }

  r = imprint_read_gpt (s->path, &s->sector_size, &s->disk_uuid, &parts, error);
  if (r < 0)
    return NULL;
  if (r == 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The source %s has no GPT partition table"), path);
      return NULL;
    }

  if (!imprint_partitions_check_layout (parts, s->size, path, error))
    return NULL;
  for (guint i = 0; i < parts->len; i++)
    {
      ImprintPartition *p = parts->pdata[i];
      if (s->esp.type == NULL && g_str_equal (p->type, IMPRINT_GPT_ESP))
        imprint_partition_copy (&s->esp, p);
    }
  if (s->esp.type == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The source has no EFI System Partition"));
      return NULL;
    }

  /* Each signature partition names its root hash, whose halves are the
   * UUIDs of its usr and usr-verity partitions: that pairs them up even
   * when the source holds two slots. */
  const char *trusted = options->trusted_root_hash;
  g_autofree char *trusted_lc = trusted ? g_ascii_strdown (trusted, -1) : NULL;
  guint nsig = 0, nusr = 0;
  g_autoptr(GError) sig_error = NULL;
  for (guint i = 0; i < parts->len; i++)
    {
      ImprintPartition *p = parts->pdata[i];
      g_auto(SigCandidate) c = { 0 };
      g_autoptr(GError) local = NULL;
      g_autofree char *usr_uuid = NULL;
      ImprintPartition *usr = NULL;

      if (g_str_equal (p->type, arch->usr))
        nusr++;
      if (!g_str_equal (p->type, arch->usr_verity_sig) ||
          g_strcmp0 (p->label, IMPRINT_EMPTY_LABEL) == 0)
        continue;
      nsig++;
      if (!read_signature (s->fd, p, &c, &local))
        {
          if (sig_error == NULL)
            sig_error = g_steal_pointer (&local);
          continue;
        }
      if (trusted_lc && !g_str_equal (trusted_lc, c.root_hash))
        continue;
      usr_uuid = uuid_from_hash_half (c.root_hash, FALSE);
      for (guint k = 0; k < parts->len; k++)
        {
          ImprintPartition *q = parts->pdata[k];
          if (g_str_equal (q->type, arch->usr) && g_str_equal (q->uuid, usr_uuid))
            usr = q;
        }
      if (usr == NULL)
        continue;
      /* Several complete slots: take the newest version. */
      g_autofree char *ver = NULL;
      if (chosen.json != NULL)
        {
          g_autofree char *chosen_ver = NULL;
          imprint_parse_version_label (s->usr.label, NULL, &chosen_ver);
          imprint_parse_version_label (usr->label, NULL, &ver);
          if (ver == NULL || (chosen_ver && strverscmp (ver, chosen_ver) <= 0))
            continue;
          sig_candidate_clear (&chosen);
          imprint_partition_clear (&s->usr);
        }
      chosen = c;
      memset (&c, 0, sizeof (c));
      imprint_partition_copy (&s->usr, usr);
    }

  if (chosen.json == NULL)
    {
      sig_candidate_clear (&chosen);
      if (sig_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&sig_error));
          return NULL;
        }
      if (nusr == 0)
        g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                     _("The source has no usr partition for %s"), arch->name);
      else if (nsig == 0)
        g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                     _("The source has no verity signature partition for its usr partition"));
      else if (trusted_lc)
        g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                     _("No verity signature partition of the source carries the trusted root hash %s"),
                     trusted_lc);
      else
        g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                     _("The root hash in the verity signature partition does not match the usr "
                       "partition's UUID (it must be the first half of the root hash)"));
      return NULL;
    }

  s->root_hash = g_steal_pointer (&chosen.root_hash);
  s->root_hash_trusted = trusted_lc != NULL;
  s->certificate_fingerprint = g_steal_pointer (&chosen.fingerprint);
  s->signature_json = g_steal_pointer (&chosen.json);
  imprint_partition_copy (&s->usr_verity_sig, &chosen.part);
  g_autofree char *signature = g_steal_pointer (&chosen.signature);
  sig_candidate_clear (&chosen);

  if ((options->certificate_path || options->certificate_pem) &&
      !verify_signature (s->root_hash, signature, options->certificate_path,
                         options->certificate_pem, error))
    return NULL;

  g_autofree char *verity_uuid = uuid_from_hash_half (s->root_hash, TRUE);
  for (guint k = 0; k < parts->len; k++)
    {
      ImprintPartition *q = parts->pdata[k];
      if (g_str_equal (q->type, arch->usr_verity) && g_str_equal (q->uuid, verity_uuid))
        imprint_partition_copy (&s->usr_verity, q);
    }
  if (s->usr_verity.type == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The source has no usr-verity partition with UUID %s "
                     "(the second half of the root hash %s)"), verity_uuid, s->root_hash);
      return NULL;
    }

  if (!imprint_parse_version_label (s->usr.label, &s->name, &s->version))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The usr partition's label \"%s\" carries no version (expected NAME_VERSION)"),
                   s->usr.label);
      return NULL;
    }

  /* Superblock and tree: checked now, so a tampered hash partition is
   * refused before anything is written. */
  if (s->usr_verity.size < IMPRINT_VERITY_SUPERBLOCK_SIZE)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The usr-verity partition is too small to hold a verity superblock"));
      return NULL;
    }
  r = read_exact (s->fd, hdr, sizeof (hdr), s->usr_verity.offset);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("Cannot read the usr-verity partition: %s"), g_strerror (-r));
      return NULL;
    }
  if (!imprint_verity_superblock_parse (hdr, sizeof (hdr), &s->verity, error))
    return NULL;
  if (imprint_verity_data_size (&s->verity) > s->usr.size)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity superblock covers %" PRIu64 " bytes of data, but the usr "
                     "partition has only %" PRIu64 " bytes"),
                   imprint_verity_data_size (&s->verity), s->usr.size);
      return NULL;
    }
  guint64 end = imprint_verity_tree_end (&s->verity);
  if (end > s->usr_verity.size)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity hash tree needs %" PRIu64 " bytes, but the usr-verity "
                     "partition has only %" PRIu64 " bytes"), end, s->usr_verity.size);
      return NULL;
    }
  if (end > IMPRINT_VERITY_MAX_TREE_BYTES)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity hash tree needs %" PRIu64 " bytes, more than the %llu "
                     "this installer reads"), end, IMPRINT_VERITY_MAX_TREE_BYTES);
      return NULL;
    }
  /* A sparse image file can claim any partition sizes at no cost; the
   * tree must really be there (a real one has no hole: every block holds
   * hashes) before memory is spent on it. */
  if (!source_range_is_data (s, s->usr_verity.offset, end))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity hash tree of the source is missing: the image file has a hole "
                     "where the tree should be"));
      return NULL;
    }
  hashpart = imprint_buffer_alloc (end);
  hashpart_size = end;
  if (hashpart == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("Out of memory"));
      return NULL;
    }
  r = read_exact (s->fd, hashpart, end, s->usr_verity.offset);
  if (r < 0)
    {
      imprint_buffer_free (hashpart, hashpart_size);
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("Cannot read the usr-verity partition: %s"), g_strerror (-r));
      return NULL;
    }
  gssize rhlen = imprint_verity_unhex (s->root_hash, rh, sizeof (rh));
  s->tree = imprint_verity_tree_new (&s->verity, hashpart, end, rh, (size_t) rhlen, error);
  imprint_buffer_free (hashpart, hashpart_size);
  if (s->tree == NULL)
    return NULL;

  return g_steal_pointer (&s);
}

gboolean
imprint_source_verify (ImprintSource *s, ImprintProgress *progress, GError **error)
{
  ImprintCopyJob job = {
    .src_fd = s->fd, .src_offset = s->usr.offset, .dst_fd = -1,
    .length = s->usr.size, .what = _("system partition"), .verify_tree = s->tree,
  };

  imprint_verity_tree_reset (s->tree);
  return imprint_copy (&job, progress, error);
}

static char *
sysfs_block_dir (dev_t dev)
{
  g_autofree char *link = g_strdup_printf ("/sys/dev/block/%u:%u", major (dev), minor (dev));
  return realpath (link, NULL);
}

gboolean
imprint_source_find_running (char **ret_device, char **ret_usrhash, GError **error)
{
  struct stat st;
  g_autofree char *dir = NULL;
  g_autofree char *cmdline = NULL;
  g_autofree char *usrhash = NULL;

  if (stat ("/usr", &st) < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_FOUND, _("Cannot stat /usr: %s"),
                   g_strerror (errno));
      return FALSE;
    }
  dir = sysfs_block_dir (st.st_dev);
  if (dir == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_FOUND,
                   _("/usr is not on a block device"));
      return FALSE;
    }

  /* dm-verity (and anything stacked) lists what it sits on in slaves/. */
  for (int depth = 0; depth < 8; depth++)
    {
      g_autofree char *slaves = g_build_filename (dir, "slaves", NULL);
      g_autoptr(GDir) d = g_dir_open (slaves, 0, NULL);
      const char *first = d ? g_dir_read_name (d) : NULL;
      if (first == NULL)
        break;
      /* dm-verity has two slaves (data and hash); both sit on the same
       * disk, so the first one is enough. */
      g_autofree char *next = g_build_filename (slaves, first, NULL);
      char *resolved = realpath (next, NULL);
      if (resolved == NULL)
        break;
      g_free (dir);
      dir = resolved;
    }

  g_autofree char *partition_file = g_build_filename (dir, "partition", NULL);
  if (g_file_test (partition_file, G_FILE_TEST_EXISTS))
    {
      char *parent = g_path_get_dirname (dir);
      g_free (dir);
      dir = parent;
    }

  g_autofree char *base = g_path_get_basename (dir);
  if (g_file_get_contents ("/proc/cmdline", &cmdline, NULL, NULL))
    {
      g_auto(GStrv) words = g_strsplit_set (g_strstrip (cmdline), " \t\n", -1);
      for (char **w = words; *w; w++)
        if (g_str_has_prefix (*w, "usrhash="))
          {
            g_free (usrhash);
            usrhash = g_strdup (*w + strlen ("usrhash="));
          }
    }

  *ret_device = g_strdup_printf ("/dev/%s", base);
  if (ret_usrhash)
    *ret_usrhash = g_steal_pointer (&usrhash);
  return TRUE;
}

ImprintSource *
imprint_source_inspect_running (GError **error)
{
  g_autofree char *dev = NULL;
  g_autofree char *usrhash = NULL;
  ImprintSourceOptions opts = { 0 };

  if (!imprint_source_find_running (&dev, &usrhash, error))
    return NULL;
  if (usrhash == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The running system was not booted with usrhash= on the kernel command "
                     "line, so its /usr cannot be trusted as an install source"));
      return NULL;
    }
  opts.trusted_root_hash = usrhash;
  return imprint_source_inspect (dev, &opts, error);
}

/* The source's UKI: the one named for its version in \EFI\Linux of its
 * ESP (systemd-boot's Type #2 entries), else the only one there. */
char *
imprint_source_extract_uki (const ImprintSource *source, const char *dir, GError **error)
{
  g_autofree char *spec = NULL, *listing = NULL, *chosen = NULL, *out = NULL;
  g_autofree char *suffix = NULL;
  g_auto(GStrv) lines = NULL;
  guint n_efi = 0;
  gboolean matches = FALSE;

  if (source->esp.size == 0)
    return NULL;
  spec = g_strdup_printf ("%s@@%" G_GUINT64_FORMAT, source->path, source->esp.offset);
  {
    const char *ls[] = { "mdir", "-b", "-i", spec, "::/EFI/Linux", NULL };
    if (!imprint_run (ls, &listing, NULL))
      return NULL;   /* no \EFI\Linux: no UKI */
  }

  suffix = source->version ? g_ascii_strdown (source->version, -1) : NULL;
  if (suffix != NULL)
    {
      char *s = g_strdup_printf ("_%s.efi", suffix);
      g_free (suffix);
      suffix = s;
    }
  lines = g_strsplit (listing, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      g_autofree char *lower = g_ascii_strdown (g_strstrip (*l), -1);

      if (!g_str_has_suffix (lower, ".efi"))
        continue;
      n_efi++;
      if (matches)
        continue;
      matches = suffix != NULL && g_str_has_suffix (lower, suffix);
      if (chosen == NULL || matches)
        {
          g_free (chosen);
          chosen = g_strdup (*l);
        }
    }
  if (chosen == NULL || (n_efi > 1 && !matches))
    return NULL;   /* none, or no way to tell which */

  out = g_build_filename (dir, "uki.efi", NULL);
  {
    const char *get[] = { "mcopy", "-n", "-i", spec, chosen, out, NULL };
    if (!imprint_run (get, NULL, error))
      return NULL;
  }
  return g_steal_pointer (&out);
}
