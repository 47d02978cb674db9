/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <linux/btrfs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "handover.h"
#include "macros.h"

/* The root part of the handover (handover.h), by the kernel's own ioctls
 * (linux/btrfs.h) rather than btrfs-progs: no output to parse, and the
 * progress comes straight from the replace status. */

int
imprint_btrfs_single_device (int fd, guint64 *ret_devid, char **ret_path,
                             guint64 *ret_size, guint64 *ret_used)
{
  struct btrfs_ioctl_fs_info_args fs = { 0 };
  struct btrfs_ioctl_dev_info_args dev = { 0 };

  if (ioctl (fd, BTRFS_IOC_FS_INFO, &fs) < 0)
    return -errno;
  if (fs.num_devices != 1)
    return -EXDEV;
  /* The one device has the lowest free id; ids start at 1 and a replace
   * moves the data to a new device with the same id. */
  for (guint64 id = 1; id <= fs.max_id && id <= 4096; id++)
    {
      memset (&dev, 0, sizeof dev);
      dev.devid = id;
      if (ioctl (fd, BTRFS_IOC_DEV_INFO, &dev) < 0)
        {
          if (errno == ENODEV)
            continue;
          return -errno;
        }
      dev.path[sizeof dev.path - 1] = '\0';
      *ret_devid = id;
      *ret_path = g_strdup ((const char *) dev.path);
      *ret_size = dev.total_bytes;
      *ret_used = dev.bytes_used;
      return 0;
    }
  return -ENODEV;
}

typedef struct {
  int fd;
  struct btrfs_ioctl_dev_replace_args args;
  int result;        /* -errno of the ioctl */
  gboolean done;
  GMutex lock;
} ReplaceRun;

static gpointer
replace_thread (gpointer data)
{
  ReplaceRun *run = data;
  int r;

  /* Runs the whole replace in the kernel: returns when it is finished,
   * cancelled or failed. */
  r = ioctl (run->fd, BTRFS_IOC_DEV_REPLACE, &run->args) < 0 ? -errno : 0;
  g_mutex_lock (&run->lock);
  run->result = r;
  run->done = TRUE;
  g_mutex_unlock (&run->lock);
  return NULL;
}

static int
replace_status (int fd, struct btrfs_ioctl_dev_replace_args *st)
{
  memset (st, 0, sizeof *st);
  st->cmd = BTRFS_IOCTL_DEV_REPLACE_CMD_STATUS;
  return ioctl (fd, BTRFS_IOC_DEV_REPLACE, st) < 0 ? -errno : 0;
}

static int
replace_result_errno (guint64 result)
{
  switch (result)
    {
    case BTRFS_IOCTL_DEV_REPLACE_RESULT_NO_ERROR:
      return 0;
    case BTRFS_IOCTL_DEV_REPLACE_RESULT_ALREADY_STARTED:
      return -EBUSY;
    case BTRFS_IOCTL_DEV_REPLACE_RESULT_SCRUB_INPROGRESS:
      return -EINPROGRESS;
    case BTRFS_IOCTL_DEV_REPLACE_RESULT_NOT_STARTED:
      return -ECANCELED;
    default:
      return -EIO;
    }
}

int
imprint_btrfs_replace (int fd, guint64 devid, const char *target,
                       ImprintBtrfsProgress progress, void *userdata, GCancellable *cancellable)
{
  ReplaceRun run = { .fd = fd };
  GThread *thread;
  gboolean cancel_sent = FALSE, errors = FALSE;
  int r;

  if (strlen (target) > BTRFS_DEVICE_PATH_NAME_MAX)
    return -ENAMETOOLONG;
  run.args.cmd = BTRFS_IOCTL_DEV_REPLACE_CMD_START;
  run.args.start.srcdevid = devid;
  /* Read from the old device even where a mirror exists: it is the only
   * one and it is RAM. */
  run.args.start.cont_reading_from_srcdev_mode = BTRFS_IOCTL_DEV_REPLACE_CONT_READING_FROM_SRCDEV_MODE_ALWAYS;
  g_strlcpy ((char *) run.args.start.tgtdev_name, target, sizeof run.args.start.tgtdev_name);
  g_mutex_init (&run.lock);

  thread = g_thread_try_new ("btrfs-replace", replace_thread, &run, NULL);
  if (thread == NULL)
    {
      g_mutex_clear (&run.lock);
      return -EAGAIN;
    }
  for (;;)
    {
      struct btrfs_ioctl_dev_replace_args st;
      gboolean done;

      g_usleep (G_USEC_PER_SEC / 4);
      g_mutex_lock (&run.lock);
      done = run.done;
      g_mutex_unlock (&run.lock);
      if (done)
        break;
      if (replace_status (fd, &st) < 0)
        memset (&st, 0, sizeof st);
      /* A target that fails writes (pulled, broken) must never become the
       * file system's device: btrfs counts the errors and would still
       * finish onto it. Cancelled, the file system stays where it was. */
      if (!cancel_sent && st.status.num_write_errors > 0)
        errors = TRUE;
      if (!cancel_sent && (errors || g_cancellable_is_cancelled (cancellable)))
        {
          struct btrfs_ioctl_dev_replace_args c = { .cmd = BTRFS_IOCTL_DEV_REPLACE_CMD_CANCEL };
          (void) ioctl (fd, BTRFS_IOC_DEV_REPLACE, &c);
          cancel_sent = TRUE;
        }
      if (progress != NULL && st.status.replace_state == BTRFS_IOCTL_DEV_REPLACE_STATE_STARTED)
        progress (MIN (st.status.progress_1000, 1000) / 1000.0, userdata);
    }
  g_thread_join (thread);
  g_mutex_clear (&run.lock);

  r = run.result;
  if (r == 0)
    r = replace_result_errno (run.args.result);
  if (errors && (r == 0 || r == -ECANCELED))
    {
      struct btrfs_ioctl_dev_replace_args st;
      /* Finished before the cancel came: the errors are on the device
       * the file system now uses. */
      if (replace_status (fd, &st) == 0 && st.status.replace_state == BTRFS_IOCTL_DEV_REPLACE_STATE_FINISHED)
        return -EREMOTEIO;
      return -ENXIO;
    }
  if (r == 0 && cancel_sent)
    {
      /* The cancel may have come too late to stop it: ask what happened. */
      struct btrfs_ioctl_dev_replace_args st;
      if (replace_status (fd, &st) == 0 &&
          st.status.replace_state == BTRFS_IOCTL_DEV_REPLACE_STATE_CANCELED)
        r = -ECANCELED;
    }
  if (r == 0 && progress != NULL)
    progress (1.0, userdata);
  return r;
}

int
imprint_btrfs_resize (int fd, guint64 devid, const char *amount)
{
  struct btrfs_ioctl_vol_args args = { 0 };
  int n;

  n = g_snprintf (args.name, sizeof args.name, "%" G_GUINT64_FORMAT ":%s", devid, amount);
  if (n < 0 || (size_t) n >= sizeof args.name)
    return -ENAMETOOLONG;
  return ioctl (fd, BTRFS_IOC_RESIZE, &args) < 0 ? -errno : 0;
}
