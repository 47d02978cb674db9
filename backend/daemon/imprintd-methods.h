/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libcryptsetup.h>

#include "imprint-error.h"
#include "imprint-fido2.h"
#include "imprintd-daemon.h"

G_BEGIN_DECLS

typedef struct {
  ImprintdDaemon *daemon;
  GDBusMethodInvocation *invocation;
  GVariant *parameters;   /* the whole in-argument tuple */
  GVariant *options;      /* its last member, a{sv} */
  guint32 uid;            /* the caller, already authorised */
} ImprintdMethodCall;

/* Returns the out-argument tuple (floating is fine) or NULL with @error. */
typedef GVariant *(*ImprintdMethodFunc) (ImprintdMethodCall *call, GError **error);

typedef struct {
  const char *name;          /* D-Bus method name */
  const char *action;        /* polkit action id, NULL: nothing to guard */
  gboolean main_thread;      /* run in the main loop (quick, or starts a job) */
  ImprintdMethodFunc func;
} ImprintdMethod;

const ImprintdMethod *imprintd_methods_lookup (const char *name);

/* polkit details for a call of @method with @parameters (its in-arguments):
 * "device", "drive" and, for verbs that change a disk, a "polkit.message"
 * naming it (imprintd-polkit-details.c). NULL when there are none. */
GHashTable *imprintd_polkit_details (const char *method, GVariant *parameters);

/* Helpers for the method implementations. */
gboolean imprintd_check_file_access (const char *path, guint32 uid, GError **error);

/* The implementations, one file per topic. */
GVariant *imprintd_method_list_disks (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_get_security_capabilities (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_check_passphrase (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_generate_recovery_key (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_inspect_source (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_plan_install (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_install (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_get_update_status (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_check_for_updates (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_update (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_set_automatic_updates (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_get_factory_reset_info (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_request_factory_reset (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_cancel_factory_reset (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_get_setup_defaults (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_apply_setup (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_list_enrollments (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_enroll (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_unenroll (ImprintdMethodCall *call, GError **error);

/* ImprintFido2PromptFunc for a job (userdata: the ImprintdJob): a PIN is
 * asked through the job's Request signal, a touch is shown in its log. */
int imprintd_fido2_prompt (ImprintFido2Prompt kind, const char *message, char **ret_answer, void *userdata);

/* Enrolls a FIDO2 key for cd (PIN and touch through the job): the
 * "systemd-fido2" token without "keyslots" and the keyslot passphrase
 * (malloc()ed; wipe it). Used by Install and Enroll. */
int imprintd_fido2_luks_token (ImprintdJob *job, const char *fido2_device, struct crypt_device *cd,
                               ImprintFido2LockFlags lock_with,
                               JsonObject **ret_token, char **ret_passphrase);

/* Sentences and error codes for negative errno from the crypt/FIDO2 code. */
const char  *imprintd_crypt_strerror   (int r);
ImprintError imprintd_crypt_error_code (int r);

G_END_DECLS
