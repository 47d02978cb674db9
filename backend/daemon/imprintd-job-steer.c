/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>

#include "imprintd-auth.h"
#include "imprint-error.h"
#include "imprintd-job.h"
#include "imprintd-job-private.h"
#include "imprintd-methods.h"
#include "secret.h"

/* Job.Cancel and Job.Answer. */

/* D-Bus side: only the user who started a job (or root) may steer it. */

typedef struct {
  ImprintdJob *job;
  GDBusMethodInvocation *invocation;
  char *id;
  char *value;
  gboolean refuse;
  gboolean is_cancel;
  gboolean too_long;     /* an answer over IMPRINTD_SECRET_MAX, not kept */
} SteerCall;

static void
steer_call_free (SteerCall *call)
{
  g_object_unref (call->job);
  g_object_unref (call->invocation);
  g_free (call->id);
  imprintd_job_free_answer (call->value);
  g_free (call);
}

static void
on_steer_uid (GObject *source, GAsyncResult *res, gpointer user_data)
{
  SteerCall *call = user_data;
  ImprintdJob *self = call->job;
  g_autoptr(GError) error = NULL;
  guint32 uid;

  if (!imprintd_auth_get_caller_uid_finish (res, &uid, &error))
    {
      g_dbus_method_invocation_return_gerror (call->invocation, error);
      goto out;
    }

  if (uid != 0 && uid != imprint_job_get_started_by_uid (IMPRINT_JOB (self)))
    {
      g_dbus_method_invocation_return_error_literal (call->invocation, IMPRINT_ERROR,
          IMPRINT_ERROR_NOT_AUTHORIZED, _("Only the user who started this job can do this."));
      goto out;
    }

  if (call->too_long)
    {
      /* Checked only now: another user learns nothing from the answer. */
      g_dbus_method_invocation_return_error (call->invocation, IMPRINT_ERROR,
          IMPRINT_ERROR_INVALID_ARGUMENT,
          _("Passphrases, PINs and recovery keys may be at most %u bytes long."),
          (unsigned) IMPRINTD_SECRET_MAX);
      goto out;
    }

  if (call->is_cancel)
    {
      if (!imprint_job_get_cancelable (IMPRINT_JOB (self)))
        {
          g_dbus_method_invocation_return_error_literal (call->invocation, IMPRINT_ERROR,
              IMPRINT_ERROR_BUSY, _("This step cannot be cancelled."));
          goto out;
        }
      g_cancellable_cancel (imprintd_job_get_cancellable (self));
      imprint_job_complete_cancel (IMPRINT_JOB (self), call->invocation);
      goto out;
    }

  if (!imprintd_job_deliver_answer (self, call->id, &call->value, call->refuse))
    {
      g_dbus_method_invocation_return_error_literal (call->invocation, IMPRINT_ERROR,
          IMPRINT_ERROR_NOT_FOUND, _("There is no such question waiting for an answer."));
      goto out;
    }
  imprint_job_complete_answer (IMPRINT_JOB (self), call->invocation);

out:
  steer_call_free (call);
}

gboolean
imprintd_job_handle_cancel (ImprintJob            *object,
               GDBusMethodInvocation *invocation,
               GVariant              *options)
{
  SteerCall *call = g_new0 (SteerCall, 1);

  call->job = g_object_ref (IMPRINTD_JOB (object));
  call->invocation = g_object_ref (invocation);
  call->is_cancel = TRUE;
  imprintd_auth_get_caller_uid_async (invocation, NULL, on_steer_uid, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

gboolean
imprintd_job_handle_answer (ImprintJob            *object,
               GDBusMethodInvocation *invocation,
               const char            *id,
               const char            *value,
               GVariant              *options)
{
  SteerCall *call;

  call = g_new0 (SteerCall, 1);
  call->job = g_object_ref (IMPRINTD_JOB (object));
  call->invocation = g_object_ref (invocation);
  call->id = g_strdup (id);
  /* An oversized answer is refused once the caller is known to own the
   * job (on_steer_uid), and never copied. */
  if (!imprintd_check_secret (value, NULL))
    call->too_long = TRUE;
  else
    call->value = imprint_secret_strdup (value);
  if (call->value == NULL && !call->too_long)
    {
      g_dbus_method_invocation_return_error_literal (invocation, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                                                     g_strerror (ENOMEM));
      steer_call_free (call);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  g_variant_lookup (options, IMPRINT_KEY_CANCEL, "b", &call->refuse);
  imprintd_auth_get_caller_uid_async (invocation, NULL, on_steer_uid, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

