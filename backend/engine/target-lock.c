/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib/gi18n.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "imprint-error.h"
#include "macros.h"
#include "target-lock.h"

/* How long to wait for a flock() that someone else holds for a moment
 * (udev probing after a close) before calling the disk busy. */
#define ENSURE_WAIT_MS 5000
#define RESUME_WAIT_MS 15000
#define POLL_MS 50

struct _ImprintTargetLock {
  char *path;
  char *key;             /* registry key */
  ImprintTargetLockFlags flags;
  int fd;                /* -1 when suspended or registry-only */
  gboolean locked;       /* fd holds the flock */
  gboolean is_block;
  dev_t rdev;            /* block device: the device itself */
  dev_t dev;             /* file: where it lives ... */
  ino_t ino;             /* ... and which it is */
  guint64 size;
  int path_fd;           /* an image file given as an fd: O_PATH handle to
                          * reopen it by (its name may be a /proc magic link
                          * or gone); -1 otherwise */
};

typedef struct {
  char *owner;           /* NULL until the job says who it is */
} BusyEntry;

static GMutex registry_lock;
static GHashTable *registry;   /* key -> BusyEntry, under registry_lock */

static void
busy_entry_free (BusyEntry *e)
{
  g_free (e->owner);
  g_free (e);
}

/* The whole disk a block device belongs to: itself, or for a partition
 * the parent in sysfs. A job on /dev/sda1 and one on /dev/sda collide. */
static dev_t
whole_disk (dev_t devnum)
{
  g_autofree char *base = g_strdup_printf ("/sys/dev/block/%u:%u", major (devnum), minor (devnum));
  g_autofree char *partition = g_build_filename (base, "partition", NULL);
  g_autofree char *parent = NULL;
  g_autofree char *text = NULL;
  unsigned maj, min;

  if (!g_file_test (partition, G_FILE_TEST_EXISTS))
    return devnum;
  /* /sys/dev/block/M:m links to .../sda/sda1: "..", resolved after the
   * link, is the disk. */
  parent = g_build_filename (base, "..", "dev", NULL);
  if (!g_file_get_contents (parent, &text, NULL, NULL) || sscanf (text, "%u:%u", &maj, &min) != 2)
    return devnum;
  return makedev (maj, min);
}

static char *
key_for (const struct stat *st)
{
  if (S_ISBLK (st->st_mode))
    {
      dev_t disk = whole_disk (st->st_rdev);
      return g_strdup_printf ("b%u:%u", major (disk), minor (disk));
    }
  return g_strdup_printf ("f%u:%u:%" G_GUINT64_FORMAT, major (st->st_dev), minor (st->st_dev),
                          (guint64) st->st_ino);
}

static gboolean
registry_add (const char *key, const char *path, GError **error)
{
  BusyEntry *e;

  g_mutex_lock (&registry_lock);
  if (registry == NULL)
    registry = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) busy_entry_free);
  e = g_hash_table_lookup (registry, key);
  if (e != NULL)
    {
      if (e->owner != NULL)
        g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_BUSY,
                     _("The disk %s is in use by %s."), path, e->owner);
      else
        g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_BUSY,
                     _("The disk %s is in use by another job."), path);
      g_mutex_unlock (&registry_lock);
      return FALSE;
    }
  g_hash_table_insert (registry, g_strdup (key), g_new0 (BusyEntry, 1));
  g_mutex_unlock (&registry_lock);
  return TRUE;
}

static void
registry_remove (const char *key)
{
  g_mutex_lock (&registry_lock);
  if (registry != NULL)
    g_hash_table_remove (registry, key);
  g_mutex_unlock (&registry_lock);
}

static int
open_flags (ImprintTargetLockFlags flags, gboolean block)
{
  /* O_NONBLOCK: a FIFO put in the target's place must not hang the job
   * in open(); it is cleared once the type is known. */
  if (!(flags & IMPRINT_TARGET_LOCK_DEVICE))
    return O_PATH | O_CLOEXEC;
  return O_RDWR | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK | (block ? O_EXCL : 0);
}

static void
set_open_error (const char *path, int err, GError **error)
{
  if (err == EBUSY)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_BUSY,
                 _("The target %s is in use (a partition on it is mounted or open)"), path);
  else if (err == ELOOP)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                 _("The target %s is a symbolic link: name the disk or image file itself"), path);
  else
    g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (-err),
                 _("Cannot open the target %s: %s"), path, g_strerror (err));
}

/* Opens the target the first time: O_EXCL only makes sense for a block
 * device, and whether it is one is only known after opening. A path that
 * changes kind between the two opens is refused by the identity check. */
static int
open_target (ImprintTargetLock *self, gboolean first, GError **error)
{
  _cleanup_close_ int fd = -1;
  struct stat st;
  gboolean block = first ? FALSE : self->is_block;

  if (first && (self->flags & IMPRINT_TARGET_LOCK_DEVICE))
    {
      /* Probe the kind without side effects (no device open yet). */
      struct stat pst;
      if (fstatat (AT_FDCWD, self->path, &pst, AT_SYMLINK_NOFOLLOW) == 0)
        block = S_ISBLK (pst.st_mode);
    }

  if (!first && self->path_fd >= 0)
    {
      /* The same inode, through our own handle: a new open file
       * description, so the flock() is taken afresh. */
      char proc[64];
      g_snprintf (proc, sizeof proc, "/proc/self/fd/%d", self->path_fd);
      fd = open (proc, open_flags (self->flags, FALSE) & ~O_NOFOLLOW);
    }
  else
    fd = open (self->path, open_flags (self->flags, block));
  if (fd < 0)
    {
      int err = errno;
      set_open_error (self->path, err, error);
      return -err;
    }
  if (fstat (fd, &st) < 0)
    {
      int err = errno;
      set_open_error (self->path, err, error);
      return -err;
    }
  if (!S_ISBLK (st.st_mode) && !S_ISREG (st.st_mode))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("The target %s is neither a disk nor an image file"), self->path);
      return -ENOTBLK;
    }
  if (first)
    {
      if ((self->flags & IMPRINT_TARGET_LOCK_DEVICE) && S_ISBLK (st.st_mode) != block)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_BUSY,
                       _("The target %s changed while it was opened"), self->path);
          return -ESTALE;
        }
      self->is_block = S_ISBLK (st.st_mode);
      self->rdev = st.st_rdev;
      self->dev = st.st_dev;
      self->ino = st.st_ino;
    }
  else if (S_ISBLK (st.st_mode) != self->is_block ||
           (self->is_block ? st.st_rdev != self->rdev : (st.st_dev != self->dev || st.st_ino != self->ino)))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_BUSY,
                   _("The target %s was replaced during the installation"), self->path);
      return -ESTALE;
    }

  if (self->flags & IMPRINT_TARGET_LOCK_DEVICE)
    {
      int fl = fcntl (fd, F_GETFL);
      if (fl >= 0)
        (void) fcntl (fd, F_SETFL, fl & ~O_NONBLOCK);
      if (self->is_block)
        {
          uint64_t sz = 0;
          if (ioctl (fd, BLKGETSIZE64, &sz) < 0)
            {
              int err = errno;
              g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                           _("Cannot get the size of %s: %s"), self->path, g_strerror (err));
              return -err;
            }
          self->size = sz;
        }
      else
        self->size = (guint64) st.st_size;
    }
  return TAKE_FD (fd);
}

static ImprintTargetLock *
lock_new (const char *path, ImprintTargetLockFlags flags)
{
  ImprintTargetLock *self = g_new0 (ImprintTargetLock, 1);

  self->path = g_strdup (path);
  self->flags = flags;
  self->fd = -1;
  self->path_fd = -1;
  return self;
}

static ImprintTargetLock *
finish_acquire (ImprintTargetLock *self, int fd, GError **error)
{
  struct stat st;

  if (fstat (fd, &st) < 0)
    {
      set_open_error (self->path, errno, error);
      close (fd);
      imprint_target_lock_free (self);
      return NULL;
    }
  self->key = key_for (&st);
  if (!registry_add (self->key, self->path, error))
    {
      g_clear_pointer (&self->key, g_free); /* not ours to remove */
      close (fd);
      imprint_target_lock_free (self);
      return NULL;
    }
  if (!(self->flags & IMPRINT_TARGET_LOCK_DEVICE))
    {
      close (fd);
      return self;
    }
  self->fd = fd;
  /* One try now; ensure() waits for a short-lived holder. */
  self->locked = flock (fd, LOCK_EX | LOCK_NB) == 0;
  return self;
}

ImprintTargetLock *
imprint_target_lock_acquire (const char *path, ImprintTargetLockFlags flags, GError **error)
{
  ImprintTargetLock *self;
  int fd;

  if (path == NULL || *path == '\0')
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("No target disk was given."));
      return NULL;
    }
  self = lock_new (path, flags);
  fd = open_target (self, TRUE, error);
  if (fd < 0)
    {
      imprint_target_lock_free (self);
      return NULL;
    }
  return finish_acquire (self, fd, error);
}

ImprintTargetLock *
imprint_target_lock_acquire_fd (int fd, const char *path, ImprintTargetLockFlags flags, GError **error)
{
  ImprintTargetLock *self = lock_new (path, flags);
  struct stat st;

  if (fstat (fd, &st) < 0 || (!S_ISBLK (st.st_mode) && !S_ISREG (st.st_mode)))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("The target %s is neither a disk nor an image file"), path);
      close (fd);
      imprint_target_lock_free (self);
      return NULL;
    }
  self->is_block = S_ISBLK (st.st_mode);
  self->rdev = st.st_rdev;
  self->dev = st.st_dev;
  self->ino = st.st_ino;
  if (self->is_block)
    {
      uint64_t sz = 0;
      if (ioctl (fd, BLKGETSIZE64, &sz) == 0)
        self->size = sz;
    }
  else
    {
      char proc[64];
      self->size = (guint64) st.st_size;
      g_snprintf (proc, sizeof proc, "/proc/self/fd/%d", fd);
      self->path_fd = open (proc, O_PATH | O_CLOEXEC);
      if (self->path_fd < 0)
        {
          set_open_error (path, errno, error);
          close (fd);
          imprint_target_lock_free (self);
          return NULL;
        }
    }
  return finish_acquire (self, fd, error);
}

void
imprint_target_lock_set_owner (ImprintTargetLock *self, const char *owner)
{
  BusyEntry *e;

  g_mutex_lock (&registry_lock);
  e = registry ? g_hash_table_lookup (registry, self->key) : NULL;
  if (e != NULL)
    {
      g_free (e->owner);
      e->owner = g_strdup (owner);
    }
  g_mutex_unlock (&registry_lock);
}

static gboolean
wait_flock (ImprintTargetLock *self, guint wait_ms, GError **error)
{
  for (guint waited = 0;; waited += POLL_MS)
    {
      if (flock (self->fd, LOCK_EX | LOCK_NB) == 0)
        {
          self->locked = TRUE;
          return TRUE;
        }
      if (errno != EWOULDBLOCK && errno != EINTR)
        {
          int err = errno;
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                       _("Cannot lock the target %s: %s"), self->path, g_strerror (err));
          return FALSE;
        }
      if (waited >= wait_ms)
        break;
      g_usleep (POLL_MS * 1000);
    }
  g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_BUSY,
               _("The disk %s is in use by another program (it holds a lock on it)."), self->path);
  return FALSE;
}

gboolean
imprint_target_lock_ensure (ImprintTargetLock *self, GError **error)
{
  if (!(self->flags & IMPRINT_TARGET_LOCK_DEVICE) || self->locked)
    return TRUE;
  if (self->fd < 0)
    return imprint_target_lock_resume (self, error);
  return wait_flock (self, ENSURE_WAIT_MS, error);
}

int
imprint_target_lock_get_fd (ImprintTargetLock *self)
{
  return self->fd;
}

gboolean
imprint_target_lock_is_block (ImprintTargetLock *self)
{
  return self->is_block;
}

guint64
imprint_target_lock_get_size (ImprintTargetLock *self)
{
  return self->size;
}

const char *
imprint_target_lock_get_path (ImprintTargetLock *self)
{
  return self->path;
}

void
imprint_target_lock_suspend (ImprintTargetLock *self)
{
  if (self->fd >= 0)
    {
      /* Closing drops the flock and the O_EXCL claim; a close after
       * writing also tells udev to look at the disk again. */
      close (self->fd);
      self->fd = -1;
    }
  self->locked = FALSE;
}

gboolean
imprint_target_lock_resume (ImprintTargetLock *self, GError **error)
{
  if (!(self->flags & IMPRINT_TARGET_LOCK_DEVICE))
    return TRUE;
  if (self->fd < 0)
    {
      /* Whoever had the disk in between (the tool we ran, udev probing
       * what it wrote, a partition briefly claimed) lets go soon. */
      for (guint waited = 0;; waited += POLL_MS)
        {
          g_autoptr(GError) local = NULL;
          int fd = open_target (self, FALSE, &local);
          if (fd >= 0)
            {
              self->fd = fd;
              break;
            }
          if (fd != -EBUSY || waited >= RESUME_WAIT_MS)
            {
              g_propagate_error (error, g_steal_pointer (&local));
              return FALSE;
            }
          g_usleep (POLL_MS * 1000);
        }
    }
  return self->locked || wait_flock (self, RESUME_WAIT_MS, error);
}

void
imprint_target_lock_free (ImprintTargetLock *self)
{
  if (self == NULL)
    return;
  imprint_target_lock_suspend (self);
  if (self->key != NULL)
    registry_remove (self->key);
  g_free (self->key);
  g_free (self->path);
  if (self->path_fd >= 0)
    close (self->path_fd);
  g_free (self);
}
