/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <linux/loop.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "handover-private.h"
#include "macros.h"
#include "plan-private.h"

/* Steps 3b and 4 of the handover (handover.h): the boot partitions the
 * session mounted from the medium, then the medium itself. */

#define MOUNTINFO_MAX (4u << 20)
#define MOUNTINFO_MAX_LINES 65536

/* /proc/PID/mountinfo escapes blanks and backslashes as \ooo. */
static char *
unescape_octal (const char *s)
{
  GString *out = g_string_new (NULL);

  for (; *s; s++)
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7')
        {
          g_string_append_c (out, (char) (((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0')));
          s += 3;
        }
      else
        g_string_append_c (out, *s);
    }
  return g_string_free (out, FALSE);
}

GPtrArray *
imprint_mountinfo_on_disk (const char *mountinfo, const char *disk, char *(*disk_of) (dev_t dev))
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  if (mountinfo == NULL || strlen (mountinfo) > MOUNTINFO_MAX)
    return g_steal_pointer (&found);
  lines = g_strsplit (mountinfo, "\n", MOUNTINFO_MAX_LINES);
  for (char **l = lines; *l != NULL && n < MOUNTINFO_MAX_LINES; l++, n++)
    {
      g_auto(GStrv) f = g_strsplit (*l, " ", 8);
      g_autofree char *owner = NULL;
      unsigned maj, min;
      char tail;

      if (g_strv_length (f) < 7 || sscanf (f[2], "%u:%u%c", &maj, &min, &tail) != 2 || maj == 0)
        continue;
      owner = disk_of (makedev (maj, min));
      if (owner != NULL && g_str_equal (owner, disk))
        g_ptr_array_add (found, unescape_octal (f[4]));
    }
  return g_steal_pointer (&found);
}

/* The What= of a unit file systemd-gpt-auto-generator wrote (root's /run). */
static char *
generated_what (const char *unit)
{
  g_autofree char *path = g_build_filename ("/run/systemd/generator", unit, NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL) || strlen (text) > 65536)
    return NULL;
  lines = g_strsplit (text, "\n", 1024);
  for (char **l = lines; *l != NULL; l++)
    if (g_str_has_prefix (*l, "What="))
      return g_strstrip (g_strdup (*l + strlen ("What=")));
  return NULL;
}

static gboolean
what_on_disk (const char *what, const char *disk)
{
  g_autofree char *owner = NULL;
  struct stat st;

  if (what == NULL || stat (what, &st) < 0 || !S_ISBLK (st.st_mode))
    return FALSE;
  owner = imprint_handover_disk_of (st.st_rdev);
  return owner != NULL && g_str_equal (owner, disk);
}

static gboolean
systemctl (const char *verb, const char *unit, const char *unit2, GError **error)
{
  const char *argv[] = { "systemctl", "--no-ask-password", verb, unit, unit2, NULL };

  return imprint_run (argv, NULL, error);
}

/* Units in /run/systemd/system take precedence over the generator's: the
 * same mount point, the same options as systemd-gpt-auto-generator gives
 * a boot partition, the installed disk's partition. Written whole rather
 * than as a drop-in, so no dependency on the medium's device (its fsck)
 * carries over. */
static gboolean
write_units (const char *name, const char *where, const char *node, GError **error)
{
  g_autofree char *mount = g_strdup_printf ("/run/systemd/system/%s.mount", name);
  g_autofree char *autom = g_strdup_printf ("/run/systemd/system/%s.automount", name);
  g_autofree char *mount_text = g_strdup_printf (
    "# Written by imprintd: this session moved onto the installed disk.\n"
    "[Unit]\nDescription=Boot Partition of the Installed System\nDocumentation=man:imprintctl(1)\n\n"
    "[Mount]\nWhat=%s\nWhere=%s\nType=vfat\nOptions=umask=0077,noexec,nosuid,nodev\n", node, where);
  g_autofree char *auto_text = g_strdup_printf (
    "# Written by imprintd: this session moved onto the installed disk.\n"
    "[Unit]\nDescription=Boot Partition of the Installed System Automount\n\n"
    "[Automount]\nWhere=%s\nTimeoutIdleSec=120\n", where);

  return g_file_set_contents_full (mount, mount_text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error) &&
         g_file_set_contents_full (autom, auto_text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

static gboolean
move_one (const char *name, const char *node, GError **error)
{
  g_autofree char *where = g_strdup_printf ("/%s", name);
  g_autofree char *mount = g_strdup_printf ("%s.mount", name);
  g_autofree char *autom = g_strdup_printf ("%s.automount", name);

  g_autofree char *generated_auto = g_build_filename ("/run/systemd/generator", autom, NULL);
  gboolean has_auto = g_file_test (generated_auto, G_FILE_TEST_EXISTS);

  return systemctl ("stop", has_auto ? autom : mount, has_auto ? mount : NULL, error) &&
         write_units (name, where, node, error) &&
         systemctl ("daemon-reload", NULL, NULL, error) &&
         systemctl ("start", autom, NULL, error);
}

/* systemd-veritysetup@NAME.service of the live boot is bound to the
 * medium's partitions: pulling the stick stops it, and its ExecStop= would
 * try to detach the very /usr this session now reads from the disk (it
 * fails, busy, and leaves a failed unit). An empty ExecStop= in a runtime
 * drop-in leaves the device to the kernel until the restart. */
static gboolean
keep_usr_on_stop (const char *usr_name, GError **error)
{
  g_autofree char *dir = NULL, *path = NULL;

  if (usr_name == NULL || strchr (usr_name, '/') != NULL || strlen (usr_name) > 64)
    return TRUE;
  dir = g_strdup_printf ("/run/systemd/system/systemd-veritysetup@%s.service.d", usr_name);
  path = g_build_filename (dir, "50-imprint-handover.conf", NULL);
  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", dir, g_strerror (errno));
      return FALSE;
    }
  return g_file_set_contents_full (path,
                                   "# Written by imprintd: /usr now reads the installed disk (handover).\n"
                                   "[Service]\nExecStop=\n",
                                   -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

gboolean
imprint_handover_move_boot (const ImprintHandover *h, const char *medium_disk, const char *usr_name,
                            GString *remaining)
{
  /* Only the two mount points the Boot Loader Specification gives the
   * ESP and XBOOTLDR; nothing from the caller. */
  static const char *const names[] = { "efi", "boot" };
  gboolean moved = FALSE;
  g_autoptr(GError) local = NULL;

  if (!keep_usr_on_stop (usr_name, &local) || !systemctl ("daemon-reload", NULL, NULL, &local))
    imprint_report_log (h->report, "%s", local->message);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *unit = g_strdup_printf ("%s.mount", names[i]);
      g_autofree char *what = generated_what (unit);
      g_autofree char *node = NULL;
      g_autoptr(GError) error = NULL;
      const ImprintPlanPartition *part;

      if (!what_on_disk (what, medium_disk))
        continue;
      part = g_str_equal (names[i], "boot") && h->plan->xbootldr != NULL ? h->plan->xbootldr : h->plan->esp;
      node = part != NULL ? imprint_plan_partition_node (h->plan, part->number) : NULL;
      if (node == NULL || !move_one (names[i], node, &error))
        {
          g_string_append_printf (remaining, _("/%s is still mounted from the USB stick%s%s. "), names[i],
                                  error ? ": " : "", error ? error->message : "");
          continue;
        }
      imprint_report_log (h->report, _("/%s now comes from %s."), names[i], node);
      moved = TRUE;
    }
  return moved;
}

/* zram frees its memory on reset; it refuses (EBUSY) while something
 * still has it open, so a few tries. A brd ramdisk keeps its pages until
 * the module goes: nothing to do. The RAM device is not the medium: a
 * failure here is only logged. Written in place: sysfs has no room for
 * g_file_set_contents()' temporary file. */
static void
free_ram_device (const char *root_device, const ImprintReport *report)
{
  g_autofree char *base = g_path_get_basename (root_device);
  g_autofree char *reset = g_strdup_printf ("/sys/block/%s/reset", base);
  int r = 0;

  if (!g_str_has_prefix (base, "zram") || strchr (base, '/') != NULL)
    return;
  for (int i = 0; i < 20; i++)
    {
      _cleanup_close_ int fd = open (reset, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
      r = fd < 0 ? -errno : (write (fd, "1", 1) == 1 ? 0 : -errno);
      if (r != -EBUSY)
        break;
      g_usleep (G_USEC_PER_SEC / 4);
    }
  if (r < 0)
    imprint_report_log (report, _("The memory of %s could not be freed: %s"), root_device, g_strerror (-r));
}

static gboolean
has_holders (const char *sysdir)
{
  g_autofree char *holders = g_build_filename (sysdir, "holders", NULL);
  g_autoptr(GDir) d = g_dir_open (holders, 0, NULL);

  return d != NULL && g_dir_read_name (d) != NULL;
}

void
imprint_handover_release (const ImprintHandoverProbe *p, const ImprintReport *report, GString *remaining)
{
  g_autofree char *sysdir = g_build_filename ("/sys/class/block", p->medium_disk, NULL);
  g_autofree char *mountinfo = NULL;
  g_autoptr(GPtrArray) mounts = NULL;
  g_autoptr(GDir) d = NULL;
  gboolean held = has_holders (sysdir);
  const char *name;

  free_ram_device (p->root_device, report);

  /* PID 1's namespace: imprintd's own is a copy (ProtectHome=). */
  if (g_file_get_contents ("/proc/1/mountinfo", &mountinfo, NULL, NULL))
    {
      mounts = imprint_mountinfo_on_disk (mountinfo, p->medium_disk, imprint_handover_disk_of);
      for (guint i = 0; i < mounts->len; i++)
        g_string_append_printf (remaining, _("%s is mounted from the USB stick. "), (char *) mounts->pdata[i]);
    }
  d = g_dir_open (sysdir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *part = g_build_filename (sysdir, name, NULL);
      g_autofree char *flag = g_build_filename (part, "partition", NULL);
      if (g_file_test (flag, G_FILE_TEST_EXISTS) && has_holders (part))
        held = TRUE;
    }
  if (held)
    g_string_append (remaining, _("A device still uses the USB stick. "));

  /* A medium that is a loop device (a live image file) is detached once
   * nothing uses it; the kernel does it when its last user closes it. */
  if (!held && g_str_has_prefix (p->medium_disk, "loop") && (mounts == NULL || mounts->len == 0))
    {
      g_autofree char *node = g_build_filename ("/dev", p->medium_disk, NULL);
      _cleanup_close_ int fd = open (node, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      struct loop_info64 info = { 0 };
      if (fd >= 0 && ioctl (fd, LOOP_GET_STATUS64, &info) == 0)
        {
          info.lo_flags |= LO_FLAGS_AUTOCLEAR;
          (void) ioctl (fd, LOOP_SET_STATUS64, &info);
        }
    }
}
