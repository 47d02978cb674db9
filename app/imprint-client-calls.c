/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "imprint-client-private.h"
#include "imprint-request.h"
#include "imprint-util.h"

/* Each method the app calls: started and read through the generated
 * ImprintManager proxy functions (the XML contract's signatures), then
 * wrapped as imprint_client_*_async() / _finish(). */

/* ---- methods answering one a{sv} or aa{sv} ----------------------------- */

#define OPTIONS_ONLY_METHOD(name)                                           \
  static void                                                               \
  start_##name (ImprintManager *m, ImprintCallArgs *a, GCancellable *c,     \
                GAsyncReadyCallback cb, gpointer d)                         \
  {                                                                         \
    imprint_manager_call_##name (m, a->options, c, cb, d);                  \
  }

#define VALUE_REPLY(name)                                                   \
  static gboolean                                                           \
  finish_##name (ImprintManager *m, GAsyncResult *r, ImprintCallReply *out, \
                 GError **error)                                            \
  {                                                                         \
    return imprint_manager_call_##name##_finish (m, &out->value, r, error); \
  }

#define NO_REPLY(name)                                                      \
  static gboolean                                                           \
  finish_##name (ImprintManager *m, GAsyncResult *r, ImprintCallReply *out, \
                 GError **error)                                            \
  {                                                                         \
    return imprint_manager_call_##name##_finish (m, r, error);              \
  }

#define METHOD(name) \
  static const ImprintMethod method_##name = { start_##name, finish_##name }

OPTIONS_ONLY_METHOD (list_disks)
VALUE_REPLY (list_disks)
METHOD (list_disks);

OPTIONS_ONLY_METHOD (get_security_capabilities)
VALUE_REPLY (get_security_capabilities)
METHOD (get_security_capabilities);

OPTIONS_ONLY_METHOD (get_update_status)
VALUE_REPLY (get_update_status)
METHOD (get_update_status);

OPTIONS_ONLY_METHOD (check_for_updates)
VALUE_REPLY (check_for_updates)
METHOD (check_for_updates);

OPTIONS_ONLY_METHOD (get_factory_reset_info)
VALUE_REPLY (get_factory_reset_info)
METHOD (get_factory_reset_info);

OPTIONS_ONLY_METHOD (request_factory_reset)
NO_REPLY (request_factory_reset)
METHOD (request_factory_reset);

OPTIONS_ONLY_METHOD (cancel_factory_reset)
NO_REPLY (cancel_factory_reset)
METHOD (cancel_factory_reset);

OPTIONS_ONLY_METHOD (get_unlock_status)
VALUE_REPLY (get_unlock_status)
METHOD (get_unlock_status);

static void
start_plan_install (ImprintManager *m, ImprintCallArgs *a, GCancellable *c,
                    GAsyncReadyCallback cb, gpointer d)
{
  imprint_manager_call_plan_install (m, a->s1, a->s2, a->options, c, cb, d);
}
VALUE_REPLY (plan_install)
METHOD (plan_install);

static void
start_get_setup_defaults (ImprintManager *m, ImprintCallArgs *a, GCancellable *c,
                          GAsyncReadyCallback cb, gpointer d)
{
  imprint_manager_call_get_setup_defaults (m, a->s1, a->options, c, cb, d);
}
VALUE_REPLY (get_setup_defaults)
METHOD (get_setup_defaults);

static void
start_set_automatic_updates (ImprintManager *m, ImprintCallArgs *a, GCancellable *c,
                             GAsyncReadyCallback cb, gpointer d)
{
  imprint_manager_call_set_automatic_updates (m, a->b, a->options, c, cb, d);
}
NO_REPLY (set_automatic_updates)
METHOD (set_automatic_updates);

/* ---- methods answering a string ------------------------------------------ */

OPTIONS_ONLY_METHOD (generate_recovery_key)
/* Not the generated finish: the reply holds the key too, and is wiped
 * here before it goes away. */
static gboolean
finish_generate_recovery_key (ImprintManager *m, GAsyncResult *r, ImprintCallReply *out,
                              GError **error)
{
  g_autoptr(GVariant) reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (m), r, error);
  const char *key;

  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(&s)", &key);
  out->text = g_strdup (key);
  explicit_bzero ((char *) key, strlen (key));
  return TRUE;
}
METHOD (generate_recovery_key);

/* The passphrase travels in a GVariant that is wiped when freed; the
 * generated call would copy it into an ordinary one. The proxy still
 * checks the call against the interface description. */
static void
start_check_passphrase (ImprintManager *m, ImprintCallArgs *a, GCancellable *c,
                        GAsyncReadyCallback cb, gpointer d)
{
  g_dbus_proxy_call (G_DBUS_PROXY (m), "CheckPassphrase",
                     g_variant_new ("(@s@a{sv})", imprint_request_secret_variant_new (a->s1), a->options),
                     G_DBUS_CALL_FLAGS_NONE, -1, c, cb, d);
}
static gboolean
finish_check_passphrase (ImprintManager *m, GAsyncResult *r, ImprintCallReply *out,
                         GError **error)
{
  return imprint_manager_call_check_passphrase_finish (m, &out->number, &out->text, r, error);
}
METHOD (check_passphrase);

/* ---- the public calls ----------------------------------------------------- */

static gboolean
finish_value (ImprintClient  *self,
              GAsyncResult   *result,
              GVariant      **ret_value,
              GError        **error)
{
  ImprintCallReply reply = { 0 };

  if (!imprint_client_call_finish (self, result, &reply, error))
    return FALSE;
  g_free (reply.text);
  if (ret_value != NULL)
    *ret_value = reply.value;
  else
    g_clear_pointer (&reply.value, g_variant_unref);
  return TRUE;
}

/* The caller frees *@ret_text (imprint_wipe_free() for a key). */
static gboolean
finish_text (ImprintClient  *self,
             GAsyncResult   *result,
             int            *ret_number,
             char          **ret_text,
             GError        **error)
{
  ImprintCallReply reply = { 0 };

  if (!imprint_client_call_finish (self, result, &reply, error))
    return FALSE;
  g_clear_pointer (&reply.value, g_variant_unref);
  if (ret_number != NULL)
    *ret_number = reply.number;
  *ret_text = reply.text;
  return TRUE;
}

static void
call_options (ImprintClient       *self,
              const ImprintMethod *method,
              GVariant            *options,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  g_return_if_fail (IMPRINT_IS_CLIENT (self));
  imprint_client_call (self, method, imprint_call_args_new (NULL, NULL, options),
                       cancellable, callback, user_data);
}

void
imprint_client_list_disks_async (ImprintClient       *self,
                                 GVariant            *options,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  call_options (self, &method_list_disks, options, cancellable, callback, user_data);
}

gboolean
imprint_client_list_disks_finish (ImprintClient  *self,
                                  GAsyncResult   *result,
                                  GVariant      **ret_disks,
                                  GError        **error)
{
  return finish_value (self, result, ret_disks, error);
}

void
imprint_client_get_security_capabilities_async (ImprintClient       *self,
                                                GVariant            *options,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data)
{
  call_options (self, &method_get_security_capabilities, options, cancellable, callback, user_data);
}

gboolean
imprint_client_get_security_capabilities_finish (ImprintClient  *self,
                                                 GAsyncResult   *result,
                                                 GVariant      **ret_capabilities,
                                                 GError        **error)
{
  return finish_value (self, result, ret_capabilities, error);
}

void
imprint_client_check_passphrase_async (ImprintClient       *self,
                                       const char          *passphrase,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_return_if_fail (IMPRINT_IS_CLIENT (self));
  imprint_client_call (self, &method_check_passphrase, imprint_call_args_new (passphrase, NULL, NULL),
                       cancellable, callback, user_data);
}

gboolean
imprint_client_check_passphrase_finish (ImprintClient  *self,
                                        GAsyncResult   *result,
                                        int            *ret_score,
                                        char          **ret_message,
                                        GError        **error)
{
  return finish_text (self, result, ret_score, ret_message, error);
}

void
imprint_client_plan_install_async (ImprintClient       *self,
                                   const char          *source,
                                   const char          *target,
                                   GVariant            *options,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (IMPRINT_IS_CLIENT (self));
  imprint_client_call (self, &method_plan_install, imprint_call_args_new (source, target, options),
                       cancellable, callback, user_data);
}

gboolean
imprint_client_plan_install_finish (ImprintClient  *self,
                                    GAsyncResult   *result,
                                    GVariant      **ret_plan,
                                    GError        **error)
{
  return finish_value (self, result, ret_plan, error);
}

void
imprint_client_generate_recovery_key_async (ImprintClient       *self,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  call_options (self, &method_generate_recovery_key, NULL, cancellable, callback, user_data);
}

/* @ret_key: free with imprint_wipe_free(). */
gboolean
imprint_client_generate_recovery_key_finish (ImprintClient  *self,
                                             GAsyncResult   *result,
                                             char          **ret_key,
                                             GError        **error)
{
  return finish_text (self, result, NULL, ret_key, error);
}

void
imprint_client_get_setup_defaults_async (ImprintClient       *self,
                                         const char          *target,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_return_if_fail (IMPRINT_IS_CLIENT (self));
  imprint_client_call (self, &method_get_setup_defaults, imprint_call_args_new (target, NULL, NULL),
                       cancellable, callback, user_data);
}

gboolean
imprint_client_get_setup_defaults_finish (ImprintClient  *self,
                                          GAsyncResult   *result,
                                          GVariant      **ret_defaults,
                                          GError        **error)
{
  return finish_value (self, result, ret_defaults, error);
}

/* ---- the settings panels' calls -------------------------------------------- */

void
imprint_client_get_update_status_async (ImprintClient       *self,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  call_options (self, &method_get_update_status, NULL, cancellable, callback, user_data);
}

void
imprint_client_check_for_updates_async (ImprintClient       *self,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  call_options (self, &method_check_for_updates, NULL, cancellable, callback, user_data);
}

void
imprint_client_set_automatic_updates_async (ImprintClient       *self,
                                            gboolean             enabled,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  ImprintCallArgs *args = imprint_call_args_new (NULL, NULL, NULL);

  g_return_if_fail (IMPRINT_IS_CLIENT (self));
  args->b = !!enabled;
  imprint_client_call (self, &method_set_automatic_updates, args, cancellable, callback, user_data);
}

void
imprint_client_get_factory_reset_info_async (ImprintClient       *self,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data)
{
  call_options (self, &method_get_factory_reset_info, NULL, cancellable, callback, user_data);
}

void
imprint_client_request_factory_reset_async (ImprintClient       *self,
                                            GVariant            *options,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  call_options (self, &method_request_factory_reset, options, cancellable, callback, user_data);
}

void
imprint_client_cancel_factory_reset_async (ImprintClient       *self,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data)
{
  call_options (self, &method_cancel_factory_reset, NULL, cancellable, callback, user_data);
}

void
imprint_client_get_unlock_status_async (ImprintClient       *self,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  call_options (self, &method_get_unlock_status, NULL, cancellable, callback, user_data);
}

gboolean
imprint_client_panel_call_finish (ImprintClient  *self,
                                  GAsyncResult   *result,
                                  GVariant      **ret_reply,
                                  GError        **error)
{
  return finish_value (self, result, ret_reply, error);
}

/* ---- the methods that start a job ------------------------------------------ */

static void
start_install (ImprintManager *m, ImprintCallArgs *a, GCancellable *c,
               GAsyncReadyCallback cb, gpointer d)
{
  imprint_manager_call_install (m, a->s1, a->s2, a->options, c, cb, d);
}
static gboolean
finish_install (ImprintManager *m, GAsyncResult *r, ImprintCallReply *out, GError **error)
{
  return imprint_manager_call_install_finish (m, &out->text, r, error);
}
METHOD (install);

static void
start_apply_setup (ImprintManager *m, ImprintCallArgs *a, GCancellable *c,
                   GAsyncReadyCallback cb, gpointer d)
{
  imprint_manager_call_apply_setup (m, a->s1, a->settings, a->options, c, cb, d);
}
static gboolean
finish_apply_setup (ImprintManager *m, GAsyncResult *r, ImprintCallReply *out, GError **error)
{
  return imprint_manager_call_apply_setup_finish (m, &out->text, r, error);
}
METHOD (apply_setup);

static void
start_update (ImprintManager *m, ImprintCallArgs *a, GCancellable *c,
              GAsyncReadyCallback cb, gpointer d)
{
  imprint_manager_call_update (m, a->s1, a->options, c, cb, d);
}
static gboolean
finish_update (ImprintManager *m, GAsyncResult *r, ImprintCallReply *out, GError **error)
{
  return imprint_manager_call_update_finish (m, &out->text, r, error);
}
METHOD (update);

static void
start_enroll (ImprintManager *m, ImprintCallArgs *a, GCancellable *c,
              GAsyncReadyCallback cb, gpointer d)
{
  imprint_manager_call_enroll (m, a->s1, a->s2, a->options, c, cb, d);
}
static gboolean
finish_enroll (ImprintManager *m, GAsyncResult *r, ImprintCallReply *out, GError **error)
{
  return imprint_manager_call_enroll_finish (m, &out->text, r, error);
}
METHOD (enroll);

void
imprint_client_install_async (ImprintClient       *self,
                              const char          *source,
                              const char          *target,
                              GVariant            *options,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (IMPRINT_IS_CLIENT (self));
  imprint_client_start_job (self, &method_install, imprint_call_args_new (source, target, options),
                            cancellable, callback, user_data);
}

void
imprint_client_apply_setup_async (ImprintClient       *self,
                                  const char          *target,
                                  GVariant            *settings,
                                  GVariant            *options,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  ImprintCallArgs *args = imprint_call_args_new (target, NULL, options);

  g_return_if_fail (IMPRINT_IS_CLIENT (self));
  args->settings = settings;
  imprint_client_start_job (self, &method_apply_setup, args, cancellable, callback, user_data);
}

void
imprint_client_update_async (ImprintClient       *self,
                             const char          *version,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (IMPRINT_IS_CLIENT (self));
  imprint_client_start_job (self, &method_update, imprint_call_args_new (version, NULL, NULL),
                            cancellable, callback, user_data);
}

void
imprint_client_enroll_async (ImprintClient       *self,
                             const char          *device,
                             const char          *method,
                             GVariant            *options,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (IMPRINT_IS_CLIENT (self));
  imprint_client_start_job (self, &method_enroll, imprint_call_args_new (device, method, options),
                            cancellable, callback, user_data);
}
