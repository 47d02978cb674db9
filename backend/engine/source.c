/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Inspecting a source (an image file or a disk): its GPT (source-gpt.c),
 * the signed usr slot (source-signature.c), the verity superblock and the
 * whole hash tree, checked against the signed root hash before anything
 * is written. Also the running system's own disk, and its UKI. */

#include "config.h"

#include <inttypes.h>

#include <fcntl.h>
#include <glib/gi18n.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "buffer.h"
#include "copy.h"
#include "imprint-error.h"
#include "macros.h"
#include "plan-private.h"
#include "source-private.h"

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

int
imprint_read_exact (int fd, void *buf, size_t len, guint64 offset)
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

char *
imprint_uuid_from_hash_half (const char *root_hash, gboolean second)
{
  const char *h = root_hash + (second ? 32 : 0);
  return g_strdup_printf ("%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
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

/* Size and type of the source, then blocking reads; and the GPT header
 * names where its backup lives: beyond the end of the file means the
 * image was cut short (a partial download). The header sits in LBA 1:
 * byte 512 or 4096 depending on the sector size. */
static gboolean
check_source_file (ImprintSource *s, const char *path, GError **error)
{
  guint8 hdr[512];
  int r, fl;

  r = device_size (s->fd, &s->is_block_device, &s->size);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The source %s is neither an image file nor a block device"), path);
      return FALSE;
    }
  /* Only now, with a file or a disk: blocking reads from here on. */
  fl = fcntl (s->fd, F_GETFL);
  if (fl >= 0 && (fl & O_NONBLOCK))
    (void) fcntl (s->fd, F_SETFL, fl & ~O_NONBLOCK);

  for (guint32 ss = 512; ss <= 4096; ss *= 8)
    {
      r = imprint_read_exact (s->fd, hdr, sizeof (hdr), ss);
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
          return FALSE;
        }
      break;
    }
  return TRUE;
}

/* The GPT, checked, and the ESP in it. */
static GPtrArray *
read_source_table (ImprintSource *s, const char *path, GError **error)
{
  g_autoptr(GPtrArray) parts = NULL;
  int r;

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
  return g_steal_pointer (&parts);
}

/* The usr-verity partition is named by the second half of the root hash. */
static gboolean
find_usr_verity (ImprintSource *s, GPtrArray *parts, GError **error)
{
  const ImprintArchTypes *arch = imprint_native_arch ();
  g_autofree char *verity_uuid = imprint_uuid_from_hash_half (s->root_hash, TRUE);

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
      return FALSE;
    }
  return TRUE;
}

/* The verity superblock, and the size of the tree it describes (*ret_end,
 * from the start of the usr-verity partition), checked against both
 * partitions and the most this installer reads. */
static gboolean
read_verity_superblock (ImprintSource *s, guint64 *ret_end, GError **error)
{
  guint8 hdr[512];
  guint64 end;
  int r;

  if (s->usr_verity.size < IMPRINT_VERITY_SUPERBLOCK_SIZE)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The usr-verity partition is too small to hold a verity superblock"));
      return FALSE;
    }
  r = imprint_read_exact (s->fd, hdr, sizeof (hdr), s->usr_verity.offset);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("Cannot read the usr-verity partition: %s"), g_strerror (-r));
      return FALSE;
    }
  if (!imprint_verity_superblock_parse (hdr, sizeof (hdr), &s->verity, error))
    return FALSE;
  if (imprint_verity_data_size (&s->verity) > s->usr.size)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity superblock covers %" PRIu64 " bytes of data, but the usr "
                     "partition has only %" PRIu64 " bytes"),
                   imprint_verity_data_size (&s->verity), s->usr.size);
      return FALSE;
    }
  end = imprint_verity_tree_end (&s->verity);
  if (end > s->usr_verity.size)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity hash tree needs %" PRIu64 " bytes, but the usr-verity "
                     "partition has only %" PRIu64 " bytes"), end, s->usr_verity.size);
      return FALSE;
    }
  if (end > IMPRINT_VERITY_MAX_TREE_BYTES)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity hash tree needs %" PRIu64 " bytes, more than the %llu "
                     "this installer reads"), end, IMPRINT_VERITY_MAX_TREE_BYTES);
      return FALSE;
    }
  *ret_end = end;
  return TRUE;
}

/* Superblock and tree: checked now, so a tampered hash partition is
 * refused before anything is written. */
static gboolean
load_verity_tree (ImprintSource *s, GError **error)
{
  guint8 rh[IMPRINT_VERITY_MAX_DIGEST];
  guint8 *hashpart;
  guint64 end;
  int r;

  if (!read_verity_superblock (s, &end, error))
    return FALSE;
  /* A sparse image file can claim any partition sizes at no cost; the
   * tree must really be there (a real one has no hole: every block holds
   * hashes) before memory is spent on it. */
  if (!source_range_is_data (s, s->usr_verity.offset, end))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity hash tree of the source is missing: the image file has a hole "
                     "where the tree should be"));
      return FALSE;
    }
  hashpart = imprint_buffer_alloc (end);
  if (hashpart == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("Out of memory"));
      return FALSE;
    }
  r = imprint_read_exact (s->fd, hashpart, end, s->usr_verity.offset);
  if (r < 0)
    {
      imprint_buffer_free (hashpart, end);
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("Cannot read the usr-verity partition: %s"), g_strerror (-r));
      return FALSE;
    }
  gssize rhlen = imprint_verity_unhex (s->root_hash, rh, sizeof (rh));
  s->tree = imprint_verity_tree_new (&s->verity, hashpart, end, rh, (size_t) rhlen, error);
  imprint_buffer_free (hashpart, end);
  return s->tree != NULL;
}

ImprintSource *
imprint_source_inspect_fd (int fd, const char *io_path, const char *display,
                           const ImprintSourceOptions *options, GError **error)
{
  g_autoptr(ImprintSource) s = g_new0 (ImprintSource, 1);
  g_autoptr(GPtrArray) parts = NULL;
  g_autofree char *signature = NULL;
  ImprintSourceOptions noopts = { 0 };
  const char *path = display;

  if (options == NULL)
    options = &noopts;
  s->fd = fd;
  /* Inspection reads exactly what it needs (the table, the hash tree, the
   * signature): readahead past those would read the next partition from
   * the device, ahead of a direct copy that reads it again (source-once.h).
   * The copy reads through its own opens of the file. */
  posix_fadvise (fd, 0, 0, POSIX_FADV_RANDOM);
  s->path = io_path ? g_strdup (io_path) : g_strdup_printf ("/proc/%d/fd/%d", (int) getpid (), fd);
  s->display = g_strdup (display);

  if (imprint_native_arch () == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                   _("This architecture is not supported"));
      return NULL;
    }
  if (!check_source_file (s, path, error))
    return NULL;
  parts = read_source_table (s, path, error);
  if (parts == NULL)
    return NULL;
  if (!imprint_source_pick_signed_usr (s, parts, options->trusted_root_hash, &signature, error))
    return NULL;
  if ((options->certificate_path || options->certificate_pem) &&
      !imprint_source_signature_verify (s->root_hash, signature, options->certificate_path,
                                        options->certificate_pem, error))
    return NULL;
  if (!find_usr_verity (s, parts, error))
    return NULL;
  if (!imprint_parse_version_label (s->usr.label, &s->name, &s->version))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The usr partition's label \"%s\" carries no version (expected NAME_VERSION)"),
                   s->usr.label);
      return NULL;
    }
  if (!load_verity_tree (s, error))
    return NULL;
  return g_steal_pointer (&s);
}

gboolean
imprint_source_verify (ImprintSource *s, ImprintProgress *progress, GError **error)
{
  return imprint_source_verify_cached (s, FALSE, progress, error);
}

gboolean
imprint_source_verify_cached (ImprintSource *s, gboolean keep_cached, ImprintProgress *progress,
                              GError **error)
{
  ImprintCopyJob job = {
    .src_fd = s->fd, .src_offset = s->usr.offset, .dst_fd = -1,
    .length = s->usr.size, .what = _("system partition"), .verify_tree = s->tree,
    .src_buffered = keep_cached,
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
  ImprintSource *src;

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
  src = imprint_source_inspect (dev, &opts, error);
  if (src != NULL)
    src->is_running = TRUE;
  return src;
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
