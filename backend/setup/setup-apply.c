/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypt-error.h"
#include "imprint-error.h"
#include "imprint-root-fd.h"
#include "imprint-setup-apply.h"
#include "imprint-setup-disk.h"
#include "imprint-setup-keymap.h"
#include "json-bounded.h"
#include "luks.h"
#include "macros.h"
#include "secret.h"

/* ApplySetup's work (imprint-setup-apply.h): the order, the steps and
 * what is undone when a step fails. The formats are in the other
 * setup-*.c files; imprintd parses the call and opens what the caller
 * named. */

void
imprint_setup_apply_clear (ImprintSetupApply *a)
{
  imprint_secret_free (a->password);
  imprint_secret_free (a->unlock_passphrase);
  imprint_secret_free (a->recovery_key);
  imprint_secret_free (a->disk_recovery_key);
  g_free (a->tpm2_device);
  g_free (a->disk_fido2_device);
  g_free (a->disk_device);
  g_free (a->disk_device_display);
  g_free (a->disk_tpm2_device);
  imprint_system_settings_clear (&a->settings);
  if (a->root_fd >= 0)
    close (a->root_fd);
  g_free (a->root);
  g_free (a->disk_node);
  g_free (a->user_name);
  g_free (a->real_name);
  g_free (a->fido2_device);
  g_clear_object (&a->bus);
  *a = (ImprintSetupApply) { .root_fd = -1 };
}

static const char *
root_dir (const ImprintSetupApply *d)
{
  return d->on == IMPRINT_SETUP_ON_DISK ? d->mounted_root : d->root;
}

void
imprint_setup_complete_error (GError **error)
{
  g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                       _("Setup is already complete: users and settings are changed with the "
                         "system’s own tools now."));
}

static void
begin_step (ImprintSetupApply *d, const char *what)
{
  imprint_report_step (d->report, what);
  imprint_report_progress (d->report, (double) d->step / (double) d->n_steps);
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
apply_settings (ImprintSetupApply *d, GCancellable *cancellable, GError **error)
{
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  gboolean ok;

  if (d->on == IMPRINT_SETUP_ON_RUNNING)
    ok = imprint_setup_apply_running (d->bus, &d->settings, warnings, cancellable, error);
  else
    ok = imprint_setup_write_root_fd (d->root_fd, &d->settings, warnings, error);
  /* The layout for the passphrase prompt at boot, on the ESP. */
  if (ok)
    imprint_setup_keymap_for_boot (d, warnings);
  for (guint i = 0; i < warnings->len; i++)
    imprint_report_log (d->report, "%s", (const char *) g_ptr_array_index (warnings, i));
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

/* An installed system's home: at TARGET/home/NAME.home, with a user ID
 * free there. Fills @p's image path and uid; *ret_machine_id is this
 * (live) system's, which the record's perMachine entry matches. */
static gboolean
prepare_installed_home (ImprintSetupApply *d, ImprintHomeParams *p, char **ret_image_path,
                        char **ret_machine_id, GError **error)
{
  g_autofree char *image_path = NULL, *home_dir = NULL, *machine_id = NULL;
  g_autofree char *image_rel = g_strdup_printf ("home/%s.home", d->user_name);
  struct stat st;
  int r;

  home_dir = g_build_filename (root_dir (d), "home", NULL);
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
  p->image_path = image_path;
  p->image_path_machine_id = machine_id;
  r = imprint_setup_pick_home_uid_fd (d->root_fd, d->user_name, &p->uid);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("No user ID is free for “%s” on the installed system: %s"), d->user_name, g_strerror (-r));
      return FALSE;
    }
  *ret_image_path = g_steal_pointer (&image_path);
  *ret_machine_id = g_steal_pointer (&machine_id);
  return TRUE;
}

/* homed here made the home; the installed system's homed must accept it:
 * it gets this system's signing key pair, or trusts its public key. On
 * failure the half-made home is taken away again. */
static gboolean
hand_over_home (ImprintSetupApply *d, const char *machine_id, GCancellable *cancellable, GError **error)
{
  g_autofree char *pem = NULL, *key_name = NULL;
  int adopted = 0;

  key_name = g_strdup_printf ("imprint-setup-%s", machine_id);
  if (!imprint_homed_get_signing_key (d->bus, d->user_name, &pem, cancellable, error) ||
      (adopted = imprint_homed_adopt_key_pair_fd (homed_state_dir (), d->root_fd, pem, error)) < 0 ||
      (adopted == 0 && !imprint_homed_trust_key_fd (d->root_fd, key_name, pem, error)))
    {
      /* Without the key the installed system refuses the home: take it
       * away again so a retry starts clean. */
      g_autoptr(GError) undo = NULL;
      if (!imprint_homed_remove (d->bus, d->user_name, NULL, &undo))
        imprint_report_log (d->report, _("The half-made home could not be removed: %s"), undo->message);
      return FALSE;
    }
  if (adopted > 0)
    {
      imprint_report_log (d->report, _("The installed system’s homed signs with the key that made the home."));
      /* Its homed then knows the home from the start (as on the
       * machine that made it) instead of fixating it from the image. */
      if (imprint_homed_hand_over_record_fd (homed_state_dir (), d->root_fd, d->user_name, error) < 0)
        {
          g_autoptr(GError) undo = NULL;
          if (!imprint_homed_remove (d->bus, d->user_name, NULL, &undo))
            imprint_report_log (d->report, _("The half-made home could not be removed: %s"), undo->message);
          return FALSE;
        }
    }
  else
    imprint_report_log (d->report, _("The installed system trusts this system’s signing key (%s.public). "
                                     "It does not hold that key, so homed there cannot re-sign the user’s record."), key_name);

  /* Only the installed system should know the home. A leftover
   * registration here is harmless (it ends with the live session). */
  {
    g_autoptr(GError) e = NULL;
    if (!imprint_homed_unregister (d->bus, d->user_name, cancellable, &e))
      imprint_report_log (d->report, _("This system still lists the new home: %s"), e->message);
  }
  return TRUE;
}

/* The installed system's homed must accept a home made here: the record
 * is signed by this (live) system's homed, so the installed system gets
 * that key pair as its own (or, when it has one already, trusts the public
 * key in /etc/systemd/home/), and the image is made directly on the
 * target's /home (the perMachine imagePath only matches this machine, so
 * the installed system looks for it at /home/NAME.home). Then this
 * system forgets the home again. */
static gboolean
create_user (ImprintSetupApply *d, GCancellable *cancellable, GError **error)
{
  g_autoptr(ImprintFido2Enrollment) fido2 = NULL;
  _cleanup_secret_ char *record = NULL;
  g_autofree char *image_path = NULL, *machine_id = NULL;
  g_autofree char *admin_group = imprint_setup_admin_group_fd (d->on != IMPRINT_SETUP_ON_RUNNING ? d->root_fd : -1);
  ImprintHomeParams p = {
    .user_name = d->user_name, .real_name = d->real_name, .password = d->password,
    .recovery_key = d->recovery_key, .disk_size = d->disk_size,
    .administrator = d->administrator, .admin_group = admin_group, .auto_login = d->auto_login,
  };
  int r;

  if (d->on != IMPRINT_SETUP_ON_RUNNING && !prepare_installed_home (d, &p, &image_path, &machine_id, error))
    return FALSE;

  if (d->fido2)
    {
      imprint_report_step (d->report, _("Setting up the security key for the home"));
      r = imprint_fido2_enroll_homed (NULL, d->fido2_device, d->user_name, NULL, d->real_name,
                                      IMPRINT_FIDO2_LOCK_DEFAULT, d->fido2_prompt, d->fido2_prompt_data, &fido2);
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

  imprint_report_step (d->report, _("Creating the encrypted home directory"));
  if (!imprint_homed_create (d->bus, record, cancellable, error))
    return FALSE;
  imprint_report_log (d->report, _("The home of %s was created."), d->user_name);

  if (d->on == IMPRINT_SETUP_ON_RUNNING)
    return TRUE;

  return hand_over_home (d, machine_id, cancellable, error);
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

/* The encrypted partition under "/" (or the one the caller named),
 * opened, and its volume key from the TPM, or *ret_vk NULL when systemd's
 * token plugin has to unlock it. */
static gboolean
open_system_disk (ImprintSetupApply *d, struct crypt_device **ret_cd, char **ret_device,
                  void **ret_vk, size_t *ret_vk_size, GError **error)
{
  _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
  g_autofree char *device = NULL, *signature = NULL;
  void *vk = NULL;
  size_t vk_size = 0;
  int r;

  if (d->disk_device != NULL)
    device = g_strdup (d->disk_device);
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
                   d->disk_device_display != NULL ? d->disk_device_display : device, imprint_crypt_strerror (r));
      return FALSE;
    }
  signature = read_pcr_signature ();
  r = imprint_setup_disk_unlock_tpm2 (cd, d->disk_tpm2_device, d->tpm2_device_flags, signature, &vk, &vk_size);
  if (r == -EOPNOTSUPP)
    {
      /* A token from a newer systemd than our TPM2 code reads: systemd's
       * own token plugin unlocks it (by_token below). */
      imprint_report_log (d->report, _("Unlocking the system partition through systemd’s TPM2 token plugin."));
      vk = NULL;
    }
  else if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_crypt_error_code (r),
                   _("The TPM did not unlock the system partition: %s"),
                   r == -ENOKEY ? _("it has no TPM2 unlock method.") : imprint_crypt_strerror (r));
      return FALSE;
    }
  *ret_cd = g_steal_pointer (&cd);
  *ret_device = g_steal_pointer (&device);
  *ret_vk = vk;
  *ret_vk_size = vk_size;
  return TRUE;
}

static gboolean
add_disk_recovery_key (ImprintSetupApply *d, struct crypt_device *cd, const void *vk, size_t vk_size,
                       GError **error)
{
  int r, slot = -1;

  imprint_report_step (d->report, _("Adding the recovery key to the system disk"));
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
      g_set_error (error, IMPRINT_ERROR, imprint_crypt_error_code (r),
                   _("Could not add the recovery key: %s"), imprint_crypt_strerror (r));
      return FALSE;
    }
  imprint_report_log (d->report, _("The system disk has a recovery key (keyslot %d)."), slot);
  return TRUE;
}

static gboolean
add_disk_fido2 (ImprintSetupApply *d, struct crypt_device *cd, const char *device, const void *vk,
                size_t vk_size, GError **error)
{
  g_autoptr(ImprintFido2Enrollment) e = NULL;
  g_autofree char *json = NULL;
  g_autoptr(JsonNode) node = NULL;
  _cleanup_secret_ char *pass = NULL;
  int r, slot = -1;

  imprint_report_step (d->report, _("Adding the security key to the system disk"));
  r = imprint_fido2_enroll_luks (NULL, d->disk_fido2_device, crypt_get_uuid (cd), device,
                                 IMPRINT_FIDO2_LOCK_DEFAULT, d->fido2_prompt, d->fido2_prompt_data, &e);
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
      g_set_error (error, IMPRINT_ERROR, imprint_crypt_error_code (r),
                   _("Could not add the security key: %s"), imprint_crypt_strerror (r));
      return FALSE;
    }
  imprint_report_log (d->report, _("The system disk opens with the security key (keyslot %d)."), slot);
  return TRUE;
}

static gboolean
add_disk_methods (ImprintSetupApply *d, GError **error)
{
  _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
  g_autofree char *device = NULL;
  void *vk = NULL;
  size_t vk_size = 0;
  gboolean ok;

  if (!open_system_disk (d, &cd, &device, &vk, &vk_size, error))
    return FALSE;
  ok = (d->disk_recovery_key == NULL || add_disk_recovery_key (d, cd, vk, vk_size, error)) &&
       (!d->disk_fido2 || add_disk_fido2 (d, cd, device, vk, vk_size, error));
  imprint_secret_free (vk);
  return ok;
}

/* The installed system on the disk, unlocked with what the caller gave
 * and mounted; d->mounted_root is its directory until close_disk(). */
static gboolean
open_disk (ImprintSetupApply *d, GCancellable *cancellable, GError **error)
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
  d->mounted_root = imprint_setup_target_get_root (d->disk);
  imprint_report_log (d->report, _("The installed system is mounted at %s."), d->mounted_root);
  r = imprint_root_open (d->mounted_root, &d->root_fd);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Cannot open “%s”: %s"), d->mounted_root, g_strerror (-r));
      return FALSE;
    }
  if (imprint_setup_is_complete_fd (d->root_fd, false))
    {
      imprint_setup_complete_error (error);
      return FALSE;
    }
  return TRUE;
}

/* On success, failure and cancel alike. A failure here does not undo
 * what setup wrote: it is only logged. */
static void
close_disk (ImprintSetupApply *d)
{
  g_autoptr(GError) e = NULL;

  if (d->root_fd >= 0)
    close (d->root_fd);
  d->root_fd = -1;
  if (d->disk == NULL)
    return;
  d->mounted_root = NULL;
  if (!imprint_setup_target_close (g_steal_pointer (&d->disk), &e))
    imprint_report_log (d->report, _("The installed system could not be closed cleanly: %s"), e->message);
}

static gboolean
mark_complete (ImprintSetupApply *d, const char *root, GError **error)
{
  int r = d->on == IMPRINT_SETUP_ON_RUNNING ? imprint_setup_mark_complete (root)
                                            : imprint_setup_mark_complete_fd (d->root_fd, false);

  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Could not record that setup is complete: %s"), g_strerror (-r));
      return FALSE;
    }
  return TRUE;
}

gboolean
imprint_setup_apply (ImprintSetupApply *d, const ImprintReport *report, GCancellable *cancellable,
                     GError **error)
{
  const char *root;
  gboolean ok = FALSE;
  const char *step;

  d->report = report;
  d->step = 0;
  d->n_steps = 2 + (d->have_user ? 1 : 0) + (d->disk_recovery_key != NULL || d->disk_fido2 ? 1 : 0) +
               (d->on == IMPRINT_SETUP_ON_DISK ? 1 : 0);

  /* 0. The installed system on a disk: unlocked and mounted first. */
  if (d->on == IMPRINT_SETUP_ON_DISK)
    {
      step = _("Opening the installed system");
      begin_step (d, step);
      if (!open_disk (d, cancellable, error))
        {
          step_failed (error, step);
          goto out;
        }
    }
  root = d->on == IMPRINT_SETUP_ON_RUNNING ? "" : root_dir (d);

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
  if (!mark_complete (d, root, error))
    {
      step_failed (error, step);
      goto out;
    }

  imprint_report_progress (report, 1.0);
  imprint_report_step (report, _("Setup is complete"));
  ok = TRUE;

out:
  close_disk (d);
  d->report = NULL;
  return ok;
}

