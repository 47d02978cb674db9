/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <libfdisk.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "factory-reset.h"
#include "imprint-error.h"
#include "macros.h"
#include "repart-definition.h"

#define FACTORY_RESET_TOOL "/usr/lib/systemd/systemd-factory-reset"
#define TPM_PPI_CLEAR "5"
/* GPT attribute bit 63 (SD_GPT_FLAG_NO_AUTO): udev's gpt-auto root discovery
 * skips a root partition that carries it. */
#define GPT_FLAG_NO_AUTO (UINT64_C (1) << 63)

/* ---- repart.d ----------------------------------------------------------------- */

void
imprint_reset_partition_free (ImprintResetPartition *p)
{
  if (p == NULL)
    return;
  g_free (p->definition);
  g_free (p->type);
  g_free (p->label);
  g_free (p->description);
  g_free (p);
}

char *
imprint_factory_reset_describe_type (const char *type)
{
  if (type == NULL)
    return g_strdup (_("A partition without a type"));
  if (g_str_has_prefix (type, "root") && !strstr (type, "verity"))
    return g_strdup (_("The system partition: all settings (/etc), installed data and logs (/var), and the homes of all users, unless they live on a separate partition"));
  if (g_str_equal (type, "home"))
    return g_strdup (_("The home partition: every user’s files and settings"));
  if (g_str_equal (type, "srv"))
    return g_strdup (_("The server data partition (/srv)"));
  if (g_str_equal (type, "var"))
    return g_strdup (_("The /var partition: installed data, databases, logs and containers"));
  if (g_str_equal (type, "tmp"))
    return g_strdup (_("The temporary files partition (/var/tmp)"));
  if (g_str_equal (type, "swap"))
    return g_strdup (_("The swap partition"));
  if (g_str_equal (type, "esp") || g_str_equal (type, "xbootldr"))
    return g_strdup (_("The boot partition: the boot loader and every installed version’s kernel"));
  if (g_str_has_prefix (type, "usr"))
    return g_strdup (_("An operating system partition (/usr)"));
  return g_strdup_printf (_("A data partition (type %s)"), type);
}

int
imprint_factory_reset_partitions (const char *root, GPtrArray **ret)
{
  /* Where systemd-repart looks in the booted system, highest priority
   * first (repart-definition.h: names, masks, drop-ins as repart has them). */
  const char *rel[] = { "etc/repart.d", "run/repart.d", "usr/local/lib/repart.d", "usr/lib/repart.d" };
  char *dirs[G_N_ELEMENTS (rel) + 1] = { NULL };
  g_autoptr(GPtrArray) defs = NULL;
  g_autoptr(GPtrArray) result =
    g_ptr_array_new_with_free_func ((GDestroyNotify) imprint_reset_partition_free);
  int r;

  for (gsize i = 0; i < G_N_ELEMENTS (rel); i++)
    dirs[i] = g_build_filename (root ? root : "/", rel[i], NULL);
  r = imprint_repart_load_dirs ((const char *const *) dirs, &defs, NULL, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (rel); i++)
    g_free (dirs[i]);
  if (r < 0)
    return r;
  for (guint i = 0; i < defs->len; i++)
    {
      const ImprintRepartDefinition *def = defs->pdata[i];
      ImprintResetPartition *p;

      if (!def->factory_reset)
        continue;
      p = g_new0 (ImprintResetPartition, 1);
      p->definition = g_strdup (def->name);
      p->description = imprint_factory_reset_describe_type (def->type);
      p->type = g_strdup (def->type);
      p->label = g_strdup (def->label);
      g_ptr_array_add (result, p);
    }
  *ret = g_steal_pointer (&result);
  return 0;
}

/* ---- Mechanism, state, TPM ------------------------------------------------- */

static gboolean
use_factory_reset_tool (const ImprintUpdatePaths *paths)
{
  /* Tests redirect the EFI variables; the tool would write the real ones. */
  return paths->efivars == NULL && g_file_test (FACTORY_RESET_TOOL, G_FILE_TEST_IS_EXECUTABLE);
}

static gboolean
efi_available (const ImprintUpdatePaths *paths)
{
  return g_file_test (paths->efivars ? paths->efivars : IMPRINT_EFIVARS_DEFAULT, G_FILE_TEST_IS_DIR);
}

static char *
tpm_ppi_request_path (const ImprintUpdatePaths *paths)
{
  return g_build_filename (paths->sysfs ? paths->sysfs : "/sys", "class/tpm/tpm0/ppi/request", NULL);
}

static gboolean
tpm_clear_pending (const ImprintUpdatePaths *paths)
{
  g_autofree char *path = tpm_ppi_request_path (paths);
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  g_strstrip (text);
  return g_str_equal (text, TPM_PPI_CLEAR) || g_str_has_prefix (text, TPM_PPI_CLEAR " ");
}

static int
tpm_ppi_write (const ImprintUpdatePaths *paths, const char *op)
{
  g_autofree char *path = tpm_ppi_request_path (paths);
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CLOEXEC | O_NOCTTY | (paths->sysfs ? O_TRUNC : 0));

  if (fd < 0)
    return -errno;
  if (write (fd, op, strlen (op)) < 0)
    return -errno;
  return 0;
}

static gboolean
reset_pending (const ImprintUpdatePaths *paths)
{
  g_autofree char *value = NULL, *request = NULL;

  if (imprint_efi_read_string (paths->efivars, IMPRINT_EFI_FACTORY_RESET, &value) >= 0 &&
      imprint_repart_parse_boolean (value) == 1)
    return TRUE;
  /* v258's JSON request: present means requested (the tool itself tells
   * "pending" from "on" by the boot ID it holds). */
  return imprint_efi_read_string (paths->efivars, IMPRINT_EFI_FACTORY_RESET_REQUEST, &request) >= 0;
}

static gboolean
run_tool (const char *verb, GError **error)
{
  const char *argv[] = { FACTORY_RESET_TOOL, verb, NULL };
  g_autofree char *err = NULL;
  int status;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("systemd-factory-reset %s failed: %s"),
                   verb, err && *err ? g_strstrip (err) : _("no reason given"));
      return FALSE;
    }
  return TRUE;
}

static int
can_factory_reset (const ImprintUpdatePaths *paths)
{
  const char *argv[] = { "systemd-repart", "--can-factory-reset", NULL };
  int status;

  /* It examines the disk of the running system: meaningless against a
   * test root. */
  if (paths->root != NULL)
    return -1;
  if (!g_spawn_sync (NULL, (char **) argv, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, &status, NULL))
    return -1;
  return g_spawn_check_wait_status (status, NULL) ? 1 : 0;
}

GVariant *
imprint_factory_reset_info (const ImprintUpdatePaths *paths)
{
  g_autoptr(GPtrArray) parts = NULL;
  g_autoptr(GHashTable) os = NULL;
  GVariantBuilder b, erased, kept;
  const char *reason = NULL;
  gboolean tool = use_factory_reset_tool (paths);
  g_autofree char *tpm_path = tpm_ppi_request_path (paths);
  int can;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&erased, G_VARIANT_TYPE ("aa{sv}"));
  g_variant_builder_init (&kept, G_VARIANT_TYPE ("as"));

  if (imprint_factory_reset_partitions (paths->root, &parts) < 0)
    parts = g_ptr_array_new ();
  for (guint i = 0; i < parts->len; i++)
    {
      ImprintResetPartition *p = g_ptr_array_index (parts, i);
      GVariantBuilder e;

      g_variant_builder_init (&e, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&e, "{sv}", "definition", g_variant_new_string (p->definition));
      g_variant_builder_add (&e, "{sv}", "type", g_variant_new_string (p->type ? p->type : ""));
      g_variant_builder_add (&e, "{sv}", "label", g_variant_new_string (p->label ? p->label : ""));
      g_variant_builder_add (&e, "{sv}", "description", g_variant_new_string (p->description));
      g_variant_builder_add_value (&erased, g_variant_builder_end (&e));
    }

  if (imprint_os_release_read (paths->root, &os) >= 0)
    {
      const char *version = g_hash_table_lookup (os, "IMAGE_VERSION");
      /* PRETTY_NAME usually carries a version of its own ("ImprintOS 1"):
       * next to IMAGE_VERSION the plain NAME reads right. */
      const char *name = version && g_hash_table_lookup (os, "NAME")
                         ? g_hash_table_lookup (os, "NAME")
                         : g_hash_table_lookup (os, "PRETTY_NAME") ?: g_hash_table_lookup (os, "NAME");

      g_autofree char *sentence = NULL;

      if (name && version)
        sentence = g_strdup_printf (_("The operating system, %s version %s (the read-only /usr partitions)"), name, version);
      else if (name)
        sentence = g_strdup_printf (_("The operating system, %s (the read-only /usr partitions)"), name);
      if (sentence)
        g_variant_builder_add (&kept, "s", sentence);
    }
  g_variant_builder_add (&kept, "s", _("Installed updates and the boot loader (the EFI system partition)"));

  if (parts->len == 0)
    reason = _("No partition of this system is marked to be erased by a factory reset (FactoryReset=yes in repart.d).");
  else if (!tool && !efi_available (paths))
    reason = _("This computer did not start through UEFI, so a factory reset cannot be requested for the next boot.");

  g_variant_builder_add (&b, "{sv}", "supported", g_variant_new_boolean (reason == NULL));
  if (reason != NULL)
    g_variant_builder_add (&b, "{sv}", "reason", g_variant_new_string (reason));
  g_variant_builder_add (&b, "{sv}", "pending", g_variant_new_boolean (reset_pending (paths)));
  g_variant_builder_add (&b, "{sv}", "mechanism", g_variant_new_string (tool ? "systemd-factory-reset" : "efi-variable"));
  g_variant_builder_add (&b, "{sv}", "erased", g_variant_builder_end (&erased));
  g_variant_builder_add (&b, "{sv}", "kept", g_variant_builder_end (&kept));
  g_variant_builder_add (&b, "{sv}", "tpm-clear-supported", g_variant_new_boolean (g_file_test (tpm_path, G_FILE_TEST_EXISTS)));
  g_variant_builder_add (&b, "{sv}", "tpm-clear-pending", g_variant_new_boolean (tpm_clear_pending (paths)));
  can = can_factory_reset (paths);
  if (can >= 0)
    g_variant_builder_add (&b, "{sv}", "repart-can-factory-reset", g_variant_new_boolean (can > 0));
  return g_variant_builder_end (&b);
}

/* ---- The running root during a pending reset -------------------------------
 *
 * Up to systemd 257 the initrd orders systemd-repart only before
 * initrd-root-fs.target: on the boot that carries out the reset, the old
 * root is found by gpt-auto, unlocked and mounted while repart deletes and
 * recreates it, and the boot ends in emergency mode. While a reset is
 * pending, the root partition carries the "no-auto" flag, so the initrd
 * never picks it up; repart still matches it by type, deletes it and
 * creates the new root without the flag, which gpt-auto then finds. */

/* Disk node and 1-based partition number under the file system at "/",
 * through dm-crypt or any other stack (the first slave at each level). */
static int
root_partition (char **ret_disk, guint *ret_partno)
{
  g_autofree char *dir = NULL;
  struct stat st;

  if (stat ("/", &st) < 0)
    return -errno;
  dir = g_strdup_printf ("/sys/dev/block/%u:%u", major (st.st_dev), minor (st.st_dev));
  for (int depth = 0; depth < 8; depth++)
    {
      g_autofree char *part_file = g_build_filename (dir, "partition", NULL);
      g_autofree char *number = NULL;

      if (g_file_get_contents (part_file, &number, NULL, NULL))
        {
          g_autofree char *parent_link = g_build_filename (dir, "..", NULL);
          g_autofree char *parent = realpath (parent_link, NULL);
          guint64 n = g_ascii_strtoull (number, NULL, 10);
          g_autofree char *base = NULL;

          if (parent == NULL || n == 0)
            return -ENODEV;
          base = g_path_get_basename (parent);
          *ret_disk = g_build_filename ("/dev", base, NULL);
          *ret_partno = (guint) n;
          return 0;
        }

      g_autofree char *slaves = g_build_filename (dir, "slaves", NULL);
      g_autoptr(GDir) d = g_dir_open (slaves, 0, NULL);
      const char *first = d ? g_dir_read_name (d) : NULL;
      if (first == NULL)
        return -ENODEV;
      g_free (dir);
      dir = g_build_filename ("/sys/class/block", first, NULL);
    }
  return -ELOOP;
}

static int
set_no_auto (const char *disk, guint partno, gboolean on)
{
  struct fdisk_context *cxt = fdisk_new_context ();
  guint64 attrs = 0, want;
  int r;

  if (cxt == NULL)
    return -ENOMEM;
  r = fdisk_assign_device (cxt, disk, 0);
  if (r == 0 && !fdisk_is_labeltype (cxt, FDISK_DISKLABEL_GPT))
    r = -EMEDIUMTYPE;
  if (r == 0)
    r = fdisk_gpt_get_partition_attrs (cxt, partno - 1, &attrs);
  want = on ? (attrs | GPT_FLAG_NO_AUTO) : (attrs & ~GPT_FLAG_NO_AUTO);
  if (r == 0 && want != attrs)
    {
      r = fdisk_gpt_set_partition_attrs (cxt, partno - 1, want);
      if (r == 0)
        r = fdisk_write_disklabel (cxt);
    }
  if (fdisk_get_devfd (cxt) >= 0)
    {
      /* Only the attribute changed: the kernel's view of the partitions
       * stays right, no re-read (the disk is in use anyway). */
      int r2 = fdisk_deassign_device (cxt, 0);
      if (r == 0)
        r = r2;
    }
  fdisk_unref_context (cxt);
  return r < 0 ? r : 0;
}

/* Only on the running system with a root partition a reset recreates. */
static gboolean
resets_running_root (const ImprintUpdatePaths *paths)
{
  g_autoptr(GPtrArray) parts = NULL;

  if (paths->root != NULL || paths->efivars != NULL || paths->sysfs != NULL)
    return FALSE;
  if (imprint_factory_reset_partitions (NULL, &parts) < 0)
    return FALSE;
  for (guint i = 0; i < parts->len; i++)
    {
      ImprintResetPartition *p = parts->pdata[i];
      if (p->type && g_str_has_prefix (p->type, "root"))
        return TRUE;
    }
  return FALSE;
}

static int
mark_running_root (const ImprintUpdatePaths *paths, gboolean pending)
{
  g_autofree char *disk = NULL;
  guint partno = 0;
  int r;

  if (!resets_running_root (paths))
    return 0;
  r = root_partition (&disk, &partno);
  if (r < 0)
    return r;
  return set_no_auto (disk, partno, pending);
}

gboolean
imprint_factory_reset_request (const ImprintUpdatePaths *paths, gboolean clear_tpm, GError **error)
{
  g_autoptr(GPtrArray) parts = NULL;
  g_autofree char *tpm_path = tpm_ppi_request_path (paths);
  int r;

  if (imprint_factory_reset_partitions (paths->root, &parts) < 0 || parts->len == 0)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                           _("No partition of this system is marked to be erased by a factory reset (FactoryReset=yes in repart.d)."));
      return FALSE;
    }
  if (clear_tpm && !g_file_test (tpm_path, G_FILE_TEST_EXISTS))
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                           _("This computer’s firmware offers no way to clear the TPM from the running system."));
      return FALSE;
    }

  if (use_factory_reset_tool (paths))
    {
      if (!run_tool ("request", error))
        return FALSE;
    }
  else
    {
      if (!efi_available (paths))
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                               _("This computer did not start through UEFI, so a factory reset cannot be requested for the next boot."));
          return FALSE;
        }
      r = imprint_efi_write_string (paths->efivars, IMPRINT_EFI_FACTORY_RESET, "1");
      if (r < 0)
        {
          g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                       _("Could not request the factory reset (EFI variable): %s"), g_strerror (-r));
          return FALSE;
        }
    }

  /* With systemd-factory-reset (>= 258) the reset is systemd's own
   * sequence; not verified here, so it is left alone. */
  r = use_factory_reset_tool (paths) ? 0 : mark_running_root (paths, TRUE);
  if (r < 0)
    {
      g_autoptr(GError) ignored = NULL;

      imprint_factory_reset_cancel (paths, &ignored);
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Could not prepare the system partition for the factory reset: %s. No factory reset was requested."),
                   g_strerror (-r));
      return FALSE;
    }

  if (clear_tpm)
    {
      r = tpm_ppi_write (paths, TPM_PPI_CLEAR);
      if (r < 0)
        {
          g_autoptr(GError) ignored = NULL;

          /* All or nothing: a reset without the TPM clear the person asked
           * for is not what they confirmed. */
          imprint_factory_reset_cancel (paths, &ignored);
          g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                       _("Could not ask the firmware to clear the TPM: %s. No factory reset was requested."),
                       g_strerror (-r));
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
imprint_factory_reset_cancel (const ImprintUpdatePaths *paths, GError **error)
{
  int r;

  if (use_factory_reset_tool (paths) && !run_tool ("cancel", error))
    return FALSE;
  /* Whatever the tool did, no variable of either form may survive. */
  r = imprint_efi_remove (paths->efivars, IMPRINT_EFI_FACTORY_RESET);
  if (r >= 0)
    r = imprint_efi_remove (paths->efivars, IMPRINT_EFI_FACTORY_RESET_REQUEST);
  if (r < 0 && r != -ENOENT)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Could not withdraw the factory reset request: %s"), g_strerror (-r));
      return FALSE;
    }
  r = mark_running_root (paths, FALSE);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Could not restore the system partition: %s"), g_strerror (-r));
      return FALSE;
    }
  if (tpm_clear_pending (paths))
    {
      r = tpm_ppi_write (paths, "0");
      if (r < 0)
        {
          g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                       _("Could not withdraw the TPM clear request: %s"), g_strerror (-r));
          return FALSE;
        }
    }
  return TRUE;
}
