/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <libfdisk.h>
#include <linux/magic.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "creds.h"
#include "imprint-setup-keymap.h"
#include "macros.h"
#include "source.h"

/* What the ESP holds for systemd-stub (systemd-stub(7): loader/credentials/NAME.cred). */
#define CREDENTIALS_DIR "loader/credentials"

int
imprint_setup_keymap_credential_new (const char *keymap, const char *tpm2_device, ImprintTpm2DeviceFlags tpm2_flags,
                                     char **ret_text, gboolean *ret_sealed)
{
  g_autoptr(ImprintTpm2) tpm = NULL;
  int r;

  if (keymap == NULL || *keymap == '\0')
    return -EINVAL;
  r = imprint_tpm2_open (tpm2_device, tpm2_flags, &tpm);
  /* No TPM2 here: the null key, which systemd accepts exactly then. A TPM
   * that was asked for by name and fails is an error, though. */
  if (r < 0 && tpm2_device != NULL && *tpm2_device != '\0' && !g_str_equal (tpm2_device, "auto"))
    return r;
  r = imprint_creds_encrypt (IMPRINT_KEYMAP_CREDENTIAL, keymap, strlen (keymap), tpm, ret_text);
  if (r >= 0 && ret_sealed != NULL)
    *ret_sealed = tpm != NULL;
  return r;
}

const char *
imprint_setup_find_esp_dir (void)
{
  static const char *const candidates[] = { "/efi", "/boot/efi", "/boot", NULL };
  const char *test = g_getenv ("IMPRINTD_TEST_ESP");

  if (test != NULL && *test == '/')
    return test;
  for (const char *const *c = candidates; *c; c++)
    {
      g_autofree char *efi = g_build_filename (*c, "EFI", NULL);
      struct statfs sf;

      /* Looking inside also mounts an automounted /efi. */
      if (g_file_test (efi, G_FILE_TEST_IS_DIR) && statfs (efi, &sf) == 0 && sf.f_type == MSDOS_SUPER_MAGIC)
        return *c;
    }
  return NULL;
}

int
imprint_setup_esp_write_dir (const char *esp_dir, const char *name, const char *text)
{
  g_autofree char *dir = g_build_filename (esp_dir, CREDENTIALS_DIR, NULL);
  g_autofree char *file = g_strconcat (name, ".cred", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);

  if (strchr (name, '/') != NULL)
    return -EINVAL;
  if (g_mkdir_with_parents (dir, 0755) < 0)
    return -errno;
  /* A new file renamed over the old one: never half a credential. */
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, NULL))
    return -EIO;
  return 0;
}

/* The ESP of disk: its partition number and byte offset. */
static int
find_esp (const char *disk, int *ret_partno, guint64 *ret_offset)
{
  blkid_probe pr = blkid_new_probe_from_filename (disk);
  blkid_partlist pl;
  int r = -ENOENT, n;

  if (pr == NULL)
    return errno > 0 ? -errno : -EIO;
  blkid_probe_enable_partitions (pr, 1);
  blkid_probe_set_partitions_flags (pr, BLKID_PARTS_ENTRY_DETAILS);
  blkid_probe_enable_superblocks (pr, 0);
  if (blkid_do_safeprobe (pr) == 0 && (pl = blkid_probe_get_partitions (pr)) != NULL)
    {
      n = blkid_partlist_numof_partitions (pl);
      for (int i = 0; i < n; i++)
        {
          blkid_partition p = blkid_partlist_get_partition (pl, i);
          const char *type = blkid_partition_get_type_string (p);

          if (type == NULL || g_ascii_strcasecmp (type, IMPRINT_GPT_ESP) != 0)
            continue;
          if (r == 0)
            {
              r = -ENOTUNIQ;
              break;
            }
          *ret_partno = blkid_partition_get_partno (p);
          /* blkid counts 512-byte sectors whatever the disk's sector size. */
          *ret_offset = (guint64) blkid_partition_get_start (p) * 512;
          r = 0;
        }
    }
  blkid_free_probe (pr);
  return r;
}

static gboolean
run_mtools (const char *const *argv, gboolean must_work)
{
  const char *env[] = { "LC_ALL=C", "MTOOLS_SKIP_CHECK=1",
                        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL };
  g_autoptr(GPtrArray) full = g_ptr_array_new ();
  g_autofree char *err = NULL;
  int status = 0;

  /* Every tool with a time limit: a wedged disk must not hold the job. */
  g_ptr_array_add (full, (gpointer) "timeout");
  g_ptr_array_add (full, (gpointer) "60");
  for (const char *const *a = argv; *a; a++)
    g_ptr_array_add (full, (gpointer) *a);
  g_ptr_array_add (full, NULL);
  if (!g_spawn_sync (NULL, (char **) full->pdata, (char **) env, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, NULL))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      if (must_work)
        g_debug ("%s: %s", argv[0], err ? g_strstrip (err) : "");
      return FALSE;
    }
  return TRUE;
}

/* mtools wrote through the whole disk's node; the partition's node has a
 * page cache of its own. Write the disk's dirty pages out now (nobody may
 * close the disk for a while: a power cut must not lose the file), and drop
 * what the partition's node cached, so readers of the partition see it. */
static int
flush_disk_write (const char *disk, int partition_fd)
{
  _cleanup_close_ int fd = open (disk, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

  if (fd < 0 || fsync (fd) < 0)
    return -errno;
  if (partition_fd >= 0 && ioctl (partition_fd, BLKFLSBUF, 0) < 0)
    return -errno;
  return 0;
}

int
imprint_setup_esp_write_disk (const char *disk, const char *name, const char *text)
{
  g_autofree char *tmp = NULL, *local = NULL, *spec = NULL, *target = NULL;
  _cleanup_close_ int guard = -1;
  guint64 offset = 0;
  struct stat st;
  int partno = 0, r;

  if (strchr (name, '/') != NULL)
    return -EINVAL;
  if (stat (disk, &st) < 0)
    return -errno;
  r = find_esp (disk, &partno, &offset);
  if (r < 0)
    return r;
  if (S_ISBLK (st.st_mode))
    {
      g_autofree char *node = fdisk_partname (disk, (size_t) partno);

      /* Held exclusively while mtools writes: nobody mounts it meanwhile,
       * and a mounted ESP (whose cache would not see our write) refuses. */
      guard = node ? open (node, O_RDONLY | O_EXCL | O_CLOEXEC) : -1;
      if (guard < 0)
        return errno == EBUSY ? -EBUSY : -ENOENT;
    }
  tmp = g_dir_make_tmp ("imprint-cred-XXXXXX", NULL);
  if (tmp == NULL)
    return -EIO;
  local = g_build_filename (tmp, "cred", NULL);
  spec = g_strdup_printf ("%s@@%" G_GUINT64_FORMAT, disk, offset);
  target = g_strdup_printf ("::/%s/%s.cred", CREDENTIALS_DIR, name);
  r = -EIO;
  if (g_file_set_contents (local, text, -1, NULL))
    {
      const char *mkd1[] = { "mmd", "-i", spec, "::/loader", NULL };
      const char *mkd2[] = { "mmd", "-i", spec, "::/" CREDENTIALS_DIR, NULL };
      const char *put[] = { "mcopy", "-o", "-i", spec, local, target, NULL };

      /* mmd fails on directories that exist: fine. */
      (void) run_mtools (mkd1, FALSE);
      (void) run_mtools (mkd2, FALSE);
      if (run_mtools (put, TRUE))
        r = flush_disk_write (disk, guard);
    }
  (void) g_unlink (local);
  (void) g_rmdir (tmp);
  return r;
}

void
imprint_setup_keymap_for_boot (ImprintSetupApply *d, GPtrArray *warnings)
{
  const char *keymap = d->settings.keymap;
  g_autofree char *text = NULL;
  const char *esp = NULL;
  gboolean sealed = FALSE;
  int r;

  /* An installed root's directory: where its ESP is, is not known here. */
  if (keymap == NULL || d->on == IMPRINT_SETUP_ON_ROOT)
    return;
  if (d->on == IMPRINT_SETUP_ON_RUNNING && (esp = imprint_setup_find_esp_dir ()) == NULL)
    {
      g_ptr_array_add (warnings, g_strdup (_("No EFI system partition is mounted, so the keyboard layout "
                                             "was not stored for the passphrase prompt at boot.")));
      return;
    }
  r = imprint_setup_keymap_credential_new (keymap, d->tpm2_device, d->tpm2_device_flags, &text, &sealed);
  if (r >= 0)
    r = esp != NULL ? imprint_setup_esp_write_dir (esp, IMPRINT_KEYMAP_CREDENTIAL, text)
                    : imprint_setup_esp_write_disk (d->disk_node, IMPRINT_KEYMAP_CREDENTIAL, text);
  if (r < 0)
    {
      g_ptr_array_add (warnings, g_strdup_printf (_("The keyboard layout could not be stored for the passphrase "
                                                    "prompt at boot: %s"), g_strerror (-r)));
      return;
    }
  g_ptr_array_add (warnings, g_strdup_printf (
    sealed ? _("The keyboard layout “%s” is also stored for the passphrase prompt at boot "
               "(loader/credentials/vconsole.keymap.cred on the EFI system partition, sealed to this "
               "computer’s TPM). The prompt uses it when the boot image includes that layout.")
           : _("The keyboard layout “%s” is also stored for the passphrase prompt at boot "
               "(loader/credentials/vconsole.keymap.cred on the EFI system partition). The prompt uses "
               "it when the boot image includes that layout."),
    keymap));
}
