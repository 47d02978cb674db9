/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "imprint-driver.h"
#include "imprint-error.h"
#include "imprint-job-watch.h"
#include "imprint-util.h"

struct _ImprintDriver
{
  GObject             parent_instance;

  ImprintManager     *manager;

  char               *source;
  char              **target_images;
  char               *tpm2_device;
  char               *source_certificate;
  char               *source_root_hash;
  char               *definitions;
  gboolean            include_loop;

  char               *language;
  GVariant           *target;
  ImprintInstallMode  mode;
  gboolean            use_tpm2;
  gboolean            use_fido2;
  char               *passphrase;     /* secret */
  char               *recovery_key;   /* secret */
  GVariant           *plan;

  /* First-boot setup (NULL target: the installer) */
  char               *setup_target;
  char               *target_unlock;  /* secret: opens a "disk:" target's LUKS2 root */
  GVariant           *setup_defaults;
  GHashTable         *settings;       /* locale, keymap, timezone, hostname, pretty-hostname */
  char               *user_name;
  char               *real_name;
  char               *password;       /* secret */
  gboolean            user_fido2;
  gboolean            auto_login;

  /* The job being started or followed (see imprint-job-watch.h: it
   * listens before the method is called, and fails the job when imprintd
   * vanishes). */
  ImprintJobWatch    *job_watch;
  GString            *log;
};

G_DEFINE_FINAL_TYPE (ImprintDriver, imprint_driver, G_TYPE_OBJECT)

enum {
  JOB_LOG,
  JOB_REQUEST,
  JOB_COMPLETED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
secret_replace (char      **secret,
                const char *value)
{
  imprint_secret_free (*secret);
  *secret = g_strdup (value);
}

static void
imprint_driver_dispose (GObject *object)
{
  ImprintDriver *self = IMPRINT_DRIVER (object);

  imprint_driver_reset_job (self);
  g_clear_object (&self->manager);

  G_OBJECT_CLASS (imprint_driver_parent_class)->dispose (object);
}

static void
imprint_driver_finalize (GObject *object)
{
  ImprintDriver *self = IMPRINT_DRIVER (object);

  g_free (self->source);
  g_strfreev (self->target_images);
  g_free (self->tpm2_device);
  g_free (self->source_certificate);
  g_free (self->source_root_hash);
  g_free (self->definitions);
  g_free (self->language);
  g_clear_pointer (&self->target, g_variant_unref);
  g_clear_pointer (&self->plan, g_variant_unref);
  imprint_secret_free (self->passphrase);
  imprint_secret_free (self->recovery_key);
  g_free (self->setup_target);
  imprint_secret_free (self->target_unlock);
  g_clear_pointer (&self->setup_defaults, g_variant_unref);
  g_hash_table_unref (self->settings);
  g_free (self->user_name);
  g_free (self->real_name);
  imprint_secret_free (self->password);
  g_string_free (self->log, TRUE);

  G_OBJECT_CLASS (imprint_driver_parent_class)->finalize (object);
}

static void
imprint_driver_class_init (ImprintDriverClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = imprint_driver_dispose;
  object_class->finalize = imprint_driver_finalize;

  /* Register the error names before any reply arrives, so GDBus turns
   * "dev.imprint.Imprint1.Error.*" into IMPRINT_ERROR codes. */
  g_type_ensure (G_TYPE_ERROR);
  (void) imprint_error_quark ();

  signals[JOB_LOG] =
    g_signal_new ("job-log", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[JOB_REQUEST] =
    g_signal_new ("job-request", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
  signals[JOB_COMPLETED] =
    g_signal_new ("job-completed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
imprint_driver_init (ImprintDriver *self)
{
  self->use_tpm2 = TRUE;
  self->log = g_string_new (NULL);
  self->source = g_strdup ("");
  self->settings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

ImprintDriver *
imprint_driver_new (void)
{
  return g_object_new (IMPRINT_TYPE_DRIVER, NULL);
}

/* ---- connection ------------------------------------------------------ */

static void
manager_proxy_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImprintDriver *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  ImprintManager *manager;

  manager = imprint_manager_proxy_new_for_bus_finish (result, &error);
  if (manager == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Long calls (Install waits for polkit) must not time out on us. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (manager), G_MAXINT);
  g_set_object (&self->manager, manager);
  g_task_return_pointer (task, manager, g_object_unref);
}

void
imprint_driver_connect_async (ImprintDriver       *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (IMPRINT_IS_DRIVER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imprint_driver_connect_async);

  if (self->manager != NULL)
    {
      g_task_return_pointer (task, g_object_ref (self->manager), g_object_unref);
      return;
    }

  /* imprintd lives on the system bus and is started on demand. */
  imprint_manager_proxy_new_for_bus (G_BUS_TYPE_SYSTEM,
                                     G_DBUS_PROXY_FLAGS_NONE,
                                     IMPRINT_BUS_NAME,
                                     IMPRINT_MANAGER_PATH,
                                     cancellable,
                                     manager_proxy_cb,
                                     g_steal_pointer (&task));
}

ImprintManager *
imprint_driver_connect_finish (ImprintDriver  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

ImprintManager *
imprint_driver_get_manager (ImprintDriver *self)
{
  g_return_val_if_fail (IMPRINT_IS_DRIVER (self), NULL);
  return self->manager;
}

typedef struct {
  char     *method;
  GVariant *parameters;
} CallData;

static void
call_data_free (gpointer data)
{
  CallData *cd = data;

  g_free (cd->method);
  g_clear_pointer (&cd->parameters, g_variant_unref);
  g_free (cd);
}

static void
call_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  GVariant *reply;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (object), result, &error);
  if (reply == NULL)
    {
      imprint_error_strip_remote (error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, reply, (GDestroyNotify) g_variant_unref);
}

static void
call_connected_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImprintDriver *self = g_task_get_source_object (task);
  CallData *cd = g_task_get_task_data (task);
  g_autoptr(ImprintManager) manager = NULL;
  g_autoptr(GError) error = NULL;

  manager = imprint_driver_connect_finish (self, result, &error);
  if (manager == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Every call may bring up the system's polkit agent. */
  g_dbus_proxy_call (G_DBUS_PROXY (manager),
                     cd->method,
                     g_steal_pointer (&cd->parameters),
                     G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
                     -1,
                     g_task_get_cancellable (task),
                     call_done_cb,
                     g_object_ref (task));
}

/* Every method's last argument is its options a{sv}. Naming the language
 * the person reads there makes imprintd answer in it: the reasons, job
 * steps and errors it words (imprintd-manager.c switches the handling
 * thread's locale, where that locale exists on the system). A caller's own
 * "locale" is kept. */
static GVariant *
with_locale (ImprintDriver *self,
             GVariant      *parameters)
{
  g_autoptr(GVariant) params = g_variant_ref_sink (parameters);
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GVariant) locale_value = NULL;
  /* The language picked on the welcome or language page, even where this
   * live system lacks that locale (LC_MESSAGES then fell back to C.UTF-8,
   * see imprint_window_set_language()); else the session's. */
  const char *messages = self->language ? self->language : setlocale (LC_MESSAGES, NULL);
  GVariantBuilder tuple, dict;
  GVariantIter iter;
  GVariant *entry;
  gsize n;

  if (messages == NULL || g_str_equal (messages, "C") || !g_variant_is_of_type (params, G_VARIANT_TYPE_TUPLE))
    return g_steal_pointer (&params);
  n = g_variant_n_children (params);
  if (n == 0)
    return g_steal_pointer (&params);
  options = g_variant_get_child_value (params, n - 1);
  if (!g_variant_is_of_type (options, G_VARIANT_TYPE_VARDICT))
    return g_steal_pointer (&params);
  locale_value = g_variant_lookup_value (options, "locale", NULL);
  if (locale_value != NULL)
    return g_steal_pointer (&params);

  g_variant_builder_init (&dict, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, options);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_variant_builder_add_value (&dict, entry);
      g_variant_unref (entry);
    }
  g_variant_builder_add (&dict, "{sv}", "locale", g_variant_new_string (messages));

  g_variant_builder_init (&tuple, G_VARIANT_TYPE_TUPLE);
  for (gsize i = 0; i + 1 < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (params, i);
      g_variant_builder_add_value (&tuple, child);
    }
  g_variant_builder_add_value (&tuple, g_variant_builder_end (&dict));
  return g_variant_ref_sink (g_variant_builder_end (&tuple));
}

void
imprint_driver_call (ImprintDriver       *self,
                     const char          *method,
                     GVariant            *parameters,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  CallData *cd;

  g_return_if_fail (IMPRINT_IS_DRIVER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imprint_driver_call);
  cd = g_new0 (CallData, 1);
  cd->method = g_strdup (method);
  cd->parameters = with_locale (self, parameters);
  g_task_set_task_data (task, cd, call_data_free);

  imprint_driver_connect_async (self, cancellable, call_connected_cb,
                                g_steal_pointer (&task));
}

GVariant *
imprint_driver_call_finish (ImprintDriver  *self,
                            GAsyncResult   *result,
                            GError        **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- command-line settings ------------------------------------------- */

const char *
imprint_driver_get_source (ImprintDriver *self)
{
  return self->source;
}

void
imprint_driver_set_source (ImprintDriver *self,
                           const char    *source)
{
  g_free (self->source);
  self->source = g_strdup (source ? source : "");
}

void
imprint_driver_set_target_images (ImprintDriver      *self,
                                  const char * const *images)
{
  g_strfreev (self->target_images);
  self->target_images = g_strdupv ((char **) images);
}

void
imprint_driver_set_include_loop (ImprintDriver *self,
                                 gboolean       include_loop)
{
  self->include_loop = !!include_loop;
}

gboolean
imprint_driver_get_include_loop (ImprintDriver *self)
{
  return self->include_loop;
}

void
imprint_driver_set_tpm2_device (ImprintDriver *self,
                                const char    *device)
{
  g_free (self->tpm2_device);
  self->tpm2_device = g_strdup (device);
}

/* How to trust a source image that is not the running system (OEM lines,
 * tests): its signing certificate or its verity root hash. */
void
imprint_driver_set_source_trust (ImprintDriver *self,
                                 const char    *certificate,
                                 const char    *root_hash)
{
  g_free (self->source_certificate);
  self->source_certificate = g_strdup (certificate);
  g_free (self->source_root_hash);
  self->source_root_hash = g_strdup (root_hash);
}

/* Partition definitions other than the installed system's own. */
void
imprint_driver_set_definitions (ImprintDriver *self,
                                const char    *directory)
{
  g_free (self->definitions);
  self->definitions = g_strdup (directory);
}

GVariant *
imprint_driver_build_list_options (ImprintDriver *self)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  if (self->include_loop)
    g_variant_builder_add (&b, "{sv}", "include-loop", g_variant_new_boolean (TRUE));
  if (self->target_images != NULL && self->target_images[0] != NULL)
    g_variant_builder_add (&b, "{sv}", "include-files",
                           g_variant_new_strv ((const char * const *) self->target_images, -1));
  if (self->source[0] != '\0')
    g_variant_builder_add (&b, "{sv}", "source", g_variant_new_string (self->source));
  return g_variant_builder_end (&b);
}

GVariant *
imprint_driver_build_security_options (ImprintDriver *self)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  if (self->tpm2_device != NULL)
    g_variant_builder_add (&b, "{sv}", "tpm2-device", g_variant_new_string (self->tpm2_device));
  return g_variant_builder_end (&b);
}

/* ---- choices ------------------------------------------------------------ */

const char *
imprint_driver_get_language (ImprintDriver *self)
{
  return self->language;
}

void
imprint_driver_set_language (ImprintDriver *self,
                             const char    *locale)
{
  g_free (self->language);
  self->language = g_strdup (locale);
}

GVariant *
imprint_driver_get_target (ImprintDriver *self)
{
  return self->target;
}

const char *
imprint_driver_get_target_device (ImprintDriver *self)
{
  const char *device = NULL;

  if (self->target == NULL ||
      !g_variant_lookup (self->target, "device", "&s", &device))
    return NULL;
  return device;
}

void
imprint_driver_set_target (ImprintDriver *self,
                           GVariant      *disk)
{
  if (disk != NULL)
    g_variant_ref_sink (disk);
  g_clear_pointer (&self->target, g_variant_unref);
  self->target = disk;
  /* A plan belongs to one disk. */
  g_clear_pointer (&self->plan, g_variant_unref);
}

ImprintInstallMode
imprint_driver_get_mode (ImprintDriver *self)
{
  return self->mode;
}

void
imprint_driver_set_mode (ImprintDriver      *self,
                         ImprintInstallMode  mode)
{
  if (self->mode != mode)
    g_clear_pointer (&self->plan, g_variant_unref);
  self->mode = mode;
}

void
imprint_driver_set_encryption (ImprintDriver *self,
                               gboolean       tpm2,
                               gboolean       fido2,
                               const char    *passphrase)
{
  self->use_tpm2 = !!tpm2;
  self->use_fido2 = !!fido2;
  secret_replace (&self->passphrase, (passphrase && *passphrase) ? passphrase : NULL);
  g_clear_pointer (&self->plan, g_variant_unref);
}

gboolean
imprint_driver_get_use_tpm2 (ImprintDriver *self)
{
  return self->use_tpm2;
}

gboolean
imprint_driver_get_use_fido2 (ImprintDriver *self)
{
  return self->use_fido2;
}

gboolean
imprint_driver_get_use_passphrase (ImprintDriver *self)
{
  return self->passphrase != NULL;
}

const char *
imprint_driver_get_recovery_key (ImprintDriver *self)
{
  return self->recovery_key;
}

void
imprint_driver_set_recovery_key (ImprintDriver *self,
                                 const char    *key)
{
  secret_replace (&self->recovery_key, key);
}

static void
add_common_install_options (ImprintDriver   *self,
                            GVariantBuilder *b)
{
  GVariantBuilder enc;

  g_variant_builder_add (b, "{sv}", "mode",
                         g_variant_new_string (self->mode == IMPRINT_INSTALL_FREE_SPACE
                                               ? "free-space" : "erase"));

  g_variant_builder_init (&enc, G_VARIANT_TYPE_STRING_ARRAY);
  if (self->use_tpm2)
    g_variant_builder_add (&enc, "s", "tpm2");
  if (self->use_fido2)
    g_variant_builder_add (&enc, "s", "fido2");
  if (self->passphrase != NULL)
    g_variant_builder_add (&enc, "s", "passphrase");
  /* Always: without it a lost TPM or key means lost data. */
  g_variant_builder_add (&enc, "s", "recovery-key");
  g_variant_builder_add (b, "{sv}", "encryption", g_variant_builder_end (&enc));

  if (self->source_certificate != NULL)
    g_variant_builder_add (b, "{sv}", "certificate", g_variant_new_string (self->source_certificate));
  if (self->source_root_hash != NULL)
    g_variant_builder_add (b, "{sv}", "root-hash", g_variant_new_string (self->source_root_hash));
  if (self->definitions != NULL)
    g_variant_builder_add (b, "{sv}", "definitions", g_variant_new_string (self->definitions));
}

GVariant *
imprint_driver_build_plan_options (ImprintDriver *self)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  add_common_install_options (self, &b);
  return g_variant_builder_end (&b);
}

GVariant *
imprint_driver_get_plan (ImprintDriver *self)
{
  return self->plan;
}

void
imprint_driver_set_plan (ImprintDriver *self,
                         GVariant      *plan)
{
  if (plan != NULL)
    g_variant_ref_sink (plan);
  g_clear_pointer (&self->plan, g_variant_unref);
  self->plan = plan;
}

/* ---- the job ---------------------------------------------------------- */

void
imprint_driver_append_log (ImprintDriver *self,
                           const char    *line)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%H:%M:%S");

  g_string_append_printf (self->log, "%s %s\n", stamp, line);
}

static void
job_log_cb (ImprintJobWatch *watch,
            const char      *message,
            ImprintDriver   *self)
{
  imprint_driver_append_log (self, message);
  g_signal_emit (self, signals[JOB_LOG], 0, message);
}

static void
job_request_cb (ImprintJobWatch *watch,
                const char      *id,
                const char      *kind,
                const char      *message,
                ImprintDriver   *self)
{
  g_signal_emit (self, signals[JOB_REQUEST], 0, id, kind, message);
}

static void
job_completed_cb (ImprintJobWatch *watch,
                  ImprintDriver   *self)
{
  /* Setup of the installed disk is done: its secret is needed no more. */
  if (imprint_job_watch_get_succeeded (watch))
    secret_replace (&self->target_unlock, NULL);
  else
    imprint_driver_append_log (self, imprint_job_watch_get_error (watch)->message);
  g_signal_emit (self, signals[JOB_COMPLETED], 0);
}

static void
job_followed_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  ImprintJob *job;

  job = imprint_job_watch_follow_finish (IMPRINT_JOB_WATCH (object), result, &error);
  if (job == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, job, g_object_unref);
}

static void
job_started_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImprintDriver *self = g_task_get_source_object (task);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *path;

  reply = imprint_driver_call_finish (self, result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_variant_get (reply, "(&o)", &path);
  imprint_job_watch_follow_async (self->job_watch, path, g_task_get_cancellable (task),
                                  job_followed_cb, g_object_ref (task));
}

/* Starts @method, which answers with a Job's path, and follows that job:
 * the watch listens before the call, so a fast job cannot finish unseen,
 * and a dead imprintd fails the job. A finished job is forgotten when the
 * next one starts (a panel may update twice). */
void
imprint_driver_start_job_async (ImprintDriver       *self,
                                const char          *method,
                                GVariant            *parameters,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (IMPRINT_IS_DRIVER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imprint_driver_start_job_async);
  g_variant_ref_sink (parameters);

  if (self->job_watch != NULL && imprint_job_watch_get_finished (self->job_watch))
    imprint_driver_reset_job (self);
  if (self->manager == NULL || self->job_watch != NULL)
    {
      g_variant_unref (parameters);
      g_task_return_new_error (task, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                               _("The system service is not ready, or still busy."));
      return;
    }

  self->job_watch = imprint_job_watch_new (g_dbus_proxy_get_connection (G_DBUS_PROXY (self->manager)),
                                           IMPRINT_BUS_NAME);
  g_signal_connect (self->job_watch, "log", G_CALLBACK (job_log_cb), self);
  g_signal_connect (self->job_watch, "request", G_CALLBACK (job_request_cb), self);
  g_signal_connect (self->job_watch, "completed", G_CALLBACK (job_completed_cb), self);
  imprint_driver_call (self, method, parameters, cancellable, job_started_cb, g_steal_pointer (&task));
  g_variant_unref (parameters);
}

ImprintJob *
imprint_driver_start_job_finish (ImprintDriver  *self,
                                 GAsyncResult   *result,
                                 GError        **error)
{
  ImprintJob *job = g_task_propagate_pointer (G_TASK (result), error);

  /* A failed start leaves no job: forget the subscription so a retry can
   * start afresh. */
  if (job == NULL)
    imprint_driver_reset_job (self);
  return job;
}

void
imprint_driver_install_async (ImprintDriver       *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GVariantBuilder b;
  const char *target;

  g_return_if_fail (IMPRINT_IS_DRIVER (self));

  target = imprint_driver_get_target_device (self);
  if (self->manager == NULL || target == NULL || self->recovery_key == NULL ||
      self->job_watch != NULL)
    {
      g_task_report_new_error (self, callback, user_data, imprint_driver_install_async,
                               IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                               _("The installation is not ready to start."));
      return;
    }

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  add_common_install_options (self, &b);
  if (self->tpm2_device != NULL && self->use_tpm2)
    g_variant_builder_add (&b, "{sv}", "tpm2-device", g_variant_new_string (self->tpm2_device));
  if (self->passphrase != NULL)
    g_variant_builder_add (&b, "{sv}", "passphrase", imprint_secret_variant_new (self->passphrase));
  g_variant_builder_add (&b, "{sv}", "recovery-key", imprint_secret_variant_new (self->recovery_key));

  imprint_driver_append_log (self, _("Starting the installation"));
  imprint_driver_start_job_async (self, "Install",
                                  g_variant_new ("(ss@a{sv})", self->source, target,
                                                 g_variant_builder_end (&b)),
                                  cancellable, callback, user_data);
}

ImprintJob *
imprint_driver_install_finish (ImprintDriver  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  return imprint_driver_start_job_finish (self, result, error);
}

ImprintJob *
imprint_driver_get_job (ImprintDriver *self)
{
  return self->job_watch ? imprint_job_watch_get_job (self->job_watch) : NULL;
}

gboolean
imprint_driver_get_job_finished (ImprintDriver *self)
{
  return self->job_watch && imprint_job_watch_get_finished (self->job_watch);
}

gboolean
imprint_driver_get_job_succeeded (ImprintDriver *self)
{
  return self->job_watch && imprint_job_watch_get_succeeded (self->job_watch);
}

const GError *
imprint_driver_get_job_error (ImprintDriver *self)
{
  return self->job_watch ? imprint_job_watch_get_error (self->job_watch) : NULL;
}

const char *
imprint_driver_get_log (ImprintDriver *self)
{
  return self->log->str;
}

/* ---- first-boot setup ------------------------------------------------- */

/* g_set_str() is GLib 2.76. */
static void
replace_str (char      **field,
             const char *value)
{
  char *copy = g_strdup (value);

  g_free (*field);
  *field = copy;
}

const char *
imprint_driver_get_setup_target (ImprintDriver *self)
{
  return self->setup_target;
}

void
imprint_driver_set_setup_target (ImprintDriver *self,
                                 const char    *target)
{
  g_free (self->setup_target);
  self->setup_target = g_strdup (target);
  /* The disk just installed opens with its recovery key (or the
   * passphrase): kept, apart from the home's recovery key the setup pages
   * make next, until setup of that disk has succeeded. */
  if (target != NULL && g_str_has_prefix (target, "disk:"))
    secret_replace (&self->target_unlock, self->recovery_key != NULL ? self->recovery_key : self->passphrase);
  else
    secret_replace (&self->target_unlock, NULL);
}

gboolean
imprint_driver_get_setup_mode (ImprintDriver *self)
{
  return self->setup_target != NULL;
}

GVariant *
imprint_driver_get_setup_defaults (ImprintDriver *self)
{
  if (self->setup_defaults == NULL)
    self->setup_defaults = g_variant_ref_sink (g_variant_new ("a{sv}", NULL));
  return self->setup_defaults;
}

void
imprint_driver_set_setup_defaults (ImprintDriver *self,
                                   GVariant      *defaults)
{
  g_autoptr(GVariant) user = NULL;
  const char *value;

  g_clear_pointer (&self->setup_defaults, g_variant_unref);
  self->setup_defaults = defaults ? g_variant_ref_sink (defaults) : NULL;
  if (defaults == NULL)
    return;

  /* Prefill: the pages start from what the OEM or the system says. */
  user = g_variant_lookup_value (defaults, "user", G_VARIANT_TYPE_VARDICT);
  if (user != NULL && g_variant_lookup (user, "user-name", "&s", &value))
    replace_str (&self->user_name, value);
  if (user != NULL && g_variant_lookup (user, "real-name", "&s", &value))
    replace_str (&self->real_name, value);
}

gboolean
imprint_driver_setup_decided (ImprintDriver *self,
                              const char    *key)
{
  g_autofree const char **decided = NULL;

  if (self->setup_defaults == NULL ||
      !g_variant_lookup (self->setup_defaults, "decided", "^a&s", &decided))
    return FALSE;
  return g_strv_contains (decided, key);
}

gboolean
imprint_driver_get_setup_flag (ImprintDriver *self,
                               const char    *key)
{
  gboolean value = FALSE;

  if (self->setup_defaults != NULL)
    g_variant_lookup (self->setup_defaults, key, "b", &value);
  return value;
}

/* The person's choice, else the default; "" when neither. */
const char *
imprint_driver_get_setting (ImprintDriver *self,
                            const char    *key)
{
  const char *value = g_hash_table_lookup (self->settings, key);

  if (value == NULL && self->setup_defaults != NULL)
    g_variant_lookup (self->setup_defaults, key, "&s", &value);
  return value ? value : "";
}

void
imprint_driver_set_setting (ImprintDriver *self,
                            const char    *key,
                            const char    *value)
{
  g_hash_table_replace (self->settings, g_strdup (key), g_strdup (value));
}

void
imprint_driver_set_user (ImprintDriver *self,
                         const char    *user_name,
                         const char    *real_name,
                         const char    *password,
                         gboolean       fido2,
                         gboolean       auto_login)
{
  replace_str (&self->user_name, user_name);
  replace_str (&self->real_name, real_name);
  secret_replace (&self->password, password);
  self->user_fido2 = fido2;
  self->auto_login = auto_login;
}

const char *
imprint_driver_get_user_name (ImprintDriver *self)
{
  return self->user_name ? self->user_name : "";
}

const char *
imprint_driver_get_real_name (ImprintDriver *self)
{
  return self->real_name ? self->real_name : "";
}

gboolean
imprint_driver_get_user_fido2 (ImprintDriver *self)
{
  return self->user_fido2;
}

gboolean
imprint_driver_get_auto_login (ImprintDriver *self)
{
  return self->auto_login;
}

static void
add_setting (ImprintDriver   *self,
             GVariantBuilder *b,
             const char      *key)
{
  const char *value = imprint_driver_get_setting (self, key);

  /* Decided values are applied as the OEM gave them: send ours only when
   * there is one; imprintd keeps what is not sent. */
  if (*value != '\0')
    g_variant_builder_add (b, "{sv}", key, g_variant_new_string (value));
}

GVariant *
imprint_driver_build_setup_settings (ImprintDriver *self)
{
  GVariantBuilder b, user;
  static const char * const keys[] = { "locale", "keymap", "timezone", "hostname", "pretty-hostname" };

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    add_setting (self, &b, keys[i]);

  g_variant_builder_init (&user, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&user, "{sv}", "user-name", g_variant_new_string (imprint_driver_get_user_name (self)));
  if (self->real_name != NULL && *self->real_name != '\0')
    g_variant_builder_add (&user, "{sv}", "real-name", g_variant_new_string (self->real_name));
  if (self->password != NULL)
    g_variant_builder_add (&user, "{sv}", "password", imprint_secret_variant_new (self->password));
  if (self->recovery_key != NULL)
    g_variant_builder_add (&user, "{sv}", "recovery-key", imprint_secret_variant_new (self->recovery_key));
  g_variant_builder_add (&user, "{sv}", "fido2", g_variant_new_boolean (self->user_fido2));
  g_variant_builder_add (&user, "{sv}", "auto-login", g_variant_new_boolean (self->auto_login));
  g_variant_builder_add (&b, "{sv}", "user", g_variant_builder_end (&user));

  /* On an OEM machine the disk was sealed to the TPM only; the same
   * recovery key (systemd's format works for both) opens it too, so the
   * person keeps one key, not two. */
  if (imprint_driver_get_setup_flag (self, "oem") && self->recovery_key != NULL &&
      self->setup_target != NULL && *self->setup_target == '\0')
    g_variant_builder_add (&b, "{sv}", "disk-recovery-key", imprint_secret_variant_new (self->recovery_key));

  return g_variant_builder_end (&b);
}

/* Forgets a finished job, so setup can follow an installation, or a failed
 * setup can be retried. */
void
imprint_driver_reset_job (ImprintDriver *self)
{
  if (self->job_watch != NULL)
    g_signal_handlers_disconnect_by_data (self->job_watch, self);
  g_clear_object (&self->job_watch);
}

void
imprint_driver_apply_setup_async (ImprintDriver       *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  GVariantBuilder options;

  g_return_if_fail (IMPRINT_IS_DRIVER (self));

  if (self->manager == NULL || self->setup_target == NULL || self->password == NULL ||
      self->job_watch != NULL)
    {
      g_task_report_new_error (self, callback, user_data, imprint_driver_apply_setup_async,
                               IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                               _("The setup is not ready to start."));
      return;
    }

  imprint_driver_append_log (self, _("Starting the setup"));
  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  if (self->target_unlock != NULL)
    g_variant_builder_add (&options, "{sv}", "unlock-passphrase", imprint_secret_variant_new (self->target_unlock));
  imprint_driver_start_job_async (self, "ApplySetup",
                                  g_variant_new ("(s@a{sv}a{sv})", self->setup_target,
                                                 imprint_driver_build_setup_settings (self), &options),
                                  cancellable, callback, user_data);
}

ImprintJob *
imprint_driver_apply_setup_finish (ImprintDriver  *self,
                                   GAsyncResult   *result,
                                   GError        **error)
{
  return imprint_driver_install_finish (self, result, error);
}
