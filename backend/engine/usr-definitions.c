/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <blkid.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <libcryptsetup.h>
#include <sys/mount.h>
#include <unistd.h>

#include "imprint-error.h"
#include "loop.h"
#include "macros.h"
#include "repart-definition.h"
#include "usr-definitions.h"

/* What is set up to read the verified /usr; torn down by usr_mount_clear
 * in the reverse order, whatever got done. */
typedef struct {
  int data_loop, hash_loop;       /* autoclear: detached when closed */
  char *data_node, *hash_node;
  struct crypt_device *cd;
  char *dm_name;                  /* active when set */
  char *dir;                      /* scratch directory */
  gboolean mounted;
} UsrMount;

static void
usr_mount_clear (UsrMount *m)
{
  if (m->mounted)
    (void) umount2 (m->dir, MNT_DETACH);
  if (m->dir != NULL)
    (void) rmdir (m->dir);
  if (m->dm_name != NULL)
    /* Deferred: udev may still hold the node for a moment after the
     * unmount; the kernel removes it once the last opener is gone. */
    (void) crypt_deactivate_by_name (m->cd, m->dm_name, CRYPT_DEACTIVATE_DEFERRED);
  if (m->cd != NULL)
    crypt_free (m->cd);
  if (m->data_loop >= 0)
    close (m->data_loop);
  if (m->hash_loop >= 0)
    close (m->hash_loop);
  g_free (m->data_node);
  g_free (m->hash_node);
  g_free (m->dm_name);
  g_free (m->dir);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (UsrMount, usr_mount_clear)

static gboolean
attach_loops (UsrMount *m, ImprintSource *src, GError **error)
{
  g_autofree char *reopen = g_strdup_printf ("/proc/self/fd/%d", src->fd);
  /* The source's own fd may carry O_DIRECT; a plain one for the loops. */
  _cleanup_close_ int fd = open (reopen, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  int r;

  r = fd < 0 ? -errno : imprint_loop_attach (fd, src->usr.offset, src->usr.size, true, &m->data_loop, &m->data_node);
  if (r >= 0)
    r = imprint_loop_attach (fd, src->usr_verity.offset, src->usr_verity.size, true, &m->hash_loop,
                             &m->hash_node);
  if (r < 0)
    g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                 _("Cannot attach the /usr partition of %s as a loop device: %s"), src->display,
                 g_strerror (-r));
  return r >= 0;
}

static gboolean
activate_verity (UsrMount *m, ImprintSource *src, GError **error)
{
  struct crypt_params_verity params = { .hash_area_offset = 0 };
  g_autofree guint8 *hash = NULL;
  gsize len = strlen (src->root_hash) / 2;
  int r;

  hash = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    hash[i] = (guint8) (g_ascii_xdigit_value (src->root_hash[2 * i]) << 4 |
                        g_ascii_xdigit_value (src->root_hash[2 * i + 1]));
  m->dm_name = g_strdup_printf ("imprint-usr-%08x", g_random_int ());
  r = crypt_init_data_device (&m->cd, m->hash_node, m->data_node);
  if (r >= 0)
    r = crypt_load (m->cd, CRYPT_VERITY, &params);
  if (r >= 0)
    r = crypt_activate_by_volume_key (m->cd, m->dm_name, (const char *) hash, len,
                                      CRYPT_ACTIVATE_READONLY);
  if (r < 0)
    {
      g_clear_pointer (&m->dm_name, g_free);
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Cannot open the /usr partition of %s through dm-verity: %s"), src->display,
                   g_strerror (-r));
      return FALSE;
    }
  return TRUE;
}

static gboolean
mount_usr (UsrMount *m, ImprintSource *src, GError **error)
{
  g_autofree char *node = g_strdup_printf ("/dev/mapper/%s", m->dm_name);
  const char *fstype = NULL;
  blkid_probe pr = blkid_new_probe_from_filename (node);

  if (pr != NULL && blkid_do_safeprobe (pr) == 0)
    (void) blkid_probe_lookup_value (pr, "TYPE", &fstype, NULL);
  m->dir = fstype != NULL ? g_dir_make_tmp ("imprint-usr-XXXXXX", error) : NULL;
  if (fstype != NULL && m->dir != NULL &&
      mount (node, m->dir, fstype, MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC, NULL) == 0)
    m->mounted = TRUE;
  else if (error == NULL || *error == NULL)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                 _("Cannot mount the verified /usr of %s (%s): %s"), src->display,
                 fstype ? fstype : _("no file system found"), g_strerror (errno));
  if (pr != NULL)
    blkid_free_probe (pr);
  return m->mounted;
}

/* Opens @rel (a/b/c) under @dirfd one component at a time, never following
 * a symlink. -ENOENT when some part is missing. */
static int
open_dir_nofollow (int dirfd, const char *rel)
{
  g_auto(GStrv) parts = g_strsplit (rel, "/", -1);
  _cleanup_close_ int fd = fcntl (dirfd, F_DUPFD_CLOEXEC, 3);

  for (char **p = parts; fd >= 0 && *p != NULL; p++)
    {
      int next = openat (fd, *p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0)
        return -errno;
      close (fd);
      fd = next;
    }
  return fd < 0 ? -errno : TAKE_FD (fd);
}

static gboolean
read_definitions (UsrMount *m, ImprintSource *src, GPtrArray **ret, GError **error)
{
  const char *rel[] = { IMPRINT_USR_REPART_DIRS };
  int fds[G_N_ELEMENTS (rel)];
  _cleanup_close_ int top = open (m->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_autofree char *bad = NULL;
  int r = top < 0 ? -errno : 0;

  for (gsize i = 0; i < G_N_ELEMENTS (rel); i++)
    {
      fds[i] = top < 0 ? -1 : open_dir_nofollow (top, rel[i]);
      if (fds[i] < 0 && fds[i] != -ENOENT && r >= 0)
        r = fds[i];
    }
  if (r >= 0)
    r = imprint_repart_load_fds (fds, G_N_ELEMENTS (rel), NULL, NULL, ret, &bad);
  for (gsize i = 0; i < G_N_ELEMENTS (rel); i++)
    if (fds[i] >= 0)
      close (fds[i]);
  if (r < 0)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                 _("Cannot read the partition definitions in /usr of %s (%s): %s"), src->display,
                 bad ? bad : "repart.d", g_strerror (-r));
  return r >= 0;
}

static gboolean
device_mapper_available (void)
{
  _cleanup_close_ int fd = open ("/dev/mapper/control", O_RDWR | O_CLOEXEC);
  return fd >= 0;
}

gboolean
imprint_source_usr_definitions (ImprintSource *src, GPtrArray **ret_defs, GError **error)
{
  g_auto(UsrMount) m = { .data_loop = -1, .hash_loop = -1 };

  if (!device_mapper_available ())
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                   _("The partition definitions of %s are inside its /usr, which is only read "
                     "verified, through device-mapper (dm-verity), and device-mapper is not "
                     "available here. Pass a directory of partition definitions (repart.d) "
                     "explicitly."), src->display);
      return FALSE;
    }
  return attach_loops (&m, src, error) && activate_verity (&m, src, error) &&
         mount_usr (&m, src, error) && read_definitions (&m, src, ret_defs, error);
}
