/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-dbus-generated.h"
#include "imprint-report.h"

G_BEGIN_DECLS

#define IMPRINTD_TYPE_JOB (imprintd_job_get_type ())
G_DECLARE_FINAL_TYPE (ImprintdJob, imprintd_job, IMPRINTD, JOB, ImprintJobSkeleton)

/* The work of a job. It runs in a worker thread and may only touch the job
 * through the thread-safe imprintd_job_*() calls below. Return FALSE with
 * @error set on failure; cancellation shows up in @cancellable. */
typedef gboolean (*ImprintdJobFunc) (ImprintdJob  *job,
                                     GCancellable *cancellable,
                                     gpointer      user_data,
                                     GError      **error);

ImprintdJob *imprintd_job_new          (const char     *operation,
                                        guint32         started_by_uid,
                                        gboolean        cancelable);
void         imprintd_job_run          (ImprintdJob    *job,
                                        ImprintdJobFunc func,
                                        gpointer        user_data,
                                        GDestroyNotify  user_data_free);
gboolean     imprintd_job_is_finished  (ImprintdJob    *job);
GCancellable *imprintd_job_get_cancellable (ImprintdJob *job);

/* Thread-safe; coalesced into property changes at most a few times a
 * second, so a tight copy loop may call them for every block. Progress is
 * bytes done / total unless set_progress() gives it explicitly; it never
 * goes backwards. */
void imprintd_job_set_step     (ImprintdJob *job, const char *step);
void imprintd_job_set_bytes    (ImprintdJob *job, guint64 done, guint64 total);
void imprintd_job_set_progress (ImprintdJob *job, double fraction);
void imprintd_job_log          (ImprintdJob *job, const char *format, ...) G_GNUC_PRINTF (2, 3);
void imprintd_job_set_result   (ImprintdJob *job, GVariant *result);
/* The job as a backend operation's ImprintReport: step, progress and log
 * lines go to the calls above. Valid while the job runs. */
void imprintd_job_report       (ImprintdJob *job, ImprintReport *ret);

/* Asks the person behind the job (Request signal) and waits in the worker
 * thread for Answer(). Returns FALSE when the job is cancelled or the
 * answer was "cancel". The answer is a secret: free it with
 * imprintd_job_free_answer(). */
gboolean imprintd_job_request     (ImprintdJob *job,
                                   const char  *kind,
                                   const char  *message,
                                   char       **ret_answer,
                                   GError     **error);
void     imprintd_job_free_answer (char *answer);

G_END_DECLS
