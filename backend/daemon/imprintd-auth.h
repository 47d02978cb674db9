/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Asks polkit whether the caller of @invocation may do @action_id, without
 * blocking the main loop. Honours "auth.no_user_interaction" in @options.
 * On refusal the error is IMPRINT_ERROR_NOT_AUTHORIZED, or
 * IMPRINT_ERROR_AUTH_DISMISSED when the user dismissed the dialog.
 * @details (string -> string, may be NULL) go to polkit as they are. */
void     imprintd_auth_check_async  (GDBusMethodInvocation *invocation,
                                    const char            *action_id,
                                    GHashTable            *details,
                                    GVariant              *options,
                                    GCancellable          *cancellable,
                                    GAsyncReadyCallback    callback,
                                    gpointer               user_data);
gboolean imprintd_auth_check_finish (GAsyncResult          *result,
                                    GError               **error);

/* The uid behind the sender of @invocation, asked of the bus daemon. */
void     imprintd_auth_get_caller_uid_async  (GDBusMethodInvocation *invocation,
                                             GCancellable          *cancellable,
                                             GAsyncReadyCallback    callback,
                                             gpointer               user_data);
gboolean imprintd_auth_get_caller_uid_finish (GAsyncResult          *result,
                                             guint32               *ret_uid,
                                             GError               **error);

/* Seconds to wait for polkit before giving up (never forever). */
void     imprintd_auth_set_timeouts (guint non_interactive_seconds,
                                    guint interactive_seconds);

G_END_DECLS
