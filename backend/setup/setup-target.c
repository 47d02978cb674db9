/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <libcryptsetup.h>
#include <libfdisk.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imprint-error.h"
#include "imprint-setup-target.h"
#include "luks.h"
#include "luks-enroll.h"
#include "macros.h"
#include "recovery-key.h"
#include "source.h"
#include "tpm2.h"

/* How long systemd may take to start or stop the mount unit. */
#define UNIT_TIMEOUT_USEC (90 * G_USEC_PER_SEC)

struct ImprintSetupTarget {
  char *partition;              /* the root partition */
  struct crypt_device *cd;      /* when LUKS2 */
  char *dm_name;                /* while activated */
  char *dir;                    /* /run/imprint/target-XXXXXX, while it exists */
  char *unit;                   /* the transient .mount unit, when systemd mounted */
  gboolean mounted;
  GDBusConnection *systemd;     /* the system bus, when systemd is PID 1 */
};

int
imprint_setup_target_find_root (const char *device, char **ret_partition)
{
  const char *want = imprint_gpt_type_root_native ();
  blkid_probe pr;
  blkid_partlist pl;
  int found = -1, n, r = 0;
  char *node;

  if (want == NULL)
    return -EOPNOTSUPP;
  pr = blkid_new_probe_from_filename (device);
  if (pr == NULL)
    return errno > 0 ? -errno : -EIO;
  blkid_probe_enable_partitions (pr, 1);
  blkid_probe_set_partitions_flags (pr, BLKID_PARTS_ENTRY_DETAILS);
  blkid_probe_enable_superblocks (pr, 0);
  if (blkid_do_safeprobe (pr) != 0 || (pl = blkid_probe_get_partitions (pr)) == NULL)
    {
      blkid_free_probe (pr);
      return -ENOENT;
    }
  n = blkid_partlist_numof_partitions (pl);
  for (int i = 0; i < n && r == 0; i++)
    {
      blkid_partition p = blkid_partlist_get_partition (pl, i);
      const char *type = blkid_partition_get_type_string (p);

      if (type == NULL || g_ascii_strcasecmp (type, want) != 0)
        continue;
      if (found >= 0)
        r = -ENOTUNIQ;      /* which one boots is not ours to guess */
      found = blkid_partition_get_partno (p);
    }
  blkid_free_probe (pr);
  if (r < 0)
    return r;
  if (found < 0)
    return -ENOENT;

  node = fdisk_partname (device, (size_t) found);
  if (node == NULL)
    return -ENOMEM;
  /* A loop device without partition scanning has no nodes for them. */
  if (access (node, F_OK) < 0)
    {
      free (node);
      return -ENXIO;
    }
  *ret_partition = g_strdup (node);
  free (node);
  return 0;
}

/* The file system type, for mount(2) (systemd's mount(8) finds it too). */
static char *
probe_fstype (const char *node)
{
  blkid_probe pr = blkid_new_probe_from_filename (node);
  const char *type = NULL;
  char *ret = NULL;

  if (pr == NULL)
    return NULL;
  blkid_probe_enable_superblocks (pr, 1);
  blkid_probe_set_superblocks_flags (pr, BLKID_SUBLKS_TYPE);
  if (blkid_do_safeprobe (pr) == 0 && blkid_probe_lookup_value (pr, "TYPE", &type, NULL) == 0)
    ret = g_strdup (type);
  blkid_free_probe (pr);
  return ret;
}

/* The unit name of a mount point, escaped as systemd-escape --path does. */
static char *
mount_unit_name (const char *path)
{
  GString *s = g_string_new (NULL);
  const char *p = path;

  while (*p == '/')
    p++;
  for (; *p != '\0'; p++)
    {
      if (*p == '/')
        g_string_append_c (s, '-');
      else if (g_ascii_isalnum (*p) || *p == '_' || *p == ':' || (*p == '.' && s->len > 0))
        g_string_append_c (s, *p);
      else
        g_string_append_printf (s, "\\x%02x", (unsigned char) *p);
    }
  g_string_append (s, ".mount");
  return g_string_free (s, FALSE);
}

static gboolean
set_errno_error (GError **error, int r, const char *what)
{
  g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r), "%s: %s", what, g_strerror (-r));
  return FALSE;
}

/* ---- Unlocking ----------------------------------------------------------- */

/* The volume key from the caller's secret. Taking the volume key (no
 * activation) is what tells a wrong secret apart, before device-mapper. */
static gboolean
get_volume_key (ImprintSetupTarget *t, const ImprintSetupTargetUnlock *u,
                void **ret_vk, size_t *ret_vk_size, GError **error)
{
  int r;

  if (u->passphrase != NULL && u->passphrase[0] != '\0')
    {
      char *canonical = NULL;

      /* The recovery key as the installer showed it, typed in any case,
       * with or without dashes; anything else is a passphrase as it is. */
      if (imprint_recovery_key_normalize (u->passphrase, &canonical) >= 0)
        {
          r = imprint_luks_volume_key_get (t->cd, canonical, strlen (canonical), ret_vk, ret_vk_size, NULL);
          imprint_secret_free (canonical);
          if (r >= 0)
            return TRUE;
        }
      r = imprint_luks_volume_key_get (t->cd, u->passphrase, strlen (u->passphrase), ret_vk, ret_vk_size, NULL);
      if (r == -EPERM)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                               _("The passphrase or recovery key does not unlock the installed system."));
          return FALSE;
        }
      if (r < 0)
        return set_errno_error (error, r, _("Could not unlock the installed system"));
      return TRUE;
    }

  if (u->tpm2)
    {
      g_autoptr(ImprintTpm2) tpm = NULL;
      char *pass = NULL;

      r = imprint_tpm2_open (u->tpm2_device, u->tpm2_device_flags, &tpm);
      if (r >= 0)
        r = imprint_luks_unlock_tpm2 (t->cd, tpm, NULL, u->tpm2_signature, &pass);
      if (r >= 0)
        {
          r = imprint_luks_volume_key_get (t->cd, pass, strlen (pass), ret_vk, ret_vk_size, NULL);
          imprint_secret_free (pass);
        }
      if (r < 0)
        {
          g_set_error (error, IMPRINT_ERROR,
                       r == -EPERM || r == -ENOENT ? IMPRINT_ERROR_NOT_AUTHORIZED : IMPRINT_ERROR_UNAVAILABLE,
                       _("The TPM did not unlock the installed system: %s"),
                       r == -ENOENT ? _("it has no TPM2 unlock method.") : g_strerror (-r));
          return FALSE;
        }
      return TRUE;
    }

  g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                       _("The installed system is encrypted: give its passphrase or recovery key "
                         "(“unlock-passphrase”) or unlock it with the TPM (“unlock-tpm2”)."));
  return FALSE;
}

static gboolean
unlock (ImprintSetupTarget *t, const ImprintSetupTargetUnlock *u, GError **error)
{
  g_autofree char *suffix = NULL;
  void *vk = NULL;
  size_t vk_size = 0;
  int r;

  if (!get_volume_key (t, u, &vk, &vk_size, error))
    return FALSE;
  /* A name of its own: the live system may have other volumes open,
   * another setup may run, and a stale one must not be reused. */
  suffix = g_uuid_string_random ();
  t->dm_name = g_strdup_printf ("imprint-target-%.8s", suffix);
  r = crypt_activate_by_volume_key (t->cd, t->dm_name, vk, vk_size,
                                    u->read_only ? CRYPT_ACTIVATE_READONLY : 0);
  imprint_secret_free (vk);
  if (r < 0)
    {
      g_clear_pointer (&t->dm_name, g_free);
      return set_errno_error (error, r, _("Could not open the encrypted installed system"));
    }
  return TRUE;
}

/* ---- Mounting through systemd --------------------------------------------- */

static GVariant *
systemd_call (ImprintSetupTarget *t, const char *path, const char *iface, const char *method,
              GVariant *args, const char *reply_type, GCancellable *cancellable, GError **error)
{
  return g_dbus_connection_call_sync (t->systemd, "org.freedesktop.systemd1", path, iface, method, args,
                                      reply_type != NULL ? G_VARIANT_TYPE (reply_type) : NULL,
                                      G_DBUS_CALL_FLAGS_NONE, -1, cancellable, error);
}

/* Waits for a job of systemd to finish: its object goes away then. */
static gboolean
wait_job (ImprintSetupTarget *t, const char *job, GCancellable *cancellable, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + UNIT_TIMEOUT_USEC;

  for (;;)
    {
      g_autoptr(GVariant) v = NULL;
      g_autoptr(GError) e = NULL;

      v = systemd_call (t, job, "org.freedesktop.DBus.Properties", "Get",
                        g_variant_new ("(ss)", "org.freedesktop.systemd1.Job", "State"),
                        "(v)", NULL, &e);
      if (v == NULL)
        return TRUE;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (g_get_monotonic_time () > deadline)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                               _("systemd did not finish mounting or unmounting the installed system in time."));
          return FALSE;
        }
      g_usleep (100 * 1000);
    }
}

static char *
unit_active_state (ImprintSetupTarget *t)
{
  g_autoptr(GVariant) unit = NULL, v = NULL, inner = NULL;
  const char *path;

  unit = systemd_call (t, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "GetUnit",
                       g_variant_new ("(s)", t->unit), "(o)", NULL, NULL);
  if (unit == NULL)
    return g_strdup ("inactive");       /* gone: collected after stopping */
  g_variant_get (unit, "(&o)", &path);
  v = systemd_call (t, path, "org.freedesktop.DBus.Properties", "Get",
                    g_variant_new ("(ss)", "org.freedesktop.systemd1.Unit", "ActiveState"),
                    "(v)", NULL, NULL);
  if (v == NULL)
    return NULL;
  g_variant_get (v, "(v)", &inner);
  return g_variant_is_of_type (inner, G_VARIANT_TYPE_STRING) ? g_variant_dup_string (inner, NULL) : NULL;
}

static gboolean
mount_by_systemd (ImprintSetupTarget *t, const char *what, const char *fstype, gboolean read_only,
                  GCancellable *cancellable, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *state = NULL;
  GVariantBuilder props;
  const char *job;

  t->unit = mount_unit_name (t->dir);
  g_variant_builder_init (&props, G_VARIANT_TYPE ("a(sv)"));
  g_variant_builder_add (&props, "(sv)", "Description",
                         g_variant_new_string ("Installed system being set up by Imprint"));
  g_variant_builder_add (&props, "(sv)", "What", g_variant_new_string (what));
  g_variant_builder_add (&props, "(sv)", "Where", g_variant_new_string (t->dir));
  if (fstype != NULL)
    g_variant_builder_add (&props, "(sv)", "Type", g_variant_new_string (fstype));
  g_variant_builder_add (&props, "(sv)", "Options",
                         g_variant_new_string (read_only ? "ro,nosuid,nodev" : "nosuid,nodev"));
  /* Gone by itself once stopped or failed: nothing to reset later. */
  g_variant_builder_add (&props, "(sv)", "CollectMode", g_variant_new_string ("inactive-or-failed"));

  reply = systemd_call (t, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                        "StartTransientUnit",
                        g_variant_new ("(ssa(sv)a(sa(sv)))", t->unit, "fail", &props, NULL),
                        "(o)", cancellable, error);
  if (reply == NULL)
    {
      g_clear_pointer (&t->unit, g_free);
      g_prefix_error (error, _("Could not mount the installed system: "));
      return FALSE;
    }
  g_variant_get (reply, "(&o)", &job);
  /* From here on the unit exists: close() stops it whatever happens. */
  t->mounted = TRUE;
  if (!wait_job (t, job, cancellable, error))
    return FALSE;
  state = unit_active_state (t);
  if (g_strcmp0 (state, "active") != 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("systemd could not mount the installed system (%s is %s)."), t->unit,
                   state != NULL ? state : "unknown");
      return FALSE;
    }
  return TRUE;
}

static gboolean
unmount_by_systemd (ImprintSetupTarget *t, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) e = NULL;
  g_autofree char *state = NULL;
  const char *job;

  reply = systemd_call (t, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "StopUnit",
                        g_variant_new ("(ss)", t->unit, "replace"), "(o)", NULL, &e);
  if (reply == NULL)
    {
      /* Collected already (it failed): nothing is mounted. */
      if (g_dbus_error_is_remote_error (e) &&
          g_strcmp0 (g_dbus_error_get_remote_error (e), "org.freedesktop.systemd1.NoSuchUnit") == 0)
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&e));
      return FALSE;
    }
  g_variant_get (reply, "(&o)", &job);
  if (!wait_job (t, job, NULL, error))
    return FALSE;
  state = unit_active_state (t);
  if (state != NULL && (g_str_equal (state, "inactive") || g_str_equal (state, "failed")))
    return TRUE;
  g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_BUSY,
               _("systemd could not unmount the installed system (%s is %s)."), t->unit,
               state != NULL ? state : "unknown");
  return FALSE;
}

/* ---- Open and close ------------------------------------------------------- */

static gboolean
make_mount_dir (ImprintSetupTarget *t, GError **error)
{
  const char *base = "/run/imprint";
  g_autofree char *tmpl = NULL;

  if (g_mkdir_with_parents (base, 0755) < 0)
    return set_errno_error (error, -errno, base);
  tmpl = g_build_filename (base, "target-XXXXXX", NULL);
  if (g_mkdtemp_full (tmpl, 0755) == NULL)
    return set_errno_error (error, -errno, _("Could not make a mount point for the installed system"));
  t->dir = g_steal_pointer (&tmpl);
  return TRUE;
}

static gboolean
do_mount (ImprintSetupTarget *t, gboolean read_only, GCancellable *cancellable, GError **error)
{
  g_autofree char *what = NULL, *fstype = NULL;

  what = t->dm_name != NULL ? g_strdup_printf ("/dev/mapper/%s", t->dm_name) : g_strdup (t->partition);
  fstype = probe_fstype (what);
  if (fstype == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_FOUND,
                   _("The root partition %s holds no file system."), t->partition);
      return FALSE;
    }
  if (!make_mount_dir (t, error))
    return FALSE;

  /* systemd-homed, outside imprintd's mount namespace, creates the home
   * image under this directory: the mount must be in the host's
   * namespace, which systemd's own mount units are. */
  if (access ("/run/systemd/system", F_OK) == 0)
    {
      t->systemd = g_bus_get_sync (G_BUS_TYPE_SYSTEM, cancellable, error);
      if (t->systemd == NULL)
        return FALSE;
      return mount_by_systemd (t, what, fstype, read_only, cancellable, error);
    }

  if (mount (what, t->dir, fstype, MS_NOSUID | MS_NODEV | (read_only ? MS_RDONLY : 0), NULL) < 0)
    return set_errno_error (error, -errno, _("Could not mount the installed system"));
  t->mounted = TRUE;
  return TRUE;
}

gboolean
imprint_setup_target_open (const char *device, const ImprintSetupTargetUnlock *unlock_with,
                           ImprintSetupTarget **ret, GCancellable *cancellable, GError **error)
{
  static const ImprintSetupTargetUnlock none = { 0 };
  ImprintSetupTarget *t;
  struct stat st;
  int r;

  if (unlock_with == NULL)
    unlock_with = &none;
  if (stat (device, &st) < 0 || !S_ISBLK (st.st_mode))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a disk."), device);
      return FALSE;
    }

  t = g_new0 (ImprintSetupTarget, 1);
  r = imprint_setup_target_find_root (device, &t->partition);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, r == -ENOTUNIQ ? IMPRINT_ERROR_INVALID_ARGUMENT : IMPRINT_ERROR_NOT_FOUND,
                   r == -ENOTUNIQ ? _("%s has more than one root partition; it is not clear which system to set up.")
                   : r == -ENXIO ? _("The partitions of %s have no device nodes (is partition scanning off?).")
                                 : _("%s holds no installed system (no root partition)."),
                   device);
      goto fail;
    }

  r = imprint_luks_open (t->partition, &t->cd);
  if (r >= 0)
    {
      if (!unlock (t, unlock_with, error))
        goto fail;
    }
  else if (r != -EINVAL && r != -ENODEV && r != -ENOENT)
    {
      set_errno_error (error, r, _("Could not read the root partition"));
      goto fail;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
      !do_mount (t, unlock_with->read_only, cancellable, error))
    goto fail;
  *ret = t;
  return TRUE;

fail:
  imprint_setup_target_close (t, NULL);
  return FALSE;
}

const char *
imprint_setup_target_get_root (ImprintSetupTarget *t)
{
  return t->dir;
}

const char *
imprint_setup_target_get_dm_name (ImprintSetupTarget *t)
{
  return t->dm_name;
}

gboolean
imprint_setup_target_close (ImprintSetupTarget *t, GError **error)
{
  g_autoptr(GError) first = NULL;
  gboolean unmounted = TRUE;

  if (t == NULL)
    return TRUE;
  if (t->mounted)
    {
      if (t->unit != NULL)
        unmounted = unmount_by_systemd (t, &first);
      else if (umount2 (t->dir, 0) < 0)
        {
          int e = errno;
          unmounted = FALSE;
          set_errno_error (&first, -e, _("Could not unmount the installed system"));
        }
    }
  if (unmounted && t->dir != NULL)
    (void) g_rmdir (t->dir);
  if (unmounted && t->dm_name != NULL)
    {
      int r = crypt_deactivate (t->cd, t->dm_name);
      if (r < 0 && first == NULL)
        set_errno_error (&first, r, _("Could not close the encrypted installed system"));
    }
  if (t->cd != NULL)
    crypt_free (t->cd);
  g_clear_object (&t->systemd);
  g_free (t->unit);
  g_free (t->dir);
  g_free (t->dm_name);
  g_free (t->partition);
  g_free (t);
  if (first != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first));
      return FALSE;
    }
  return TRUE;
}
