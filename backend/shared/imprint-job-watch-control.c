/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Acting on a followed job: Cancel and Answer, sent to the daemon that
 * runs it (its unique name, so a restarted imprintd never gets them). */

#include "config.h"

#include <glib/gi18n.h>

#include "imprint-error.h"
#include "imprint-job-watch.h"
#include "imprint-job-watch-private.h"
#include "imprint-request.h"

static void
cancel_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      imprint_error_strip_remote (error);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

void
imprint_job_watch_cancel_async (ImprintJobWatch     *self,
                                int                  timeout_msec,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (IMPRINT_IS_JOB_WATCH (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imprint_job_watch_cancel_async);

  if (self->vanished)
    {
      g_task_return_error (task, g_error_copy (self->error));
      return;
    }
  if (self->owner == NULL || self->path == NULL || self->finished)
    {
      g_task_return_new_error (task, IMPRINT_ERROR, IMPRINT_ERROR_NOT_FOUND,
                               _("There is no running job to cancel."));
      return;
    }

  g_dbus_connection_call (self->bus, self->owner, self->path, IMPRINT_JOB_INTERFACE, "Cancel",
                          g_variant_new ("(a{sv})", NULL), G_VARIANT_TYPE_UNIT,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, timeout_msec, cancellable,
                          cancel_cb, g_steal_pointer (&task));
}

gboolean
imprint_job_watch_cancel_finish (ImprintJobWatch  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
imprint_job_watch_answer (ImprintJobWatch *self,
                          const char      *id,
                          const char      *value,
                          gboolean         refuse)
{
  GVariantBuilder options;

  g_return_if_fail (IMPRINT_IS_JOB_WATCH (self));
  if (self->owner == NULL || self->path == NULL || self->finished)
    return;

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  if (refuse)
    g_variant_builder_add (&options, "{sv}", "cancel", g_variant_new_boolean (TRUE));
  /* A person's answer: no reply to wait for, a dead daemon ends the job
   * through the name watch. */
  g_dbus_connection_call (self->bus, self->owner, self->path, IMPRINT_JOB_INTERFACE, "Answer",
                          g_variant_new ("(s@sa{sv})", id, imprint_request_secret_variant_new (value),
                                         &options), NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
}
