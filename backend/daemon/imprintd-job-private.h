/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Between imprintd-job.c (the job's state) and imprintd-job-steer.c (its
 * Cancel and Answer methods). */

#include "imprintd-job.h"

G_BEGIN_DECLS

/* Hands @answer (taken on success) to the Request @id the worker waits
 * for. FALSE when no such question is waiting. */
gboolean imprintd_job_deliver_answer (ImprintdJob *self, const char *id, char **answer, gboolean refuse);

/* "handle-cancel" and "handle-answer" of the Job skeleton. */
gboolean imprintd_job_handle_cancel (ImprintJob *object, GDBusMethodInvocation *invocation, GVariant *options);
gboolean imprintd_job_handle_answer (ImprintJob *object, GDBusMethodInvocation *invocation, const char *id,
                                     const char *value, GVariant *options);

G_END_DECLS
