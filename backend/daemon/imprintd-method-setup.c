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
#include "imprint-setup-apply.h"
#include "imprint-setup-disk.h"
#include "imprint-setup-target.h"
#include "luks.h"
#include "imprintd-job.h"
#include "imprint-request.h"
#include "imprintd-methods.h"
#include "macros.h"
#include "recovery-key.h"
#include "safe-open.h"

/* GetSetupDefaults and ApplySetup: first-boot setup of the running system
 * (target "") or of an installed system's root directory (a path) from
 * the live session. This file checks the call and opens what the caller
 * named; backend/setup does the work (imprint-setup-apply.h: the order,
 * the steps and what is undone when a step fails). */

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
parse_target (ImprintdMethodCall *call, const char *target, ImprintSetupOn *ret_kind, int *ret_root_fd,
              char **ret_disk_node, GError **error)
{
  _cleanup_close_ int fd = -1;
  guint32 uid = call->uid;
  int r;

  if (target[0] == '\0')
    {
      *ret_kind = IMPRINT_SETUP_ON_RUNNING;
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
      *ret_kind = IMPRINT_SETUP_ON_DISK;
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
  *ret_kind = IMPRINT_SETUP_ON_ROOT;
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

/* The current settings and the credentials' choices: of this system for
 * the running system or a disk just installed from it, else of the tree. */
static void
read_defaults (ImprintdMethodCall *call, ImprintSetupOn kind, int root_fd, ImprintSystemSettings *ret_current,
               ImprintSetupCredentials *ret_creds)
{
  if (kind == IMPRINT_SETUP_ON_RUNNING || kind == IMPRINT_SETUP_ON_DISK)
    {
      ImprintSystemSettings files = { 0 };

      /* What the services say, else what their files hold. */
      imprint_setup_read_running (imprintd_daemon_get_connection (call->daemon), ret_current);
      imprint_setup_read_root ("/", &files);
#define FILL(f) if (ret_current->f == NULL) ret_current->f = g_steal_pointer (&files.f)
      FILL (locale); FILL (keymap); FILL (timezone); FILL (hostname); FILL (pretty_hostname);
#undef FILL
      imprint_system_settings_clear (&files);
      /* Credentials belong to this boot of this machine. */
      if (kind == IMPRINT_SETUP_ON_RUNNING)
        imprint_setup_read_credentials (NULL, ret_creds);
      else
        ret_creds->decided = g_ptr_array_new_with_free_func (g_free);
    }
  else
    {
      /* Only files the caller could read anyway, resolved inside the
       * tree (parse_target checked the tree itself). */
      imprint_setup_read_root_fd (root_fd, (uid_t) call->uid, ret_current);
      ret_creds->decided = g_ptr_array_new_with_free_func (g_free);
    }
}

GVariant *
imprintd_method_get_setup_defaults (ImprintdMethodCall *call, GError **error)
{
  const char *target;
  ImprintSetupOn kind;
  ImprintSystemSettings current = { 0 };
  ImprintSetupCredentials creds = { 0 };
  GVariantBuilder b, user;
  gboolean pending;
  _cleanup_close_ int root_fd = -1;
  g_autofree char *disk_node = NULL;

  g_variant_get_child (call->parameters, 0, "&s", &target);
  if (!parse_target (call, target, &kind, &root_fd, &disk_node, error))
    return NULL;

  if (kind == IMPRINT_SETUP_ON_DISK)
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
  read_defaults (call, kind, root_fd, &current, &creds);
  /* A disk the live session just installed has not been set up. */
  pending = kind == IMPRINT_SETUP_ON_DISK ||
            (kind == IMPRINT_SETUP_ON_RUNNING ? imprint_setup_is_pending ("") : imprint_setup_is_pending_fd (root_fd, false));

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

    if (kind == IMPRINT_SETUP_ON_RUNNING && imprint_setup_disk_find_root ("/", &device) >= 0)
      oem = imprint_setup_disk_is_tpm2_only (device);
    g_variant_builder_add (&b, "{sv}", "oem", g_variant_new_boolean (oem));
  }

  imprint_system_settings_clear (&current);
  imprint_setup_credentials_clear (&creds);
  return g_variant_new ("(@a{sv})", g_variant_builder_end (&b));
}

/* ---- ApplySetup ----------------------------------------------------------- */

/* The work is imprint_setup_apply() (backend/setup/imprint-setup-apply.h);
 * the job owns the request. */
typedef struct {
  ImprintSetupApply apply;
  char *target;
  ImprintdCallerFile disk_device; /* io_path NULL: the device under "/" */
  char *locale;                 /* of the caller, for messages */
  ImprintTargetLock *lock;      /* disk: the disk, busy for other jobs */
} SetupData;

static void
setup_data_free (SetupData *d)
{
  imprint_setup_apply_clear (&d->apply);
  imprintd_caller_file_clear (&d->disk_device);
  g_free (d->target);
  g_free (d->locale);
  imprint_target_lock_free (d->lock);
  g_free (d);
}

static gboolean
setup_thread (ImprintdJob *job, GCancellable *cancellable, gpointer user_data, GError **error)
{
  SetupData *d = user_data;
  locale_t locale = (locale_t) 0;
  ImprintReport report;
  GVariantBuilder result;
  gboolean ok;

  if (d->locale != NULL)
    {
      locale = newlocale (LC_ALL_MASK, d->locale, (locale_t) 0);
      if (locale != (locale_t) 0)
        uselocale (locale);
    }
  imprintd_job_report (job, &report);
  d->apply.fido2_prompt = imprintd_fido2_prompt;
  d->apply.fido2_prompt_data = job;
  ok = imprint_setup_apply (&d->apply, &report, cancellable, error);
  if (ok)
    {
      g_variant_builder_init (&result, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&result, "{sv}", "target", g_variant_new_string (d->target));
      if (d->apply.have_user)
        g_variant_builder_add (&result, "{sv}", "user-name", g_variant_new_string (d->apply.user_name));
      imprintd_job_set_result (job, g_variant_builder_end (&result));
    }
  if (locale != (locale_t) 0)
    {
      uselocale (LC_GLOBAL_LOCALE);
      freelocale (locale);
    }
  return ok;
}

/* s when it is not empty, else NULL: where ApplySetup reads "" as absent. */
static char *
nonempty (const char *s)
{
  return s != NULL && s[0] != '\0' ? g_strdup (s) : NULL;
}

/* A recovery key as typed, in the canonical form systemd compares, in
 * secret memory; @what names it in the error. */
static gboolean
canonical_recovery_key (const char *typed, const char *what_invalid, char **ret, GError **error)
{
  char *normalized = NULL;

  if (imprint_recovery_key_normalize (typed, &normalized) < 0)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT, what_invalid);
      return FALSE;
    }
  *ret = imprint_secret_strdup (normalized);
  imprint_secret_free (normalized);
  if (*ret == NULL)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, g_strerror (ENOMEM));
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_user (ImprintSetupUser *user, guint32 uid, ImprintSetupApply *d, GError **error)
{
  d->have_user = TRUE;
  d->administrator = imprint_opt_bool (user->administrator, TRUE);
  d->user_name = nonempty (user->user_name);
  d->real_name = nonempty (user->real_name);
  d->password = g_steal_pointer (&user->password);
  d->fido2 = imprint_opt_bool (user->fido2, FALSE);
  if (user->fido2_device != NULL && user->fido2_device[0] != '\0' &&
      !imprintd_check_fido2_device (user->fido2_device, uid, &d->fido2_device, error))
    return FALSE;
  d->disk_size = user->disk_size;
  d->auto_login = imprint_opt_bool (user->auto_login, FALSE);

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
  /* What is stored must be what systemd compares: the canonical form. */
  if (user->recovery_key != NULL &&
      !canonical_recovery_key (user->recovery_key,
                               _("The recovery key for the home is not valid (see GenerateRecoveryKey)."),
                               &d->recovery_key, error))
    return FALSE;
  return TRUE;
}

/* The system disk's extra unlock methods (OEM first boot). */
static gboolean
parse_disk_methods (ImprintdMethodCall *call, ImprintSetupRequest *req, SetupData *d, GError **error)
{
  ImprintSetupApply *a = &d->apply;

  if (req->disk_recovery_key != NULL &&
      !canonical_recovery_key (req->disk_recovery_key,
                               _("The recovery key for the system disk is not valid (see GenerateRecoveryKey)."),
                               &a->disk_recovery_key, error))
    return FALSE;
  a->disk_fido2 = imprint_opt_bool (req->disk_fido2, FALSE);
  if (req->disk_fido2_device != NULL && req->disk_fido2_device[0] != '\0' &&
      !imprintd_check_fido2_device (req->disk_fido2_device, call->uid, &a->disk_fido2_device, error))
    return FALSE;
  /* The encrypted partition (or image file) whose keyslots change, opened
   * once, as the caller, and used through that inode only. ApplySetup is
   * behind an admin action (or the setup session's own rule, which is as
   * much as root on a machine being set up), so a partition the caller
   * reached may be opened by us, as for Install; an image file the caller
   * must be able to write itself. */
  if (req->disk_device != NULL && req->disk_device[0] != '\0' &&
      !imprintd_open_caller_file (call, req->disk_device, O_RDWR, TRUE, FALSE, &d->disk_device, error))
    return FALSE;
  a->disk_device = g_strdup (d->disk_device.io_path);
  a->disk_device_display = g_strdup (d->disk_device.display);
  a->disk_tpm2_device = nonempty (req->disk_tpm2_device);
  if (!imprintd_check_tpm2_device (a->disk_tpm2_device, call->uid, error))
    return FALSE;
  /* An installed disk got its unlock methods when it was installed; the
   * running system's root is the one first boot sealed to the TPM only. */
  if ((a->disk_recovery_key != NULL || a->disk_fido2) && a->on != IMPRINT_SETUP_ON_RUNNING)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("Unlock methods for the system disk can only be added to the running system."));
      return FALSE;
    }
  return TRUE;
}

static SetupData *
setup_data_new (ImprintdMethodCall *call, GError **error)
{
  g_auto(ImprintSetupRequest) req;
  g_autoptr(GVariant) settings = NULL;
  SetupData *d = g_new0 (SetupData, 1);
  ImprintSetupApply *a = &d->apply;
  const char *target;

  a->root_fd = -1;
  d->disk_device.fd = -1;
  imprint_setup_request_init (&req);
  g_variant_get_child (call->parameters, 0, "&s", &target);
  settings = g_variant_get_child_value (call->parameters, 1);
  d->target = g_strdup (target);
  if (!parse_target (call, target, &a->on, &a->root_fd, &a->disk_node, error))
    goto fail;
  if (a->on == IMPRINT_SETUP_ON_ROOT)
    a->root = g_strdup (d->target);
  /* Setup creates the first user and sets what nobody has set yet; once
   * it is over, that is the administrator's business, with the system's
   * own tools (an installed disk is checked once it is mounted). */
  if ((a->on == IMPRINT_SETUP_ON_RUNNING && !imprint_setup_is_pending ("")) ||
      (a->on == IMPRINT_SETUP_ON_ROOT && imprint_setup_is_complete_fd (a->root_fd, false)))
    {
      imprint_setup_complete_error (error);
      goto fail;
    }
  if (!imprint_setup_request_from_variant (settings, call->options, &req, error))
    goto fail;
  /* An encrypted installed disk opens with the passphrase or the recovery
   * key the installer just showed (typed form accepted), or by its TPM. */
  a->unlock_passphrase = g_steal_pointer (&req.unlock_passphrase);
  a->unlock_tpm2 = imprint_opt_bool (req.unlock_tpm2, FALSE);
  a->tpm2_device = nonempty (req.tpm2_device);
  a->tpm2_device_flags = imprintd_tpm2_device_flags (call->uid);
  if (!imprintd_check_tpm2_device (a->tpm2_device, call->uid, error))
    goto fail;

  a->settings.locale = nonempty (req.locale);
  a->settings.keymap = nonempty (req.keymap);
  a->settings.timezone = nonempty (req.timezone);
  a->settings.hostname = nonempty (req.hostname);
  a->settings.pretty_hostname = nonempty (req.pretty_hostname);
  if (!imprint_system_settings_check (&a->settings, error))
    goto fail;
  if (req.has_user && !parse_user (&req.user, call->uid, a, error))
    goto fail;
  if (!parse_disk_methods (call, &req, d, error))
    goto fail;
  d->locale = nonempty (req.call.locale);
  a->bus = g_object_ref (imprintd_daemon_get_connection (call->daemon));
  return d;

fail:
  setup_data_free (d);
  return NULL;
}

GVariant *
imprintd_method_apply_setup (ImprintdMethodCall *call, GError **error)
{
  SetupData *d = setup_data_new (call, error);
  g_autoptr(ImprintdJob) job = NULL;
  const char *path;

  if (d == NULL)
    return NULL;
  /* One job per disk: an installed disk being set up is no target for an
   * install meanwhile (the busy marker only: setup mounts it). */
  if (d->apply.on == IMPRINT_SETUP_ON_DISK)
    {
      d->lock = imprintd_lock_target (d->apply.disk_node, IMPRINT_TARGET_LOCK_REGISTRY, error);
      if (d->lock == NULL)
        {
          setup_data_free (d);
          return NULL;
        }
    }

  job = imprintd_job_new ("setup", call->uid, FALSE);
  path = imprintd_daemon_add_job (call->daemon, job);
  if (d->lock != NULL)
    imprintd_target_lock_set_job (d->lock, _("the setup"), path);
  imprintd_job_run (job, setup_thread, d, (GDestroyNotify) setup_data_free);
  return g_variant_new ("(o)", path);
}
