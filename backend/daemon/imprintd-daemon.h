/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "imprintd-job.h"
#include "imprint-names.h"

G_BEGIN_DECLS

/* The bus name and object paths: backend/shared/imprint-names.h. */

#define IMPRINTD_TYPE_DAEMON (imprintd_daemon_get_type ())
G_DECLARE_FINAL_TYPE (ImprintdDaemon, imprintd_daemon, IMPRINTD, DAEMON, GObject)

ImprintdDaemon *imprintd_daemon_new        (GDBusConnection *connection,
                                            guint            idle_timeout_seconds);
/* Exports the objects. Emits "idle-timeout" when nothing happened for the
 * idle timeout and no job runs (0 = never). */
gboolean        imprintd_daemon_start      (ImprintdDaemon  *self,
                                            GError         **error);
GDBusConnection *imprintd_daemon_get_connection (ImprintdDaemon *self);
GMainContext   *imprintd_daemon_get_context (ImprintdDaemon *self);

/* Exports @job under /dev/imprint/Imprint1/job/N, keeps the daemon alive
 * and holds a logind inhibitor while it runs. Returns the object path. */
const char     *imprintd_daemon_add_job    (ImprintdDaemon  *self,
                                            ImprintdJob     *job);
/* Activity: a method call arrived / was answered. */
void            imprintd_daemon_hold       (ImprintdDaemon  *self);
void            imprintd_daemon_release    (ImprintdDaemon  *self);

/* Stops the daemon (SIGTERM): refuses new calls, cancels every running job
 * and emits "stopped" once all jobs have finished their cleanup and no
 * call is in flight, or after @timeout_seconds (0: no deadline). */
void            imprintd_daemon_stop       (ImprintdDaemon  *self,
                                            guint            timeout_seconds);
gboolean        imprintd_daemon_is_stopping (ImprintdDaemon *self);
/* Cancelled when the daemon starts stopping: for calls waiting on others. */
GCancellable   *imprintd_daemon_get_stop_cancellable (ImprintdDaemon *self);

/* Set up by imprintd-manager.c. */
void            imprintd_manager_export    (ImprintdDaemon            *self,
                                            GDBusObjectManagerServer  *server);

G_END_DECLS
