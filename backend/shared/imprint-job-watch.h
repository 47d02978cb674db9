/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "imprint-dbus-generated.h"

G_BEGIN_DECLS

/* Follows one imprintd Job for a client (imprintctl, the app).
 *
 * Create the watch BEFORE calling the method that starts the job: it
 * subscribes to the job signals and to the daemon's name at once, so a job
 * that fails or finishes before its path is known is not missed (its events
 * are buffered and replayed by imprint_job_watch_follow_async()), and a
 * daemon that dies at any point ends the job with an error instead of
 * leaving the client waiting for a Completed that never comes.
 *
 * Signals:
 *   "progress" (GVariant *changed): an a{sv} of Job properties, all of
 *       them once when the job is first seen, then those that changed.
 *   "log" (const char *line), "request" (id, kind, message): as the Job's.
 *   "completed": emitted once; see get_succeeded(), get_error(),
 *       get_result(). Also when imprintd vanished (IMPRINT_ERROR_FAILED
 *       with a message that says what state the job left behind). */
#define IMPRINT_TYPE_JOB_WATCH (imprint_job_watch_get_type ())
G_DECLARE_FINAL_TYPE (ImprintJobWatch, imprint_job_watch, IMPRINT, JOB_WATCH, GObject)

ImprintJobWatch *imprint_job_watch_new            (GDBusConnection      *bus,
                                                   const char           *bus_name);
/* Once the method answered with @job_path. Completes when the job's proxy
 * is ready (it may have finished already: see get_finished()); the
 * buffered events are replayed right after. */
void             imprint_job_watch_follow_async   (ImprintJobWatch      *self,
                                                   const char           *job_path,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
ImprintJob      *imprint_job_watch_follow_finish  (ImprintJobWatch      *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

ImprintJob      *imprint_job_watch_get_job        (ImprintJobWatch      *self);
const char      *imprint_job_watch_get_path       (ImprintJobWatch      *self);
gboolean         imprint_job_watch_get_finished   (ImprintJobWatch      *self);
gboolean         imprint_job_watch_get_succeeded  (ImprintJobWatch      *self);
gboolean         imprint_job_watch_get_vanished   (ImprintJobWatch      *self);
const GError    *imprint_job_watch_get_error      (ImprintJobWatch      *self);
GVariant        *imprint_job_watch_dup_result     (ImprintJobWatch      *self);

/* Asks the job's daemon (by its unique name: a dead daemon is never
 * started again for this) to cancel, waiting at most @timeout_msec for the
 * answer. Fails at once when the daemon is gone. */
void             imprint_job_watch_cancel_async   (ImprintJobWatch      *self,
                                                   int                   timeout_msec,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean         imprint_job_watch_cancel_finish  (ImprintJobWatch      *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);
/* Answers a Request (@value "" to acknowledge; @refuse to cancel it). */
void             imprint_job_watch_answer         (ImprintJobWatch      *self,
                                                   const char           *id,
                                                   const char           *value,
                                                   gboolean              refuse);

G_END_DECLS
