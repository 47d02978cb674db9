/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <sys/stat.h>

#include "imprint-error.h"
#include "imprint-fido2.h"
#include "imprintd-methods.h"

#define ACTION_LIST_DISKS    "dev.imprint.Imprint1.list-disks"
#define ACTION_INSTALL       "dev.imprint.Imprint1.install"
#define ACTION_ENROLL        "dev.imprint.Imprint1.enroll"
#define ACTION_CREATE_USER   "dev.imprint.Imprint1.create-user"
#define ACTION_UPDATE        "dev.imprint.Imprint1.update"
#define ACTION_FACTORY_RESET "dev.imprint.Imprint1.factory-reset"
#define ACTION_LIST_ENROLLMENTS "dev.imprint.Imprint1.list-enrollments"
#define ACTION_UNENROLL      "dev.imprint.Imprint1.unenroll"

/* The one table of what imprintd does and which polkit action guards it. */
static const ImprintdMethod methods[] = {
  { "ListDisks",               ACTION_LIST_DISKS, FALSE, imprintd_method_list_disks },
  { "GetSecurityCapabilities", ACTION_LIST_DISKS, FALSE, imprintd_method_get_security_capabilities },
  { "CheckPassphrase",         NULL,              FALSE, imprintd_method_check_passphrase },
  { "GenerateRecoveryKey",     NULL,              FALSE, imprintd_method_generate_recovery_key },
  { "InspectSource",           ACTION_LIST_DISKS, FALSE, imprintd_method_inspect_source },
  { "PlanInstall",             ACTION_LIST_DISKS, FALSE, imprintd_method_plan_install },
  { "Install",                 ACTION_INSTALL,    TRUE,  imprintd_method_install },
  { "GetUpdateStatus",         ACTION_LIST_DISKS, FALSE, imprintd_method_get_update_status },
  { "CheckForUpdates",         ACTION_LIST_DISKS, FALSE, imprintd_method_check_for_updates },
  { "Update",                  ACTION_UPDATE,     TRUE,  imprintd_method_update },
  { "SetAutomaticUpdates",     ACTION_UPDATE,     FALSE, imprintd_method_set_automatic_updates },
  { "GetFactoryResetInfo",     ACTION_LIST_DISKS, FALSE, imprintd_method_get_factory_reset_info },
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
  /* The FIDO2 library wipes and free()s what it is given. */
  *ret_answer = strdup (answer);
  imprintd_job_free_answer (answer);
  return *ret_answer != NULL ? 0 : -ENOMEM;
}
