/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Around the streaming copy: opening the target it writes to (exclusive,
 * direct I/O where the kernel allows), and progress reporting. */

#include "config.h"

#include <inttypes.h>

#include <fcntl.h>
#include <glib/gi18n.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "copy.h"
#include "imprint-error.h"
#include "macros.h"

void
imprint_progress_report (ImprintProgress *p)
{
  if (p && p->func)
    p->func (p->step ? p->step : "", p->done, p->total, p->user_data);
}

void
imprint_progress_step (ImprintProgress *p, const char *step)
{
  if (p == NULL)
    return;
  p->step = step;
  imprint_progress_report (p);
}

int
imprint_open_target (const char *path, gboolean *ret_is_block, guint64 *ret_size, GError **error)
{
  _cleanup_close_ int fd = -1;
  struct stat st;

  /* O_EXCL on a block device fails with EBUSY while anything on it is
   * mounted or claimed: never write under a live file system. */
  fd = open (path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_EXCL);
  if (fd < 0 && errno == EEXIST)
    fd = open (path, O_RDWR | O_CLOEXEC | O_NOCTTY); /* a regular file */
  if (fd < 0 && errno == EBUSY)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_BUSY,
                   _("The target %s is in use (a partition on it is mounted or open)"), path);
      return -EBUSY;
    }
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      int err = errno;
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (-err),
                   _("Cannot open the target %s: %s"), path, g_strerror (err));
      return -err;
    }
  if (S_ISBLK (st.st_mode))
    {
      uint64_t sz = 0;
      int fl;
      if (ioctl (fd, BLKGETSIZE64, &sz) < 0)
        {
          int err = errno;
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                       _("Cannot get the size of %s: %s"), path, g_strerror (err));
          return -err;
        }
      /* Direct I/O keeps gigabytes of system image out of the page cache
       * and makes the final flush short. */
      fl = fcntl (fd, F_GETFL);
      if (fl >= 0)
        (void) fcntl (fd, F_SETFL, fl | O_DIRECT);
      *ret_is_block = TRUE;
      *ret_size = sz;
    }
  else if (S_ISREG (st.st_mode))
    {
      int fl = fcntl (fd, F_GETFL);
      /* Image files too: streaming gigabytes through the page cache costs
       * more CPU than the hashing (measured: 10x the system time). File
       * systems without direct I/O (tmpfs) refuse the flag: buffered then;
       * a misaligned write falls back in write_all(). */
      if (fl >= 0)
        (void) fcntl (fd, F_SETFL, fl | O_DIRECT);
      *ret_is_block = FALSE;
      *ret_size = (guint64) st.st_size;
    }
  else
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("The target %s is neither a disk nor an image file"), path);
      return -ENOTBLK;
    }
  return TAKE_FD (fd);
}
