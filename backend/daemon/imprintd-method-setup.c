/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json-bounded.h"
#include "imprint-error.h"
#include "imprint-fido2.h"
#include "imprint-root-fd.h"
#include "imprint-setup.h"
#include "imprint-setup-disk.h"
#include "imprint-setup-target.h"
#include "luks.h"
#include "imprintd-job.h"
#include "imprintd-methods.h"
#include "macros.h"
#include "recovery-key.h"
#include "safe-open.h"

/* GetSetupDefaults and ApplySetup: first-boot setup of the running system
 * (target "") or of an installed system's root directory (a path) from
 * the live session. backend/setup has the formats; this file the order,
 * the steps and what is undone when a step fails. */

typedef enum {
  TARGET_RUNNING,
  TARGET_ROOT,
  TARGET_DISK,
} TargetKind;

/* "" = the running system; an absolute directory other than "/" = the
 * root of an installed system; "disk:DEVICE" = the installed system on
 * that disk, which imprintd unlocks and mounts itself (setup-target.c).
 * A directory is opened here, once (*ret_root_fd), and everything setup
 * reads or writes in it is resolved below that fd (imprint-root-fd.h):
 * the caller may own the tree and fill it with symlinks. Whether it is
 * "/" is asked of the fd, not of the spelling ("/.", "//", "/usr/..",
 * a symlink to "/"). A caller other than root must be able to read it.
 * A disk is opened once too, as the caller (no symlink, no FIFO, a block
 * device only): setup then uses its kernel node under root's /dev
 * (*ret_disk_node), never the caller's name. GetSetupDefaults (no
 * password) only reads that disk's partition table, which ListDisks shows
 * anyway, and ApplySetup is behind an admin action: both may use a disk
 * the caller reached but may not open itself, as Install does. */
static gboolean
parse_target (ImprintdMethodCall *call, const char *target, TargetKind *ret_kind, int *ret_root_fd,
              char **ret_disk_node, GError **error)
{
  _cleanup_close_ int fd = -1;
  guint32 uid = call->uid;
  int r;

  if (target[0] == '\0')
    {
      *ret_kind = TARGET_RUNNING;
      return TRUE;
    }
  if (g_str_has_prefix (target, "disk:"))
    {
      const char *device = target + strlen ("disk:");
      g_autofree char *node = NULL;

      fd = imprintd_open_as_caller (call, device, O_RDONLY, SAFE_TYPE_BLK, TRUE, error);
      if (fd < 0)
        return FALSE;
      r = safe_block_device_node (fd, &node);
      if (r < 0)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                       _("Cannot open “%s”: %s"), device, g_strerror (-r));
          return FALSE;
        }
      *ret_kind = TARGET_DISK;
      *ret_disk_node = g_steal_pointer (&node);
      return TRUE;
    }
  if (!g_path_is_absolute (target) || imprint_root_open (target, &fd) < 0 || imprint_root_is_host_root (fd))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not the root directory of an installed system."), target);
      return FALSE;
    }
  r = imprint_root_check_reader (fd, (uid_t) uid);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                   _("You are not allowed to read “%s”."), target);
      return FALSE;
    }
  *ret_kind = TARGET_ROOT;
  *ret_root_fd = TAKE_FD (fd);
  return TRUE;
}

/* "Online" for the network page: a default route exists. Whether the
 * image wants a network at all is the page's business. */
static gboolean
have_default_route (void)
{
  g_autofree char *v4 = NULL, *v6 = NULL;

  if (g_file_get_contents ("/proc/net/route", &v4, NULL, NULL))
    {
      g_auto(GStrv) lines = g_strsplit (v4, "\n", -1);
      for (gsize i = 1; lines[i] != NULL; i++)
        {
          g_auto(GStrv) f = g_strsplit_set (lines[i], " \t", -1);
          guint n = 0;
          const char *cols[3] = { NULL };
          for (gsize k = 0; f[k] != NULL && n < 3; k++)
            if (f[k][0] != '\0')
              cols[n++] = f[k];
          if (n == 3 && g_str_equal (cols[1], "00000000") && !g_str_equal (cols[0], "lo"))
            return TRUE;
        }
    }
  if (g_file_get_contents ("/proc/net/ipv6_route", &v6, NULL, NULL))
    {
      g_auto(GStrv) lines = g_strsplit (v6, "\n", -1);
      for (gsize i = 0; lines[i] != NULL; i++)
        if (g_str_has_prefix (lines[i], "00000000000000000000000000000000 00 ") &&
            !g_str_has_suffix (lines[i], " lo"))
          return TRUE;
    }
  return FALSE;
}

static void
add_string (GVariantBuilder *b, const char *key, const char *value)
{
  /* Values come from files of a tree the caller may have written: a
   * string that is not UTF-8 cannot go over D-Bus (and would trip a GLib
   * critical in g_variant_new_string). backend/setup drops them already;
   * this is the last line. */
  if (value == NULL || !g_utf8_validate (value, -1, NULL))
    value = "";
  g_variant_builder_add (b, "{sv}", key, g_variant_new_string (value));
}

GVariant *
imprintd_method_get_setup_defaults (ImprintdMethodCall *call, GError **error)
{
  const char *target;
  TargetKind kind;
  ImprintSystemSettings current = { 0 };
  ImprintSetupCredentials creds = { 0 };
  GVariantBuilder b, user;
  gboolean pending;
  _cleanup_close_ int root_fd = -1;
  g_autofree char *disk_node = NULL;

  g_variant_get_child (call->parameters, 0, "&s", &target);
  if (!parse_target (call, target, &kind, &root_fd, &disk_node, error))
    return NULL;

  if (kind == TARGET_DISK)
    {
      g_autofree char *partition = NULL;
      int r = imprint_setup_target_find_root (disk_node, &partition);

      /* Not opened here (that would need the unlock secret twice): right
       * after an install the installed system holds the image's defaults,
       * and the person just chose language and keyboard in this live
       * session, so those are what setup should start from. */
      if (r < 0)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_FOUND,
                       _("%s holds no installed system (no root partition)."), target + strlen ("disk:"));
          return NULL;
        }
    }
  if (kind == TARGET_RUNNING || kind == TARGET_DISK)
    {
      ImprintSystemSettings files = { 0 };

      /* What the services say, else what their files hold. */
      imprint_setup_read_running (imprintd_daemon_get_connection (call->daemon), &current);
      imprint_setup_read_root ("/", &files);
#define FILL(f) if (current.f == NULL) current.f = g_steal_pointer (&files.f)
      FILL (locale); FILL (keymap); FILL (timezone); FILL (hostname); FILL (pretty_hostname);
#undef FILL
      imprint_system_settings_clear (&files);
      /* Credentials belong to this boot of this machine. */
      if (kind == TARGET_RUNNING)
        imprint_setup_read_credentials (NULL, &creds);
      else
        creds.decided = g_ptr_array_new_with_free_func (g_free);
    }
  else
    {
      /* Only files the caller could read anyway, resolved inside the
       * tree (parse_target checked the tree itself). */
      imprint_setup_read_root_fd (root_fd, (uid_t) call->uid, &current);
      creds.decided = g_ptr_array_new_with_free_func (g_free);
    }
  /* A disk the live session just installed has not been set up. */
  pending = kind == TARGET_DISK ||
            (kind == TARGET_RUNNING ? imprint_setup_is_pending ("") : imprint_setup_is_pending_fd (root_fd, false));

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
#define PICK(f) (creds.settings.f != NULL ? creds.settings.f : current.f)
  add_string (&b, "locale", PICK (locale));
  add_string (&b, "keymap", PICK (keymap));
  add_string (&b, "timezone", PICK (timezone));
  add_string (&b, "hostname", PICK (hostname));
  add_string (&b, "pretty-hostname", PICK (pretty_hostname));
#undef PICK
  g_variant_builder_init (&user, G_VARIANT_TYPE_VARDICT);
  if (creds.user_name != NULL)
    {
      add_string (&user, "user-name", creds.user_name);
      add_string (&user, "real-name", creds.real_name);
    }
  g_variant_builder_add (&b, "{sv}", "user", g_variant_builder_end (&user));
  g_ptr_array_add (creds.decided, NULL);
  g_variant_builder_add (&b, "{sv}", "decided",
                         g_variant_new_strv ((const char *const *) creds.decided->pdata, -1));
  g_variant_builder_add (&b, "{sv}", "setup-pending", g_variant_new_boolean (pending));
  g_variant_builder_add (&b, "{sv}", "online", g_variant_new_boolean (have_default_route ()));
  /* An OEM machine: the running system's root is LUKS2 sealed to the TPM2
   * only, as systemd-repart made it at first boot; a recovery key (and a
   * FIDO2 key) may be added. An installed root set up from the live
   * session got its disk keys at install. */
  {
    gboolean oem = FALSE;
    g_autofree char *device = NULL;

    if (kind == TARGET_RUNNING && imprint_setup_disk_find_root ("/", &device) >= 0)
      oem = imprint_setup_disk_is_tpm2_only (device);
    g_variant_builder_add (&b, "{sv}", "oem", g_variant_new_boolean (oem));
  }

  imprint_system_settings_clear (&current);
  imprint_setup_credentials_clear (&creds);
  return g_variant_new ("(@a{sv})", g_variant_builder_end (&b));
}

/* ---- ApplySetup ----------------------------------------------------------- */

static void
set_setup_complete_error (GError **error)
{
  g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                       _("Setup is already complete: users and settings are changed with the "
                         "system’s own tools now."));
}

typedef struct {
  char *target;
  TargetKind kind;
  const char *root;             /* TARGET_ROOT/DISK: the installed root directory */
  int root_fd;                  /* TARGET_ROOT/DISK: that directory, opened once; -1 */
  /* Secrets (password, passphrases, recovery keys) live in secret memory
   * (secret.h). */
  char *unlock_passphrase;      /* TARGET_DISK: unlocks its LUKS2 root */
  gboolean unlock_tpm2;
  char *tpm2_device;
  ImprintTpm2DeviceFlags tpm2_device_flags;  /* what the caller may name */
  ImprintSetupTarget *disk;     /* TARGET_DISK, while mounted */
  char *locale;                 /* of the caller, for messages */
  ImprintSystemSettings settings;

  gboolean have_user;
  char *user_name;
  char *real_name;
  char *password;
  char *recovery_key;
  gboolean fido2;
  char *fido2_device;
  guint64 disk_size;
  gboolean auto_login;
  gboolean administrator;

  /* Extra unlock methods for the root (OEM first boot). */
  char *disk_recovery_key;
  gboolean disk_fido2;
  char *disk_fido2_device;
  ImprintdCallerFile disk_device; /* io_path NULL: the device under "/" */
  char *disk_tpm2_device;       /* NULL: the system's TPM */

  GDBusConnection *bus;
  ImprintdJob *job;             /* not owned */
  guint n_steps, step;
  ImprintTargetLock *lock;      /* disk: the disk, busy for other jobs */
  char *disk_node;              /* disk: its /dev node, as opened for the caller */
} SetupData;

static void
setup_data_free (SetupData *d)
{
  imprint_secret_free (d->password);
  imprint_secret_free (d->unlock_passphrase);
  g_free (d->tpm2_device);
  imprint_secret_free (d->recovery_key);
  imprint_secret_free (d->disk_recovery_key);
  g_free (d->disk_fido2_device);
  imprintd_caller_file_clear (&d->disk_device);
  g_free (d->disk_tpm2_device);
  imprint_system_settings_clear (&d->settings);
  if (d->root_fd >= 0)
    close (d->root_fd);
  g_free (d->target);
  g_free (d->disk_node);
  g_free (d->locale);
  g_free (d->user_name);
  g_free (d->real_name);
  g_free (d->fido2_device);
  g_clear_object (&d->bus);
  imprint_target_lock_free (d->lock);
  g_free (d);
}

static void
begin_step (SetupData *d, const char *what)
{
  imprintd_job_set_step (d->job, what);
  imprintd_job_set_progress (d->job, (double) d->step / (double) d->n_steps);
  d->step++;
}

/* Every failure names its step, so the person knows what to go back to. */
static gboolean
step_failed (GError **error, const char *step)
{
  if (error != NULL && *error != NULL)
    /* Translators: put before an error message; %s is a step, e.g.
     * "Creating the user failed: Not enough space". */
    g_prefix_error (error, _("%s failed: "), step);
  return FALSE;
}

static gboolean
apply_settings (SetupData *d, GCancellable *cancellable, GError **error)
{
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  gboolean ok;

  if (d->kind == TARGET_RUNNING)
    ok = imprint_setup_apply_running (d->bus, &d->settings, warnings, cancellable, error);
  else
    ok = imprint_setup_write_root_fd (d->root_fd, &d->settings, warnings, error);
  for (guint i = 0; i < warnings->len; i++)
    imprintd_job_log (d->job, "%s", (const char *) g_ptr_array_index (warnings, i));
  return ok;
}

/* This system's homed keeps its signing key pair here. Tests point it
 * elsewhere: homed does not run on a test host. */
static const char *
homed_state_dir (void)
{
  const char *e = g_getenv ("IMPRINT_HOMED_STATE_DIR");
  return e != NULL && e[0] != '\0' ? e : "/var/lib/systemd/home";
}

/* The installed system's homed must accept a home made here: the record
 * is signed by this (live) system's homed, so the installed system gets
 * that key pair as its own (or, when it has one already, trusts the public
 * key in /etc/systemd/home/), and the image is made directly on the
 * target's /home (the perMachine imagePath only matches this machine, so
 * the installed system looks for it at /home/NAME.home). Then this
 * system forgets the home again. */
static gboolean
create_user (SetupData *d, GCancellable *cancellable, GError **error)
{
  g_autoptr(ImprintFido2Enrollment) fido2 = NULL;
  _cleanup_erase_free_ char *record = NULL;
  g_autofree char *image_path = NULL, *home_dir = NULL, *machine_id = NULL;
  g_autofree char *pem = NULL, *key_name = NULL;
  g_autofree char *admin_group = imprint_setup_admin_group_fd (d->kind != TARGET_RUNNING ? d->root_fd : -1);
  int adopted = 0;
  ImprintHomeParams p = {
    .user_name = d->user_name, .real_name = d->real_name, .password = d->password,
    .recovery_key = d->recovery_key, .disk_size = d->disk_size,
    .administrator = d->administrator, .admin_group = admin_group, .auto_login = d->auto_login,
  };
  int r;

  if (d->kind != TARGET_RUNNING)
    {
      g_autofree char *image_rel = g_strdup_printf ("home/%s.home", d->user_name);
      struct stat st;

      home_dir = g_build_filename (d->root, "home", NULL);
      image_path = g_strdup_printf ("%s/%s.home", home_dir, d->user_name);
      if (imprint_root_lstat (d->root_fd, image_rel, &st) >= 0)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_BUSY,
                       _("The installed system already has a home for “%s”."), d->user_name);
          return FALSE;
        }
      machine_id = imprint_setup_machine_id ("/");
      if (machine_id == NULL)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                               _("This system has no machine ID, which the home’s location is tied to."));
          return FALSE;
        }
      r = imprint_root_mkdir_p (d->root_fd, "home", 0755, NULL);
      if (r < 0)
        {
          g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                       _("Could not create %s: %s"), home_dir, g_strerror (-r));
          return FALSE;
        }
      p.image_path = image_path;
      p.image_path_machine_id = machine_id;
      r = imprint_setup_pick_home_uid_fd (d->root_fd, d->user_name, &p.uid);
      if (r < 0)
        {
          g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                       _("No user ID is free for “%s” on the installed system: %s"), d->user_name, g_strerror (-r));
          return FALSE;
        }
    }

  if (d->fido2)
    {
      imprintd_job_set_step (d->job, _("Setting up the security key for the home"));
      r = imprint_fido2_enroll_homed (NULL, d->fido2_device, d->user_name, NULL, d->real_name,
                                      IMPRINT_FIDO2_LOCK_DEFAULT, imprintd_fido2_prompt, d->job, &fido2);
      if (r < 0)
        {
          g_set_error (error, IMPRINT_ERROR, imprint_crypt_error_code (r),
                       "%s", imprint_crypt_strerror (r));
          return FALSE;
        }
      p.fido2 = fido2;
    }

  r = imprint_setup_home_record (&p, &record);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Could not make the user record: %s"), g_strerror (-r));
      return FALSE;
    }

  imprintd_job_set_step (d->job, _("Creating the encrypted home directory"));
  if (!imprint_homed_create (d->bus, record, cancellable, error))
    return FALSE;
  imprintd_job_log (d->job, _("The home of %s was created."), d->user_name);

  if (d->kind == TARGET_RUNNING)
    return TRUE;

  key_name = g_strdup_printf ("imprint-setup-%s", machine_id);
  if (!imprint_homed_get_signing_key (d->bus, d->user_name, &pem, cancellable, error) ||
      (adopted = imprint_homed_adopt_key_pair_fd (homed_state_dir (), d->root_fd, pem, error)) < 0 ||
      (adopted == 0 && !imprint_homed_trust_key_fd (d->root_fd, key_name, pem, error)))
    {
      /* Without the key the installed system refuses the home: take it
       * away again so a retry starts clean. */
      g_autoptr(GError) undo = NULL;
      if (!imprint_homed_remove (d->bus, d->user_name, NULL, &undo))
        imprintd_job_log (d->job, _("The half-made home could not be removed: %s"), undo->message);
      return FALSE;
    }
  if (adopted > 0)
    {
      imprintd_job_log (d->job, _("The installed system’s homed signs with the key that made the home."));
      /* Its homed then knows the home from the start (as on the
       * machine that made it) instead of fixating it from the image. */
      if (imprint_homed_hand_over_record_fd (homed_state_dir (), d->root_fd, d->user_name, error) < 0)
        {
          g_autoptr(GError) undo = NULL;
          if (!imprint_homed_remove (d->bus, d->user_name, NULL, &undo))
            imprintd_job_log (d->job, _("The half-made home could not be removed: %s"), undo->message);
          return FALSE;
        }
    }
  else
    imprintd_job_log (d->job, _("The installed system trusts this system’s signing key (%s.public). "
                                "It does not hold that key, so homed there cannot re-sign the user’s record."), key_name);

  /* Only the installed system should know the home. A leftover
   * registration here is harmless (it ends with the live session). */
  {
    g_autoptr(GError) e = NULL;
    if (!imprint_homed_unregister (d->bus, d->user_name, cancellable, &e))
      imprintd_job_log (d->job, _("This system still lists the new home: %s"), e->message);
  }
  return TRUE;
}

static void
crypt_freep (struct crypt_device **cd)
{
  if (*cd != NULL)
    crypt_free (*cd);
}

/* A signed PCR policy needs the UKI's signature of the current PCR 11;
 * systemd looks for it in these places (tpm2-util.c). */
static char *
read_pcr_signature (void)
{
  static const char *const paths[] = {
    "/run/systemd/tpm2-pcr-signature.json",
    "/etc/systemd/tpm2-pcr-signature.json",
    "/usr/lib/systemd/tpm2-pcr-signature.json",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      char *text = NULL;
      if (g_file_get_contents (paths[i], &text, NULL, NULL))
        return text;
    }
  return NULL;
}

static gboolean
add_disk_methods (SetupData *d, GError **error)
{
  _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
  g_autofree char *device = NULL, *signature = NULL;
  void *vk = NULL;
  size_t vk_size = 0;
  int r, slot = -1;

  if (d->disk_device.io_path != NULL)
    device = g_strdup (d->disk_device.io_path);
  else
    {
      r = imprint_setup_disk_find_root ("/", &device);
      if (r < 0)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_FOUND,
                               _("The system’s root file system is not on an encrypted (LUKS2) partition."));
          return FALSE;
        }
    }
  r = imprint_luks_open (device, &cd);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_crypt_error_code (r),
                   _("Could not open the encrypted partition %s: %s"),
                   d->disk_device.display != NULL ? d->disk_device.display : device, imprint_crypt_strerror (r));
      return FALSE;
    }
  signature = read_pcr_signature ();
  r = imprint_setup_disk_unlock_tpm2 (cd, d->disk_tpm2_device, d->tpm2_device_flags, signature, &vk, &vk_size);
  if (r == -EOPNOTSUPP)
    {
      /* A token from a newer systemd than our TPM2 code reads: systemd's
       * own token plugin unlocks it (by_token below). */
      imprintd_job_log (d->job, _("Unlocking the system partition through systemd’s TPM2 token plugin."));
      vk = NULL;
    }
  else if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_crypt_error_code (r),
                   _("The TPM did not unlock the system partition: %s"),
                   r == -ENOKEY ? _("it has no TPM2 unlock method.") : imprint_crypt_strerror (r));
      return FALSE;
    }

  if (d->disk_recovery_key != NULL)
    {
      imprintd_job_set_step (d->job, _("Adding the recovery key to the system disk"));
      if (vk != NULL)
        r = imprint_setup_disk_add_recovery_key (cd, vk, vk_size, d->disk_recovery_key, &slot);
      else
        {
          g_autoptr(JsonObject) token = json_object_new ();
          json_object_set_string_member (token, "type", "systemd-recovery");
          r = imprint_setup_disk_enroll_by_token (cd, d->disk_recovery_key, token, &slot);
        }
      if (r < 0)
        {
          erase_and_free (vk, vk_size);
          g_set_error (error, IMPRINT_ERROR, imprint_crypt_error_code (r),
                       _("Could not add the recovery key: %s"), imprint_crypt_strerror (r));
          return FALSE;
        }
      imprintd_job_log (d->job, _("The system disk has a recovery key (keyslot %d)."), slot);
    }

  if (d->disk_fido2)
    {
      g_autoptr(ImprintFido2Enrollment) e = NULL;
      g_autofree char *json = NULL;
      g_autoptr(JsonNode) node = NULL;
      _cleanup_erase_free_ char *pass = NULL;

      imprintd_job_set_step (d->job, _("Adding the security key to the system disk"));
      r = imprint_fido2_enroll_luks (NULL, d->disk_fido2_device, crypt_get_uuid (cd), device,
                                     IMPRINT_FIDO2_LOCK_DEFAULT, imprintd_fido2_prompt, d->job, &e);
      if (r >= 0)
        r = imprint_fido2_luks_token_json (e, -1, &json);
      if (r >= 0)
        {
          node = imprint_json_parse (json, NULL);
          r = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? 0 : -EBADMSG;
        }
      if (r >= 0)
        {
          /* The keyslot is bound when the token is imported. */
          json_object_remove_member (json_node_get_object (node), "keyslots");
          r = imprint_fido2_passphrase (e->secret, e->secret_size, &pass);
        }
      if (r >= 0)
        r = vk != NULL ? imprint_luks_enroll (cd, vk, vk_size, pass, strlen (pass), IMPRINT_LUKS_PBKDF_MINIMAL, NULL,
                                              json_node_get_object (node), &slot, NULL)
                       : imprint_setup_disk_enroll_by_token (cd, pass, json_node_get_object (node), &slot);
      if (r < 0)
        {
          erase_and_free (vk, vk_size);
          g_set_error (error, IMPRINT_ERROR, imprint_crypt_error_code (r),
                       _("Could not add the security key: %s"), imprint_crypt_strerror (r));
          return FALSE;
        }
      imprintd_job_log (d->job, _("The system disk opens with the security key (keyslot %d)."), slot);
    }
  erase_and_free (vk, vk_size);
  return TRUE;
}

/* The installed system on the disk, unlocked with what the caller gave
 * and mounted; d->root is its directory until close_disk(). */
static gboolean
open_disk (SetupData *d, GCancellable *cancellable, GError **error)
{
  g_autofree char *signature = NULL;
  ImprintSetupTargetUnlock u = {
    .passphrase = d->unlock_passphrase,
    .tpm2 = d->unlock_tpm2,
    .tpm2_device = d->tpm2_device,
    .tpm2_device_flags = d->tpm2_device_flags,
  };
  gboolean ok;
  int r;

  if (d->unlock_tpm2)
    u.tpm2_signature = signature = read_pcr_signature ();
  ok = imprint_setup_target_open (d->disk_node, &u, &d->disk, cancellable, error);
  /* Needed no longer. */
  imprint_secret_freep (&d->unlock_passphrase);
  if (!ok)
    return FALSE;
  d->root = imprint_setup_target_get_root (d->disk);
  imprintd_job_log (d->job, _("The installed system is mounted at %s."), d->root);
  r = imprint_root_open (d->root, &d->root_fd);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Cannot open “%s”: %s"), d->root, g_strerror (-r));
      return FALSE;
    }
  if (imprint_setup_is_complete_fd (d->root_fd, false))
    {
      set_setup_complete_error (error);
      return FALSE;
    }
  return TRUE;
}

/* On success, failure and cancel alike. A failure here does not undo
 * what setup wrote: it is only logged. */
static void
close_disk (SetupData *d)
{
  g_autoptr(GError) e = NULL;

  if (d->root_fd >= 0)
    close (d->root_fd);
  d->root_fd = -1;
  if (d->disk == NULL)
    return;
  d->root = NULL;
  if (!imprint_setup_target_close (g_steal_pointer (&d->disk), &e))
    imprintd_job_log (d->job, _("The installed system could not be closed cleanly: %s"), e->message);
}

static gboolean
setup_thread (ImprintdJob *job, GCancellable *cancellable, gpointer user_data, GError **error)
{
  SetupData *d = user_data;
  locale_t locale = (locale_t) 0;
  const char *root;
  GVariantBuilder result;
  gboolean ok = FALSE;
  const char *step;
  int r;

  d->job = job;
  if (d->locale != NULL)
    {
      locale = newlocale (LC_ALL_MASK, d->locale, (locale_t) 0);
      if (locale != (locale_t) 0)
        uselocale (locale);
    }
  d->n_steps = 2 + (d->have_user ? 1 : 0) + (d->disk_recovery_key != NULL || d->disk_fido2 ? 1 : 0) +
               (d->kind == TARGET_DISK ? 1 : 0);

  /* 0. The installed system on a disk: unlocked and mounted first. */
  if (d->kind == TARGET_DISK)
    {
      step = _("Opening the installed system");
      begin_step (d, step);
      if (!open_disk (d, cancellable, error))
        {
          step_failed (error, step);
          goto out;
        }
    }
  root = d->kind == TARGET_RUNNING ? "" : d->root;

  /* 1. Settings: each is a small, complete change of its own; a later
   * failure leaves them set, which is what the person chose anyway. */
  step = _("Applying language, keyboard, time zone and computer name");
  begin_step (d, step);
  if (!apply_settings (d, cancellable, error))
    {
      step_failed (error, step);
      goto out;
    }

  /* 2. The user: either homed made the whole home or nothing is left. */
  if (d->have_user)
    {
      step = _("Creating the user");
      begin_step (d, step);
      if (g_cancellable_set_error_if_cancelled (cancellable, error) || !create_user (d, cancellable, error))
        {
          step_failed (error, step);
          goto out;
        }
    }

  /* 3. Disk unlock methods: each keyslot is checked once written and
   * removed again if the check fails; one added before a later failure
   * stays, complete and usable. */
  if (d->disk_recovery_key != NULL || d->disk_fido2)
    {
      step = _("Adding unlock methods to the system disk");
      begin_step (d, step);
      if (g_cancellable_set_error_if_cancelled (cancellable, error) || !add_disk_methods (d, error))
        {
          step_failed (error, step);
          goto out;
        }
    }

  /* 4. Only now is setup complete: a failure above leaves it pending, so
   * setup runs again at the next boot. */
  step = _("Finishing setup");
  begin_step (d, step);
  r = d->kind == TARGET_RUNNING ? imprint_setup_mark_complete (root)
                                : imprint_setup_mark_complete_fd (d->root_fd, false);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Could not record that setup is complete: %s"), g_strerror (-r));
      step_failed (error, step);
      goto out;
    }

  g_variant_builder_init (&result, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&result, "{sv}", "target", g_variant_new_string (d->target));
  if (d->have_user)
    g_variant_builder_add (&result, "{sv}", "user-name", g_variant_new_string (d->user_name));
  imprintd_job_set_result (job, g_variant_builder_end (&result));
  imprintd_job_set_progress (job, 1.0);
  imprintd_job_set_step (job, _("Setup is complete"));
  ok = TRUE;

out:
  close_disk (d);
  if (locale != (locale_t) 0)
    {
      uselocale (LC_GLOBAL_LOCALE);
      freelocale (locale);
    }
  return ok;
}

static char *
lookup_nonempty (GVariant *dict, const char *key)
{
  const char *s = NULL;

  if (g_variant_lookup (dict, key, "&s", &s) && s[0] != '\0')
    return g_strdup (s);
  return NULL;
}

static gboolean
parse_user (GVariant *user, guint32 uid, SetupData *d, GError **error)
{
  const char *s;

  d->have_user = TRUE;
  d->administrator = TRUE;
  d->user_name = lookup_nonempty (user, "user-name");
  d->real_name = lookup_nonempty (user, "real-name");
  if (!imprintd_lookup_secret (user, "password", &d->password, error))
    return FALSE;
  g_variant_lookup (user, "fido2", "b", &d->fido2);
  if (g_variant_lookup (user, "fido2-device", "&s", &s) && s[0] != '\0' &&
      !imprintd_check_fido2_device (s, uid, &d->fido2_device, error))
    return FALSE;
  g_variant_lookup (user, "disk-size", "t", &d->disk_size);
  g_variant_lookup (user, "auto-login", "b", &d->auto_login);
  g_variant_lookup (user, "administrator", "b", &d->administrator);

  if (!imprint_setup_user_name_is_valid (d->user_name))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” cannot be a user name: use lower-case letters, digits, “-” and “_”, "
                     "starting with a letter."), d->user_name != NULL ? d->user_name : "");
      return FALSE;
    }
  if (d->password == NULL)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("The user needs a password: it encrypts the home directory."));
      return FALSE;
    }
  if (g_variant_lookup (user, "recovery-key", "&s", &s) && s[0] != '\0')
    {
      if (!imprintd_check_secret (s, error))
        return FALSE;
      /* What is stored must be what systemd compares: the canonical form. */
      char *normalized = NULL;
      if (imprint_recovery_key_normalize (s, &normalized) < 0)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                               _("The recovery key for the home is not valid (see GenerateRecoveryKey)."));
          return FALSE;
        }
      d->recovery_key = imprint_secret_strdup (normalized);
      erase_and_free (normalized, strlen (normalized));
      if (d->recovery_key == NULL)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, g_strerror (ENOMEM));
          return FALSE;
        }
    }
  return TRUE;
}

GVariant *
imprintd_method_apply_setup (ImprintdMethodCall *call, GError **error)
{
  const char *target, *s;
  g_autoptr(GVariant) settings = NULL;
  g_autoptr(GVariant) user = NULL;
  g_autoptr(ImprintdJob) job = NULL;
  SetupData *d = g_new0 (SetupData, 1);
  const char *path;

  d->root_fd = -1;
  d->disk_device.fd = -1;
  g_variant_get_child (call->parameters, 0, "&s", &target);
  settings = g_variant_get_child_value (call->parameters, 1);
  d->target = g_strdup (target);
  if (!parse_target (call, target, &d->kind, &d->root_fd, &d->disk_node, error))
    goto fail;
  if (d->kind == TARGET_ROOT)
    d->root = d->target;
  /* Setup creates the first user and sets what nobody has set yet; once
   * it is over, that is the administrator's business, with the system's
   * own tools (an installed disk is checked once it is mounted). */
  if ((d->kind == TARGET_RUNNING && !imprint_setup_is_pending ("")) ||
      (d->kind == TARGET_ROOT && imprint_setup_is_complete_fd (d->root_fd, false)))
    {
      set_setup_complete_error (error);
      goto fail;
    }
  /* An encrypted installed disk opens with the passphrase or the recovery
   * key the installer just showed (typed form accepted), or by its TPM. */
  if (!imprintd_lookup_secret (call->options, "unlock-passphrase", &d->unlock_passphrase, error))
    goto fail;
  g_variant_lookup (call->options, "unlock-tpm2", "b", &d->unlock_tpm2);
  d->tpm2_device = lookup_nonempty (call->options, "tpm2-device");
  d->tpm2_device_flags = imprintd_tpm2_device_flags (call->uid);
  if (!imprintd_check_tpm2_device (d->tpm2_device, call->uid, error))
    goto fail;

  d->settings.locale = lookup_nonempty (settings, "locale");
  d->settings.keymap = lookup_nonempty (settings, "keymap");
  d->settings.timezone = lookup_nonempty (settings, "timezone");
  d->settings.hostname = lookup_nonempty (settings, "hostname");
  d->settings.pretty_hostname = lookup_nonempty (settings, "pretty-hostname");
  if (!imprint_system_settings_check (&d->settings, error))
    goto fail;

  user = g_variant_lookup_value (settings, "user", G_VARIANT_TYPE_VARDICT);
  if (user != NULL && !parse_user (user, call->uid, d, error))
    goto fail;

  if (g_variant_lookup (settings, "disk-recovery-key", "&s", &s) && s[0] != '\0')
    {
      if (!imprintd_check_secret (s, error))
        goto fail;
      char *normalized = NULL;
      if (imprint_recovery_key_normalize (s, &normalized) < 0)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                               _("The recovery key for the system disk is not valid (see GenerateRecoveryKey)."));
          goto fail;
        }
      d->disk_recovery_key = imprint_secret_strdup (normalized);
      erase_and_free (normalized, strlen (normalized));
      if (d->disk_recovery_key == NULL)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, g_strerror (ENOMEM));
          goto fail;
        }
    }
  g_variant_lookup (settings, "disk-fido2", "b", &d->disk_fido2);
  if (g_variant_lookup (settings, "disk-fido2-device", "&s", &s) && s[0] != '\0' &&
      !imprintd_check_fido2_device (s, call->uid, &d->disk_fido2_device, error))
    goto fail;
  /* The encrypted partition (or image file) whose keyslots change, opened
   * once, as the caller, and used through that inode only. ApplySetup is
   * behind an admin action (or the setup session's own rule, which is as
   * much as root on a machine being set up), so a partition the caller
   * reached may be opened by us, as for Install; an image file the caller
   * must be able to write itself. */
  if (g_variant_lookup (settings, "disk-device", "&s", &s) && s[0] != '\0' &&
      !imprintd_open_caller_file (call, s, O_RDWR, TRUE, FALSE, &d->disk_device, error))
    goto fail;
  d->disk_tpm2_device = lookup_nonempty (settings, "disk-tpm2-device");
  if (!imprintd_check_tpm2_device (d->disk_tpm2_device, call->uid, error))
    goto fail;
  /* An installed disk got its unlock methods when it was installed; the
   * running system's root is the one first boot sealed to the TPM only. */
  if ((d->disk_recovery_key != NULL || d->disk_fido2) && d->kind != TARGET_RUNNING)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("Unlock methods for the system disk can only be added to the running system."));
      goto fail;
    }
  if (g_variant_lookup (call->options, "locale", "&s", &s) && s[0] != '\0')
    d->locale = g_strdup (s);
  d->bus = g_object_ref (imprintd_daemon_get_connection (call->daemon));

  /* One job per disk: an installed disk being set up is no target for an
   * install meanwhile (the busy marker only: setup mounts it). */
  if (d->kind == TARGET_DISK)
    {
      d->lock = imprintd_lock_target (d->disk_node, IMPRINT_TARGET_LOCK_REGISTRY, error);
      if (d->lock == NULL)
        goto fail;
    }

  job = imprintd_job_new ("setup", call->uid, FALSE);
  path = imprintd_daemon_add_job (call->daemon, job);
  if (d->lock != NULL)
    imprintd_target_lock_set_job (d->lock, _("the setup"), path);
  imprintd_job_run (job, setup_thread, d, (GDestroyNotify) setup_data_free);
  return g_variant_new ("(o)", path);

fail:
  setup_data_free (d);
  return NULL;
}
