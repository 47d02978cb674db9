/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <sys/stat.h>

#include "imprint-error.h"
#include "imprint-fido2.h"
#include "imprintd-methods.h"
#include "macros.h"
#include "safe-open.h"

#define ACTION_LIST_DISKS    "dev.imprint.Imprint1.list-disks"
#define ACTION_INSTALL       "dev.imprint.Imprint1.install"
#define ACTION_ENROLL        "dev.imprint.Imprint1.enroll"
#define ACTION_CREATE_USER   "dev.imprint.Imprint1.create-user"
#define ACTION_UPDATE        "dev.imprint.Imprint1.update"
#define ACTION_FACTORY_RESET "dev.imprint.Imprint1.factory-reset"
#define ACTION_LIST_ENROLLMENTS "dev.imprint.Imprint1.list-enrollments"
#define ACTION_UNENROLL      "dev.imprint.Imprint1.unenroll"
#define ACTION_INSPECT       "dev.imprint.Imprint1.inspect"
#define ACTION_READ_STATUS   "dev.imprint.Imprint1.read-status"

/* The one table of what imprintd does and which polkit action guards it.
 * Read-only verbs are allowed to an active local user without a password
 * (allow_active=yes) and grouped by what they let one learn, so rules can
 * tell them apart: list-disks (this computer's disks and security devices,
 * and its setup defaults: first-boot setup, which runs before any
 * administrator exists, is granted exactly list-disks and create-user),
 * inspect (what an image holds and what installing it would do),
 * read-status (updates and factory reset of the running system).
 * CheckPassphrase and GenerateRecoveryKey touch nothing on the system
 * (a strength score, random bytes), so nothing guards them.
 * data/dev.imprint.Imprint1.policy.in and SECURITY.md say the same. */
static const ImprintdMethod methods[] = {
  { "ListDisks",               ACTION_LIST_DISKS, FALSE, imprintd_method_list_disks },
  { "GetSecurityCapabilities", ACTION_LIST_DISKS, FALSE, imprintd_method_get_security_capabilities },
  { "CheckPassphrase",         NULL,              FALSE, imprintd_method_check_passphrase },
  { "GenerateRecoveryKey",     NULL,              FALSE, imprintd_method_generate_recovery_key },
  { "InspectSource",           ACTION_INSPECT,    FALSE, imprintd_method_inspect_source },
  { "PlanInstall",             ACTION_INSPECT,    FALSE, imprintd_method_plan_install },
  { "Install",                 ACTION_INSTALL,    TRUE,  imprintd_method_install },
  { "GetUpdateStatus",         ACTION_READ_STATUS, FALSE, imprintd_method_get_update_status },
  { "CheckForUpdates",         ACTION_READ_STATUS, FALSE, imprintd_method_check_for_updates },
  { "Update",                  ACTION_UPDATE,     TRUE,  imprintd_method_update },
  { "SetAutomaticUpdates",     ACTION_UPDATE,     FALSE, imprintd_method_set_automatic_updates },
  { "GetFactoryResetInfo",     ACTION_READ_STATUS, FALSE, imprintd_method_get_factory_reset_info },
  { "RequestFactoryReset",     ACTION_FACTORY_RESET, FALSE, imprintd_method_request_factory_reset },
  { "CancelFactoryReset",      ACTION_FACTORY_RESET, FALSE, imprintd_method_cancel_factory_reset },
  { "GetSetupDefaults",        ACTION_LIST_DISKS, FALSE, imprintd_method_get_setup_defaults },
  { "ApplySetup",              ACTION_CREATE_USER, TRUE, imprintd_method_apply_setup },
  { "ListEnrollments",         ACTION_LIST_ENROLLMENTS, FALSE, imprintd_method_list_enrollments },
  { "Enroll",                  ACTION_ENROLL,     TRUE,  imprintd_method_enroll },
  { "Unenroll",                ACTION_UNENROLL,   TRUE,  imprintd_method_unenroll },
};

const ImprintdMethod *
imprintd_methods_lookup (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_str_equal (methods[i].name, name))
      return &methods[i];
  return NULL;
}

/* imprintd runs as root; a caller may only make it read image files the
 * caller could read itself. */
gboolean
imprintd_check_file_access (const char *path, guint32 uid, GError **error)
{
  struct stat st;

  if (stat (path, &st) < 0)
    {
      int e = errno;
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (-e),
                   _("Cannot open “%s”: %s"), path, g_strerror (e));
      return FALSE;
    }
  if (uid == 0 || st.st_uid == uid || (st.st_mode & S_IROTH))
    return TRUE;
  g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
               _("You are not allowed to read “%s”."), path);
  return FALSE;
}

ImprintTargetLock *
imprintd_lock_target (const char *path, ImprintTargetLockFlags flags, GError **error)
{
  return imprint_target_lock_acquire (path, flags, error);
}

void
imprintd_target_lock_set_job (ImprintTargetLock *lock, const char *what, const char *job_path)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *when = g_date_time_format (now, "%X");
  /* TRANSLATORS: "the installation started at 10:02:03 (job /dev/imprint/Imprint1/job/3)" */
  g_autofree char *owner = g_strdup_printf (_("%s started at %s (job %s)"), what, when, job_path);

  imprint_target_lock_set_owner (lock, owner);
}

int
imprintd_open_as_caller (ImprintdMethodCall *call, const char *path, int flags, unsigned types,
                         gboolean root_may_open_block, GError **error)
{
  g_auto(SafeCreds) creds = { 0 };
  _cleanup_close_ int fd = -1, pfd = -1;
  int r;

  if (path == NULL || !g_path_is_absolute (path))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an absolute path."), path ? path : "");
      return -1;
    }
  r = safe_creds_for_uid (call->uid, &creds);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Cannot open “%s”: %s"), path, g_strerror (-r));
      return -1;
    }
  fd = safe_open_as (AT_FDCWD, path, &creds, flags, SAFE_OPEN_TIMEOUT_MS,
                     root_may_open_block ? &pfd : NULL);
  if (fd < 0 && pfd >= 0)
    {
      struct stat st;

      /* The caller reached a device node it may not open: a disk, which
       * only root may read. The verb allows that (polkit authorised it,
       * or it only looks at the size and partition table). */
      if (fstat (pfd, &st) == 0 && S_ISBLK (st.st_mode))
        {
          char proc[64];
          snprintf (proc, sizeof (proc), "/proc/self/fd/%d", pfd);
          fd = open (proc, (flags & ~O_DIRECTORY) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
          if (fd < 0)
            fd = -errno;
        }
    }
  if (fd < 0)
    {
      r = fd;
      if (r == -ELOOP)
        g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                     _("“%s” is a symbolic link: name the file itself."), path);
      else if (r == -ETIMEDOUT)
        g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                     _("Opening “%s” took too long."), path);
      else
        g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                     _("Cannot open “%s”: %s"), path, g_strerror (-r));
      return -1;
    }

  r = safe_fd_check (fd, types, NULL);
  if (r == -EPERM)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is on a kernel or user-space file system that imprintd does not read."), path);
      return -1;
    }
  if (r == -ENOTDIR)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a directory."), path);
      return -1;
    }
  if (r < 0 && (types & SAFE_TYPE_BLK))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is neither a disk nor an image file."), path);
      return -1;
    }
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a regular file."), path);
      return -1;
    }
  return TAKE_FD (fd);
}

int
imprintd_fido2_prompt (ImprintFido2Prompt kind, const char *message, char **ret_answer, void *userdata)
{
  ImprintdJob *job = userdata;
  g_autoptr(GError) error = NULL;
  char *answer = NULL;

  if (kind == IMPRINT_FIDO2_PROMPT_TOUCH)
    {
      /* A notice: the key blinks and waits; nothing to answer. */
      imprintd_job_log (job, "%s", message);
      return 0;
    }

  if (!imprintd_job_request (job, "fido2-pin", message, &answer, &error))
    return -ECANCELED;
  /* The FIDO2 library wipes and frees what it is given, with
   * imprint_secret_free(). */
  *ret_answer = imprint_secret_strdup (answer);
  imprintd_job_free_answer (answer);
  return *ret_answer != NULL ? 0 : -ENOMEM;
}
