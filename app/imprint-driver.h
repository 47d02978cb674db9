/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "imprint-dbus-generated.h"

G_BEGIN_DECLS

#define IMPRINT_BUS_NAME      "dev.imprint.Imprint1"
#define IMPRINT_MANAGER_PATH  "/dev/imprint/Imprint1/Manager"
#define IMPRINT_JOB_INTERFACE "dev.imprint.Imprint1.Job"

/* The driver holds what the person chose, page by page, and talks to
 * imprintd. Pages read and write their choices here; nothing is written to
 * a disk before imprint_driver_install_async(), the explicit commit at the
 * end of the summary. */
#define IMPRINT_TYPE_DRIVER (imprint_driver_get_type ())
G_DECLARE_FINAL_TYPE (ImprintDriver, imprint_driver, IMPRINT, DRIVER, GObject)

typedef enum {
  IMPRINT_INSTALL_ERASE,
  IMPRINT_INSTALL_FREE_SPACE,
} ImprintInstallMode;

ImprintDriver  *imprint_driver_new                   (void);

/* Connection to imprintd */
void            imprint_driver_connect_async         (ImprintDriver        *self,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
ImprintManager *imprint_driver_connect_finish        (ImprintDriver        *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);
ImprintManager *imprint_driver_get_manager           (ImprintDriver        *self);
void            imprint_driver_call                  (ImprintDriver        *self,
                                                      const char           *method,
                                                      GVariant             *parameters,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
GVariant       *imprint_driver_call_finish           (ImprintDriver        *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);

/* Where from, and extra targets (command line) */
const char     *imprint_driver_get_source            (ImprintDriver        *self);
void            imprint_driver_set_source            (ImprintDriver        *self,
                                                      const char           *source);
void            imprint_driver_set_target_images     (ImprintDriver        *self,
                                                      const char * const   *images);
void            imprint_driver_set_include_loop      (ImprintDriver        *self,
                                                      gboolean              include_loop);
gboolean        imprint_driver_get_include_loop      (ImprintDriver        *self);
void            imprint_driver_set_tpm2_device       (ImprintDriver        *self,
                                                      const char           *device);
void            imprint_driver_set_source_trust      (ImprintDriver        *self,
                                                      const char           *certificate,
                                                      const char           *root_hash);
void            imprint_driver_set_definitions       (ImprintDriver        *self,
                                                      const char           *directory);
GVariant       *imprint_driver_build_list_options    (ImprintDriver        *self);
GVariant       *imprint_driver_build_security_options(ImprintDriver        *self);

/* The person's choices */
const char     *imprint_driver_get_language          (ImprintDriver        *self);
void            imprint_driver_set_language          (ImprintDriver        *self,
                                                      const char           *locale);
GVariant       *imprint_driver_get_target            (ImprintDriver        *self);
const char     *imprint_driver_get_target_device     (ImprintDriver        *self);
void            imprint_driver_set_target            (ImprintDriver        *self,
                                                      GVariant             *disk);
ImprintInstallMode imprint_driver_get_mode           (ImprintDriver        *self);
void            imprint_driver_set_mode              (ImprintDriver        *self,
                                                      ImprintInstallMode    mode);
void            imprint_driver_set_encryption        (ImprintDriver        *self,
                                                      gboolean              tpm2,
                                                      gboolean              fido2,
                                                      const char           *passphrase);
gboolean        imprint_driver_get_use_tpm2          (ImprintDriver        *self);
gboolean        imprint_driver_get_use_fido2         (ImprintDriver        *self);
gboolean        imprint_driver_get_use_passphrase    (ImprintDriver        *self);
const char     *imprint_driver_get_recovery_key      (ImprintDriver        *self);
void            imprint_driver_set_recovery_key      (ImprintDriver        *self,
                                                      const char           *key);
GVariant       *imprint_driver_build_plan_options    (ImprintDriver        *self);
GVariant       *imprint_driver_get_plan              (ImprintDriver        *self);
void            imprint_driver_set_plan              (ImprintDriver        *self,
                                                      GVariant             *plan);

/* The commit, and the job it starts */
void            imprint_driver_install_async         (ImprintDriver        *self,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
ImprintJob     *imprint_driver_install_finish        (ImprintDriver        *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);
/* Any method that answers with a Job (Update, ...), followed the same way */
void            imprint_driver_start_job_async       (ImprintDriver        *self,
                                                      const char           *method,
                                                      GVariant             *parameters,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
ImprintJob     *imprint_driver_start_job_finish      (ImprintDriver        *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);
ImprintJob     *imprint_driver_get_job               (ImprintDriver        *self);
gboolean        imprint_driver_get_job_finished      (ImprintDriver        *self);
gboolean        imprint_driver_get_job_succeeded     (ImprintDriver        *self);
const GError   *imprint_driver_get_job_error         (ImprintDriver        *self);
const char     *imprint_driver_get_log               (ImprintDriver        *self);
void            imprint_driver_append_log            (ImprintDriver        *self,
                                                      const char           *line);

/* First-boot setup. The setup target is NULL in the installer, "" for the
 * running system, or an installed system's root (ApplySetup's target). */
const char     *imprint_driver_get_setup_target      (ImprintDriver        *self);
void            imprint_driver_set_setup_target      (ImprintDriver        *self,
                                                      const char           *target);
gboolean        imprint_driver_get_setup_mode        (ImprintDriver        *self);
GVariant       *imprint_driver_get_setup_defaults    (ImprintDriver        *self);
void            imprint_driver_set_setup_defaults    (ImprintDriver        *self,
                                                      GVariant             *defaults);
gboolean        imprint_driver_setup_decided         (ImprintDriver        *self,
                                                      const char           *key);
gboolean        imprint_driver_get_setup_flag        (ImprintDriver        *self,
                                                      const char           *key);
const char     *imprint_driver_get_setting           (ImprintDriver        *self,
                                                      const char           *key);
void            imprint_driver_set_setting           (ImprintDriver        *self,
                                                      const char           *key,
                                                      const char           *value);
void            imprint_driver_set_user              (ImprintDriver        *self,
                                                      const char           *user_name,
                                                      const char           *real_name,
                                                      const char           *password,
                                                      gboolean              fido2,
                                                      gboolean              auto_login);
const char     *imprint_driver_get_user_name         (ImprintDriver        *self);
const char     *imprint_driver_get_real_name         (ImprintDriver        *self);
gboolean        imprint_driver_get_user_fido2        (ImprintDriver        *self);
gboolean        imprint_driver_get_auto_login        (ImprintDriver        *self);
GVariant       *imprint_driver_build_setup_settings  (ImprintDriver        *self);
void            imprint_driver_reset_job             (ImprintDriver        *self);
void            imprint_driver_apply_setup_async     (ImprintDriver        *self,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
ImprintJob     *imprint_driver_apply_setup_finish    (ImprintDriver        *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);

G_END_DECLS
