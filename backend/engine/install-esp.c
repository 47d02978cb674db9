/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "imprint-error.h"
#include "install.h"
#include "install-esp.h"
#include "macros.h"
#include "plan-private.h"

/* The source ESP's paths that are the medium's own, not the installed
 * system's (install-esp.h): global add-ons would put the live stick's
 * command line on every boot of the installed disk. */
static const char *const medium_only[] = { "::/loader/addons", NULL };

static char *
mtools_spec (const char *path, guint64 offset)
{
  return g_strdup_printf ("%s@@%" G_GUINT64_FORMAT, path, offset);
}

/* The entry of @dir called @name as FAT compares names (ASCII case
 * insensitive), or NULL. */
static char *
find_nocase (const char *dir, const char *name)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *e;

  while (d != NULL && (e = g_dir_read_name (d)) != NULL)
    if (g_ascii_strcasecmp (e, name) == 0)
      return g_build_filename (dir, e, NULL);
  return NULL;
}

/* Removes the medium's own paths from @local, the fetched copy of the
 * source's @fat_dir, before it goes to the target. */
static gboolean
prune_medium_files (const char *fat_dir, const char *local, GError **error)
{
  gsize n = strlen (fat_dir);

  for (const char *const *m = medium_only; *m; m++)
    {
      if (g_ascii_strncasecmp (*m, fat_dir, n) != 0 || (*m)[n] != '/')
        continue;
      g_auto(GStrv) comps = g_strsplit (*m + n + 1, "/", -1);
      g_autofree char *path = g_strdup (local);
      for (char **c = comps; *c != NULL && path != NULL; c++)
        {
          char *next = find_nocase (path, *c);
          g_free (path);
          path = next;
        }
      if (path == NULL)
        continue; /* not in the source */
      const char *rm[] = { "rm", "-rf", "--", path, NULL };
      if (!imprint_run (rm, NULL, error))
        return FALSE;
    }
  return TRUE;
}

/* A block-copied ESP carries all of the source's: the medium's own paths
 * are removed from it. Absent ones are fine; an ESP mtools cannot read
 * is an error. */
static gboolean
drop_medium_files (const char *target, guint64 offset, GError **error)
{
  g_autofree char *spec = mtools_spec (target, offset);

  for (const char *const *m = medium_only; *m; m++)
    {
      g_autoptr(GError) probe_error = NULL;
      const char *probe[] = { "mdir", "-b", "-i", spec, *m, NULL };
      const char *del[] = { "mdeltree", "-i", spec, *m, NULL };

      if (!imprint_run (probe, NULL, &probe_error))
        {
          if (strstr (probe_error->message, "not found") != NULL)
            continue;
          g_propagate_error (error, g_steal_pointer (&probe_error));
        }
      else if (imprint_run (del, NULL, error))
        continue;
      g_prefix_error (error, _("Cannot remove the installation medium’s %s from the boot partition: "), *m + 2);
      return FALSE;
    }
  return TRUE;
}

/* Copies @dirs (e.g. "::/EFI") from the source ESP into a FAT file system
 * on the target, overwriting what is there; the medium's own paths stay
 * behind. */
static gboolean
copy_fat_dirs (const char *src, guint64 src_off, const char *dst, guint64 dst_off,
               const char *const *dirs, GError **error)
{
  g_autofree char *tmp = g_dir_make_tmp ("imprint-esp-XXXXXX", error);
  g_autofree char *sspec = mtools_spec (src, src_off);
  g_autofree char *dspec = mtools_spec (dst, dst_off);
  gboolean ok = FALSE;

  if (tmp == NULL)
    return FALSE;
  for (const char *const *d = dirs; *d; d++)
    {
      g_autofree char *dname = g_path_get_basename (*d);
      g_autofree char *local = g_build_filename (tmp, dname, NULL);
      g_autofree char *ddir = g_path_get_dirname (*d + 2);
      const char *mdir_argv[] = { "mdir", "-b", "-i", sspec, *d, NULL };
      if (!imprint_run (mdir_argv, NULL, NULL))
        continue; /* not in the source */
      const char *get[] = { "mcopy", "-s", "-n", "-i", sspec, *d, tmp, NULL };
      if (!imprint_run (get, NULL, error) || !prune_medium_files (*d, local, error))
        goto out;
      /* Create the parents on the target (mmd fails on existing ones,
       * which is fine), then copy recursively over. */
      g_auto(GStrv) comps = g_strsplit (ddir, "/", -1);
      g_autoptr(GString) sofar = g_string_new ("::");
      for (char **c = comps; *c; c++)
        {
          if (**c == 0)
            continue;
          g_string_append_printf (sofar, "/%s", *c);
          const char *mmd[] = { "mmd", "-i", dspec, sofar->str, NULL };
          imprint_run (mmd, NULL, NULL);
        }
      g_autofree char *target_dir = g_strdup_printf ("::%s", ddir);
      const char *put[] = { "mcopy", "-s", "-o", "-n", "-D", "o", "-i", dspec, local, target_dir, NULL };
      if (!imprint_run (put, NULL, error))
        goto out;
    }
  ok = TRUE;
out:
  {
    const char *rm[] = { "rm", "-rf", tmp, NULL };
    imprint_run (rm, NULL, NULL);
  }
  return ok;
}

gboolean
imprint_install_esp (ImprintSource *src, ImprintPlan *plan, int fd, ImprintProgress *progress, GError **error)
{
  ImprintPlanPartition *esp = plan->esp;
  static const char *const all[] = { "::/EFI", "::/loader", NULL };
  static const char *const loader_only[] = { "::/EFI/systemd", "::/EFI/BOOT", "::/loader/loader.conf", NULL };
  static const char *const ukis[] = { "::/EFI/Linux", "::/loader/entries", NULL };

  imprint_progress_step (progress, imprint_install_step_text (IMPRINT_STEP_ESP));

  if (esp->content == IMPRINT_CONTENT_ESP)
    {
      ImprintCopyJob job = {
        .src_fd = src->fd, .src_offset = src->esp.offset,
        .dst_fd = fd, .dst_offset = esp->start,
        .length = src->esp.size, .what = _("boot partition"),
        /* Small, and partly read already (the UKI check): from the cache. */
        .src_buffered = TRUE,
      };
      if (!imprint_copy (&job, progress, error))
        return FALSE;
      fdatasync (fd); /* mtools reads the target through its own fd */
      return drop_medium_files (plan->target, esp->start, error);
    }

  /* Existing ESP: file level, through mtools (no mount needed). The
   * buffered fd must not hold stale data for these ranges. */
  fdatasync (fd);
  if (plan->xbootldr && plan->xbootldr->action == IMPRINT_PLAN_KEEP)
    {
      if (!copy_fat_dirs (src->path, src->esp.offset, plan->target, plan->xbootldr->start, ukis, error) ||
          !copy_fat_dirs (src->path, src->esp.offset, plan->target, esp->start, loader_only, error))
        return FALSE;
    }
  else if (plan->xbootldr)
    {
      ImprintPlanPartition *x = plan->xbootldr;
      g_autofree char *img = NULL;
      g_autofree char *blocks = g_strdup_printf ("%" G_GUINT64_FORMAT, x->size / 1024);
      gboolean ok;
      int tfd;

      /* The FAT is made in a scratch file and block-copied in: mkfs.vfat
       * --offset records hidden sectors that mtools then misreads. */
      tfd = g_file_open_tmp ("imprint-xbootldr-XXXXXX.img", &img, error);
      if (tfd < 0)
        return FALSE;
      close (tfd);
      const char *mkfs[] = { "mkfs.vfat", "-C", "-F", "32", "-n", "XBOOTLDR", img, blocks, NULL };
      g_unlink (img); /* mkfs.vfat -C creates it */
      ok = imprint_run (mkfs, NULL, error) &&
           copy_fat_dirs (src->path, src->esp.offset, img, 0, ukis, error) &&
           copy_fat_dirs (src->path, src->esp.offset, plan->target, esp->start, loader_only, error);
      if (ok)
        {
          _cleanup_close_ int ifd = open (img, O_RDONLY | O_CLOEXEC);
          ImprintCopyJob job = {
            .src_fd = ifd, .src_offset = 0, .dst_fd = fd, .dst_offset = x->start,
            .length = x->size, .what = _("boot partition"),
          };
          guint64 before = progress->done;
          ok = ifd >= 0 && imprint_copy (&job, progress, error);
          progress->done = before;
        }
      g_unlink (img);
      if (!ok)
        return FALSE;
    }
  else if (!copy_fat_dirs (src->path, src->esp.offset, plan->target, esp->start, all, error))
    return FALSE;
  progress->done += src->esp.size;
  imprint_progress_report (progress);
  return TRUE;
}

/* The removable-media path makes the disk boot on firmware that never saw
 * it (no Boot#### entry): make sure it is there, with systemd-boot. */
gboolean
imprint_install_fallback (ImprintPlan *plan, GError **error)
{
  g_autofree char *spec = mtools_spec (plan->target, plan->esp->start);
  g_autofree char *tmp = NULL;
  g_autofree char *local = NULL;
  gboolean ok;
  const char *probe[] = { "mdir", "-b", "-i", spec, "::/EFI/BOOT/BOOTX64.EFI", NULL };

  if (imprint_run (probe, NULL, NULL))
    return TRUE;
  tmp = g_dir_make_tmp ("imprint-fallback-XXXXXX", error);
  if (tmp == NULL)
    return FALSE;
  local = g_build_filename (tmp, "BOOTX64.EFI", NULL);
  const char *get[] = { "mcopy", "-n", "-i", spec, "::/EFI/systemd/systemd-bootx64.efi", local, NULL };
  const char *mkd[] = { "mmd", "-i", spec, "::/EFI/BOOT", NULL };
  const char *put[] = { "mcopy", "-o", "-i", spec, local, "::/EFI/BOOT/BOOTX64.EFI", NULL };
  ok = imprint_run (get, NULL, error);
  if (ok)
    {
      imprint_run (mkd, NULL, NULL); /* fails when it exists */
      ok = imprint_run (put, NULL, error);
    }
  g_unlink (local);
  g_rmdir (tmp);
  if (!ok)
    g_prefix_error (error, _("Cannot install the fallback boot loader: "));
  return ok;
}
