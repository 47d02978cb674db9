/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "imprint-dbus-generated.h"
#include "imprint-names.h"

G_BEGIN_DECLS

/* The app's connection to imprintd: the generated ImprintManager proxy,
 * one typed call per method the app uses, and the one job it follows.
 *
 * Every call connects first when needed (imprintd is started on demand)
 * and adds the language the person reads as the options' "locale", so
 * imprintd words its reasons, steps and errors in it. Errors come back
 * without the D-Bus remote prefix, as IMPRINT_ERROR codes.
 *
 * A method that answers with a Job (Install, ApplySetup, Update) is
 * started through an ImprintJobWatch (imprint-job-watch.h): it listens
 * before the call, so a fast job cannot finish unseen, and a vanished
 * imprintd fails the job. Its events come out as the client's "job-log",
 * "job-request" and "job-completed" signals and in its log. */
#define IMPRINT_TYPE_CLIENT (imprint_client_get_type ())
G_DECLARE_FINAL_TYPE (ImprintClient, imprint_client, IMPRINT, CLIENT, GObject)

ImprintClient  *imprint_client_new                  (void);

const char     *imprint_client_get_language         (ImprintClient        *self);
void            imprint_client_set_language         (ImprintClient        *self,
                                                     const char           *locale);

void            imprint_client_connect_async        (ImprintClient        *self,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
ImprintManager *imprint_client_connect_finish       (ImprintClient        *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);
/* NULL until the first call connected. */
ImprintManager *imprint_client_get_manager          (ImprintClient        *self);

/* ---- typed calls (imprint-client-calls.c); @options may be NULL ---- */

void            imprint_client_list_disks_async     (ImprintClient        *self,
                                                     GVariant             *options,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean        imprint_client_list_disks_finish    (ImprintClient        *self,
                                                     GAsyncResult         *result,
                                                     GVariant            **ret_disks,
                                                     GError              **error);
void            imprint_client_get_security_capabilities_async  (ImprintClient        *self,
                                                                 GVariant             *options,
                                                                 GCancellable         *cancellable,
                                                                 GAsyncReadyCallback   callback,
                                                                 gpointer              user_data);
gboolean        imprint_client_get_security_capabilities_finish (ImprintClient        *self,
                                                                 GAsyncResult         *result,
                                                                 GVariant            **ret_capabilities,
                                                                 GError              **error);
void            imprint_client_check_passphrase_async  (ImprintClient        *self,
                                                        const char           *passphrase,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
gboolean        imprint_client_check_passphrase_finish (ImprintClient        *self,
                                                        GAsyncResult         *result,
                                                        int                  *ret_score,
                                                        char                **ret_message,
                                                        GError              **error);
void            imprint_client_plan_install_async   (ImprintClient        *self,
                                                     const char           *source,
                                                     const char           *target,
                                                     GVariant             *options,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean        imprint_client_plan_install_finish  (ImprintClient        *self,
                                                     GAsyncResult         *result,
                                                     GVariant            **ret_plan,
                                                     GError              **error);
void            imprint_client_generate_recovery_key_async  (ImprintClient        *self,
                                                             GCancellable         *cancellable,
                                                             GAsyncReadyCallback   callback,
                                                             gpointer              user_data);
gboolean        imprint_client_generate_recovery_key_finish (ImprintClient        *self,
                                                             GAsyncResult         *result,
                                                             char                **ret_key,
                                                             GError              **error);
void            imprint_client_get_setup_defaults_async  (ImprintClient        *self,
                                                          const char           *target,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
gboolean        imprint_client_get_setup_defaults_finish (ImprintClient        *self,
                                                          GAsyncResult         *result,
                                                          GVariant            **ret_defaults,
                                                          GError              **error);
/* A settings panel's calls: @ret_reply (may be NULL) is the one a{sv} or
 * aa{sv} answer, or NULL for methods without one. */
void            imprint_client_get_update_status_async       (ImprintClient        *self,
                                                              GCancellable         *cancellable,
                                                              GAsyncReadyCallback   callback,
                                                              gpointer              user_data);
void            imprint_client_check_for_updates_async       (ImprintClient        *self,
                                                              GCancellable         *cancellable,
                                                              GAsyncReadyCallback   callback,
                                                              gpointer              user_data);
void            imprint_client_set_automatic_updates_async   (ImprintClient        *self,
                                                              gboolean              enabled,
                                                              GCancellable         *cancellable,
                                                              GAsyncReadyCallback   callback,
                                                              gpointer              user_data);
void            imprint_client_get_factory_reset_info_async  (ImprintClient        *self,
                                                              GCancellable         *cancellable,
                                                              GAsyncReadyCallback   callback,
                                                              gpointer              user_data);
void            imprint_client_request_factory_reset_async   (ImprintClient        *self,
                                                              GVariant             *options,
                                                              GCancellable         *cancellable,
                                                              GAsyncReadyCallback   callback,
                                                              gpointer              user_data);
void            imprint_client_cancel_factory_reset_async    (ImprintClient        *self,
                                                              GCancellable         *cancellable,
                                                              GAsyncReadyCallback   callback,
                                                              gpointer              user_data);
/* GetUnlockStatus: did the disk need its recovery key at this start. */
void            imprint_client_get_unlock_status_async       (ImprintClient        *self,
                                                              GCancellable         *cancellable,
                                                              GAsyncReadyCallback   callback,
                                                              gpointer              user_data);
gboolean        imprint_client_panel_call_finish             (ImprintClient        *self,
                                                              GAsyncResult         *result,
                                                              GVariant            **ret_reply,
                                                              GError              **error);

/* ---- the job (imprint-client-job.c) ---- */

/* The methods that start a Job; each finishes with
 * imprint_client_job_finish(). */
void            imprint_client_install_async        (ImprintClient        *self,
                                                     const char           *source,
                                                     const char           *target,
                                                     GVariant             *options,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
void            imprint_client_apply_setup_async    (ImprintClient        *self,
                                                     const char           *target,
                                                     GVariant             *settings,
                                                     GVariant             *options,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
void            imprint_client_update_async         (ImprintClient        *self,
                                                     const char           *version,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
/* Enroll (@options with the secrets as imprint_request_secret_variant_new()). */
void            imprint_client_enroll_async         (ImprintClient        *self,
                                                     const char           *device,
                                                     const char           *method,
                                                     GVariant             *options,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer             user_data);
ImprintJob     *imprint_client_job_finish           (ImprintClient        *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

ImprintJob     *imprint_client_get_job              (ImprintClient        *self);
gboolean        imprint_client_get_job_finished     (ImprintClient        *self);
gboolean        imprint_client_get_job_succeeded    (ImprintClient        *self);
const GError   *imprint_client_get_job_error        (ImprintClient        *self);
GVariant       *imprint_client_dup_job_result       (ImprintClient        *self);
/* Forgets a finished job, so setup can follow an installation, or a
 * failed setup can be retried. */
void            imprint_client_reset_job            (ImprintClient        *self);
const char     *imprint_client_get_log              (ImprintClient        *self);
void            imprint_client_append_log           (ImprintClient        *self,
                                                     const char           *line);

G_END_DECLS
