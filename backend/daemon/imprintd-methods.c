/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imprint-error.h"
#include "imprint-fido2.h"
#include "imprintd-methods.h"
#include "macros.h"
#include "safe-open.h"

#define ACTION_LIST_DISKS    "dev.imprint.Imprint1.list-disks"
#define ACTION_READ_SECURITY "dev.imprint.Imprint1.read-security"
#define ACTION_READ_SETUP_DEFAULTS "dev.imprint.Imprint1.read-setup-defaults"
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
 * read-status (updates, factory reset and how the disk unlocked at this
 * start, of the running system).
 * CheckPassphrase and GenerateRecoveryKey touch nothing on the system
 * (a strength score, random bytes), so nothing guards them.
 * data/dev.imprint.Imprint1.policy.in and SECURITY.md say the same. */
static const ImprintdMethod methods[] = {
  { "ListDisks",               ACTION_LIST_DISKS, FALSE, imprintd_method_list_disks },
  { "GetSecurityCapabilities", ACTION_READ_SECURITY, FALSE, imprintd_method_get_security_capabilities },
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
  { "GetSetupDefaults",        ACTION_READ_SETUP_DEFAULTS, FALSE, imprintd_method_get_setup_defaults },
  { "ApplySetup",              ACTION_CREATE_USER, TRUE, imprintd_method_apply_setup },
  { "ListEnrollments",         ACTION_LIST_ENROLLMENTS, FALSE, imprintd_method_list_enrollments },
  { "Enroll",                  ACTION_ENROLL,     TRUE,  imprintd_method_enroll },
  { "Unenroll",                ACTION_UNENROLL,   TRUE,  imprintd_method_unenroll },
  { "GetUnlockStatus",         ACTION_READ_STATUS, FALSE, imprintd_method_get_unlock_status },
};

const ImprintdMethod *
imprintd_methods_lookup (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_str_equal (methods[i].name, name))
      return &methods[i];
  return NULL;
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
  if (r < 0 && types == SAFE_TYPE_BLK)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a disk."), path);
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

void
imprintd_caller_file_clear (ImprintdCallerFile *f)
{
  if (f->fd >= 0)
    close (f->fd);
  f->fd = -1;
  g_clear_pointer (&f->io_path, g_free);
  g_clear_pointer (&f->display, g_free);
}

gboolean
imprintd_open_caller_file (ImprintdMethodCall *call, const char *path, int flags,
                           gboolean root_may_open_block, gboolean keep_block_fd,
                           ImprintdCallerFile *ret, GError **error)
{
  _cleanup_close_ int fd = -1;
  g_autofree char *io = NULL;
  struct stat st;
  int r;

  fd = imprintd_open_as_caller (call, path, flags, SAFE_TYPE_REG | SAFE_TYPE_BLK,
                                root_may_open_block, error);
  if (fd < 0)
    return FALSE;
  if (fstat (fd, &st) < 0)
    r = -errno;
  else if (S_ISBLK (st.st_mode))
    r = safe_block_device_node (fd, &io);
  else
    r = safe_fd_path (fd, &io);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Cannot open “%s”: %s"), path, g_strerror (-r));
      return FALSE;
    }
  if (S_ISBLK (st.st_mode) && !keep_block_fd)
    close (TAKE_FD (fd));
  ret->fd = TAKE_FD (fd);
  ret->io_path = g_steal_pointer (&io);
  ret->display = g_strdup (path);
  return TRUE;
}

ImprintTargetLock *
imprintd_lock_caller_file (ImprintdCallerFile *f, ImprintTargetLockFlags flags, GError **error)
{
  _cleanup_close_ int fd = -1;
  char proc[64];

  /* A disk by its /dev node (root's /dev: the name cannot be swapped by
   * a user); opened O_EXCL by the lock with _DEVICE. */
  if (f->fd < 0)
    return imprintd_lock_target (f->io_path, flags, error);

  /* An image file (or a disk whose fd was kept) through a new open file
   * description of the caller's fd, so that suspending the lock (while
   * systemd-repart takes its own) really lets go of the flock. */
  g_snprintf (proc, sizeof proc, "/proc/self/fd/%d", f->fd);
  fd = open (proc, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (-e),
                   _("Cannot open “%s”: %s"), f->display, g_strerror (e));
      return NULL;
    }
  return imprint_target_lock_acquire_fd (TAKE_FD (fd), f->display, flags, error);
}

char *
imprintd_read_caller_text (ImprintdMethodCall *call, const char *path, gsize max, GError **error)
{
  _cleanup_close_ int fd = -1;
  g_autofree char *text = NULL;
  int r;

  fd = imprintd_open_as_caller (call, path, O_RDONLY, SAFE_TYPE_REG, FALSE, error);
  if (fd < 0)
    return NULL;
  r = safe_read_fd (fd, max, &text, NULL);
  if (r == -EFBIG)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is too large (more than %zu KiB)."), path, max / 1024);
      return NULL;
    }
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Cannot read “%s”: %s"), path, g_strerror (-r));
      return NULL;
    }
  return g_steal_pointer (&text);
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
