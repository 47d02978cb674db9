/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <libcryptsetup.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "handover-private.h"
#include "imprint-error.h"
#include "macros.h"

/* The live handover, in order: see handover.h. */

void
imprint_handover_probe_clear (ImprintHandoverProbe *p)
{
  g_free (p->reason);
  g_free (p->root_device);
  g_free (p->usr_name);
  g_free (p->medium_disk);
  *p = (ImprintHandoverProbe) { 0 };
}

void
imprint_handover_result_clear (ImprintHandoverResult *r)
{
  g_free (r->root_mapper);
  g_free (r->remaining);
  *r = (ImprintHandoverResult) { 0 };
}

static gboolean
not_possible (ImprintHandoverProbe *ret, const char *reason)
{
  ret->possible = FALSE;
  g_free (ret->reason);
  ret->reason = g_strdup (reason);
  return TRUE;
}

/* "zram0" for 252:0: the kernel's name of a block device. */
char *
imprint_handover_devname (dev_t dev)
{
  g_autofree char *link = g_strdup_printf ("/sys/dev/block/%u:%u", major (dev), minor (dev));
  g_autofree char *target = g_file_read_link (link, NULL);

  return target != NULL ? g_path_get_basename (target) : NULL;
}

/* The whole disk a partition belongs to ("sda" for sda2), or the device
 * itself when it is not a partition. */
char *
imprint_handover_disk_of (dev_t dev)
{
  g_autofree char *link = g_strdup_printf ("/sys/dev/block/%u:%u", major (dev), minor (dev));
  g_autofree char *target = g_file_read_link (link, NULL);
  g_autofree char *part = g_strdup_printf ("%s/partition", link);

  if (target == NULL)
    return NULL;
  if (g_file_test (part, G_FILE_TEST_EXISTS))
    {
      g_autofree char *parent = g_path_get_dirname (target);
      return g_path_get_basename (parent);
    }
  return g_path_get_basename (target);
}

static gboolean
is_ram_device (const char *name)
{
  return g_str_has_prefix (name, "zram") || (g_str_has_prefix (name, "ram") && g_ascii_isdigit (name[3]));
}

static gboolean
probe_root (ImprintHandoverProbe *ret)
{
  _cleanup_close_ int fd = open ("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_autofree char *path = NULL, *name = NULL;
  struct statfs sfs;
  struct stat st;

  if (fd < 0 || fstatfs (fd, &sfs) < 0 || sfs.f_type != BTRFS_SUPER_MAGIC)
    return not_possible (ret, _("The running system’s root file system is not btrfs."));
  if (imprint_btrfs_single_device (fd, &ret->root_devid, &path, &ret->root_size, &ret->root_used) < 0)
    return not_possible (ret, _("The running system’s root file system is not on one single device."));
  if (stat (path, &st) < 0 || !S_ISBLK (st.st_mode))
    return not_possible (ret, _("The device under the running system’s root cannot be found."));
  name = imprint_handover_devname (st.st_rdev);
  if (name == NULL || !is_ram_device (name))
    return not_possible (ret, _("The running system’s root is not in memory: it is not a live session."));
  ret->root_device = g_steal_pointer (&path);
  return FALSE;
}

static gboolean
probe_usr (ImprintHandoverProbe *ret)
{
  g_autofree char *params = NULL, *repointed = NULL, *name_file = NULL, *name = NULL;
  guint64 sectors = 0;
  struct stat st;
  int r;

  if (stat ("/usr", &st) < 0 || major (st.st_dev) == 0)
    return not_possible (ret, _("/usr of the running system is not on a block device."));
  name_file = g_strdup_printf ("/sys/dev/block/%u:%u/dm/name", major (st.st_dev), minor (st.st_dev));
  if (!g_file_get_contents (name_file, &name, NULL, NULL))
    return not_possible (ret, _("/usr of the running system is not a dm-verity device."));
  g_strstrip (name);
  if (access ("/dev/mapper/control", W_OK) < 0)
    return not_possible (ret, _("Device-mapper is not available."));
  r = imprint_dm_verity_table (name, &params, &sectors);
  if (r < 0)
    return not_possible (ret, _("/usr of the running system is not a dm-verity device."));
  r = imprint_verity_params_repoint (params, 0, 0, &ret->usr_data, &ret->usr_hash, &repointed);
  if (r == -EOPNOTSUPP)
    return not_possible (ret, _("/usr of the running system was opened with a signature or error correction that cannot be moved."));
  if (r < 0)
    return not_possible (ret, _("The dm-verity table of /usr cannot be read."));
  ret->usr_name = g_steal_pointer (&name);
  ret->medium_disk = imprint_handover_disk_of (ret->usr_data);
  if (ret->medium_disk == NULL)
    return not_possible (ret, _("The disk the running system started from cannot be found."));
  return FALSE;
}

gboolean
imprint_handover_probe (const char *target_disk, ImprintHandoverProbe *ret, GError **error)
{
  ImprintHandoverProbe p = { 0 };

  if (probe_root (&p) || probe_usr (&p))
    {
      *ret = p;
      return TRUE;
    }
  if (target_disk != NULL)
    {
      g_autofree char *base = g_path_get_basename (target_disk);
      if (g_str_equal (base, p.medium_disk))
        not_possible (&p, _("The running system started from the target disk."));
      else
        p.possible = TRUE;
    }
  else
    p.possible = TRUE;
  *ret = p;
  return TRUE;
}

/* ---- run ------------------------------------------------------------- */

static int
open_root_volume (const char *node, const char *key, char **ret_name)
{
  struct crypt_device *cd = NULL;
  const char *name = "root";
  g_autofree char *probe = NULL;
  int r;

  /* "root" is what the installed system's initrd names it; a session that
   * already has one gets another name, which only lasts until the reboot. */
  probe = g_strdup ("/dev/mapper/root");
  if (g_file_test (probe, G_FILE_TEST_EXISTS))
    name = "imprint-root";
  r = crypt_init (&cd, node);
  if (r >= 0)
    r = crypt_load (cd, CRYPT_LUKS2, NULL);
  if (r >= 0)
    r = crypt_activate_by_passphrase (cd, name, CRYPT_ANY_SLOT, key, strlen (key), CRYPT_ACTIVATE_ALLOW_DISCARDS);
  crypt_free (cd);
  if (r < 0)
    return r;
  *ret_name = g_strdup (name);
  return 0;
}

static void
close_root_volume (const char *name)
{
  struct crypt_device *cd = NULL;

  if (crypt_init_by_name (&cd, name) >= 0)
    (void) crypt_deactivate (cd, name);
  crypt_free (cd);
}

/* @node is ours (/dev/mapper/NAME, which udev makes a symlink to
 * ../dm-N in root's /dev): followed, then checked to be a block device. */
static int
device_size (const char *node, guint64 *ret)
{
  _cleanup_close_ int fd = open (node, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;

  if (fd < 0)
    return -errno;
  if (fstat (fd, &st) < 0 || !S_ISBLK (st.st_mode))
    return -ENOTBLK;
  return ioctl (fd, BLKGETSIZE64, ret) < 0 ? -errno : 0;
}

typedef struct {
  const ImprintReport *report;
} ProgressData;

static void
on_replace_progress (double fraction, void *userdata)
{
  ProgressData *pd = userdata;

  imprint_report_progress (pd->report, fraction);
}

/* Step 2: the root, from RAM onto the opened volume. */
static gboolean
move_root (const ImprintHandover *h, const ImprintHandoverProbe *p, const char *mapper,
           ImprintHandoverResult *ret, GError **error)
{
  _cleanup_close_ int fd = open ("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ProgressData pd = { .report = h->report };
  guint64 size = 0;
  gint64 t0;
  int r;

  r = fd < 0 ? -errno : device_size (mapper, &size);
  if (r < 0)
    goto fail;
  if (size < p->root_size)
    {
      /* btrfs replaces only onto a device at least as large: shrink the
       * file system in RAM first when what it holds fits. */
      g_autofree char *amount = g_strdup_printf ("%" G_GUINT64_FORMAT, size & ~((guint64) 0xfffff));
      if (p->root_used >= size)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NO_SPACE,
                       _("This session holds more data than the installed system’s root partition can take."));
          return FALSE;
        }
      r = imprint_btrfs_resize (fd, p->root_devid, amount);
      if (r < 0)
        goto fail;
    }

  imprint_report_step (h->report, _("Moving this session onto the disk"));
  t0 = g_get_monotonic_time ();
  r = imprint_btrfs_replace (fd, p->root_devid, mapper, on_replace_progress, &pd, h->cancellable);
  if (r == -ECANCELED)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED,
                           _("Moving this session onto the disk was cancelled; it still runs from memory."));
      return FALSE;
    }
  if (r == -EREMOTEIO)
    {
      ret->root_moved = TRUE;
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                           _("This session moved onto the disk, but the disk reported write errors: "
                             "save your work elsewhere and check the disk."));
      return FALSE;
    }
  if (r < 0)
    goto fail;
  ret->root_moved = TRUE;
  ret->replace_seconds = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  ret->root_bytes = p->root_used;
  r = imprint_btrfs_resize (fd, p->root_devid, "max");
  if (r < 0)
    imprint_report_log (h->report, _("The root file system could not grow to the whole partition: %s"), g_strerror (-r));
  return TRUE;

fail:
  g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
               _("This session could not move onto the disk (%s); it still runs from memory and nothing is lost."),
               g_strerror (-r));
  return FALSE;
}

static int
node_devt (const char *node, dev_t *ret)
{
  struct stat st;

  if (node == NULL || stat (node, &st) < 0)
    return -ENOENT;
  if (!S_ISBLK (st.st_mode))
    return -ENOTBLK;
  *ret = st.st_rdev;
  return 0;
}

/* Step 3a: /usr, onto the A slot just written and verified. */
static int
move_usr (const ImprintHandover *h, const ImprintHandoverProbe *p)
{
  g_autofree char *params = NULL, *repointed = NULL;
  g_autofree char *data_node = imprint_plan_partition_node (h->plan, h->plan->usr_a ? h->plan->usr_a->number : 0);
  g_autofree char *hash_node = imprint_plan_partition_node (h->plan, h->plan->verity_a ? h->plan->verity_a->number : 0);
  dev_t data, hash, old_data, old_hash;
  guint64 sectors = 0;
  int r;

  r = node_devt (data_node, &data);
  if (r >= 0)
    r = node_devt (hash_node, &hash);
  if (r >= 0)
    r = imprint_dm_verity_table (p->usr_name, &params, &sectors);
  if (r >= 0)
    r = imprint_verity_params_repoint (params, data, hash, &old_data, &old_hash, &repointed);
  if (r < 0)
    return r;
  if (old_data != p->usr_data || old_hash != p->usr_hash)
    return -ESTALE;  /* someone else changed it since the probe */
  return imprint_dm_reload (p->usr_name, sectors, repointed);
}

gboolean
imprint_handover_run (const ImprintHandover *h, ImprintHandoverResult *ret, GError **error)
{
  ImprintHandoverProbe p = { 0 };
  g_autofree char *name = NULL, *mapper = NULL;
  g_autoptr(GString) remaining = g_string_new (NULL);
  gboolean ok = FALSE;
  int r;

  *ret = (ImprintHandoverResult) { 0 };
  if (!imprint_handover_probe (h->plan->target, &p, error))
    return FALSE;
  if (!p.possible)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED, p.reason);
      goto out;
    }

  imprint_report_step (h->report, _("Opening the installed system’s root"));
  r = open_root_volume (h->root_node, h->key, &name);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Could not open the installed system’s encrypted root: %s"), g_strerror (-r));
      goto out;
    }
  mapper = g_strdup_printf ("/dev/mapper/%s", name);
  if (!move_root (h, &p, mapper, ret, error))
    {
      if (!ret->root_moved)
        close_root_volume (name);
      goto out;
    }
  ret->root_mapper = g_strdup (mapper);
  {
    g_autofree char *bytes = g_format_size (ret->root_bytes);
    g_autofree char *rate = g_format_size ((guint64) (ret->root_bytes / MAX (ret->replace_seconds, 0.001)));
    imprint_report_log (h->report, _("This session’s root moved onto %s (%s in %.1f s, %s/s)."),
                        mapper, bytes, ret->replace_seconds, rate);
  }

  imprint_report_step (h->report, _("Switching /usr to the disk"));
  r = move_usr (h, &p);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("This session runs from the disk, but /usr could not switch to it (%s): keep the USB stick in and restart to finish."),
                   g_strerror (-r));
      goto out;
    }
  ret->usr_moved = TRUE;

  imprint_report_step (h->report, _("Releasing the USB stick"));
  ret->boot_moved = imprint_handover_move_boot (h, p.medium_disk, p.usr_name, remaining);
  imprint_handover_release (&p, h->report, remaining);
  ret->medium_released = remaining->len == 0;
  if (remaining->len > 0)
    ret->remaining = g_strdup (remaining->str);
  ok = TRUE;
out:
  imprint_handover_probe_clear (&p);
  return ok;
}
