/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "imprint-client-private.h"
#include "imprint-error.h"
#include "imprint-util.h"

G_DEFINE_FINAL_TYPE (ImprintClient, imprint_client, G_TYPE_OBJECT)

guint imprint_client_signals[IMPRINT_CLIENT_N_SIGNALS];

static void
imprint_client_dispose (GObject *object)
{
  ImprintClient *self = IMPRINT_CLIENT (object);

  imprint_client_reset_job (self);
  g_clear_object (&self->manager);

  G_OBJECT_CLASS (imprint_client_parent_class)->dispose (object);
}

static void
imprint_client_finalize (GObject *object)
{
  ImprintClient *self = IMPRINT_CLIENT (object);

  g_free (self->language);
  g_string_free (self->log, TRUE);

  G_OBJECT_CLASS (imprint_client_parent_class)->finalize (object);
}

static void
imprint_client_class_init (ImprintClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = imprint_client_dispose;
  object_class->finalize = imprint_client_finalize;

  /* Register the error names before any reply arrives, so GDBus turns
   * "dev.imprint.Imprint1.Error.*" into IMPRINT_ERROR codes. */
  g_type_ensure (G_TYPE_ERROR);
  (void) imprint_error_quark ();

  imprint_client_signals[IMPRINT_CLIENT_JOB_LOG] =
    g_signal_new ("job-log", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  imprint_client_signals[IMPRINT_CLIENT_JOB_REQUEST] =
    g_signal_new ("job-request", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
  imprint_client_signals[IMPRINT_CLIENT_JOB_COMPLETED] =
    g_signal_new ("job-completed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
imprint_client_init (ImprintClient *self)
{
  self->log = g_string_new (NULL);
}

ImprintClient *
imprint_client_new (void)
{
  return g_object_new (IMPRINT_TYPE_CLIENT, NULL);
}

const char *
imprint_client_get_language (ImprintClient *self)
{
  g_return_val_if_fail (IMPRINT_IS_CLIENT (self), NULL);
  return self->language;
}

void
imprint_client_set_language (ImprintClient *self,
                             const char    *locale)
{
  g_return_if_fail (IMPRINT_IS_CLIENT (self));
  g_free (self->language);
  self->language = g_strdup (locale);
}

/* ---- connection ------------------------------------------------------ */

static void
manager_proxy_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImprintClient *self = g_task_get_source_object (task);
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
imprint_client_connect_async (ImprintClient       *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (IMPRINT_IS_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imprint_client_connect_async);

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
imprint_client_connect_finish (ImprintClient  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

ImprintManager *
imprint_client_get_manager (ImprintClient *self)
{
  g_return_val_if_fail (IMPRINT_IS_CLIENT (self), NULL);
  return self->manager;
}

/* ---- one typed call ---------------------------------------------------- */

/* Naming the language the person reads in the options makes imprintd
 * answer in it: the reasons, job steps and errors it words
 * (imprintd-manager.c switches the handling thread's locale, where that
 * locale exists on the system). A caller's own "locale" is kept. */
static GVariant *
with_locale (ImprintClient *self,
             GVariant      *options)
{
  g_autoptr(GVariant) given = options ? g_variant_ref_sink (options)
                                      : g_variant_ref_sink (g_variant_new ("a{sv}", NULL));
  /* The language picked on the welcome or language page, even where this
   * live system lacks that locale (LC_MESSAGES then fell back to C.UTF-8,
   * see imprint_window_set_language()); else the session's. */
  const char *messages = self->language ? self->language : setlocale (LC_MESSAGES, NULL);
  g_autoptr(GVariant) locale_value = NULL;
  GVariantBuilder dict;
  GVariantIter iter;
  GVariant *entry;

  if (messages == NULL || g_str_equal (messages, "C"))
    return g_steal_pointer (&given);
  locale_value = g_variant_lookup_value (given, IMPRINT_KEY_LOCALE, NULL);
  if (locale_value != NULL)
    return g_steal_pointer (&given);

  g_variant_builder_init (&dict, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, given);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_variant_builder_add_value (&dict, entry);
      g_variant_unref (entry);
    }
  g_variant_builder_add (&dict, "{sv}", IMPRINT_KEY_LOCALE, g_variant_new_string (messages));
  return g_variant_ref_sink (g_variant_builder_end (&dict));
}

ImprintCallArgs *
imprint_call_args_new (const char *s1,
                       const char *s2,
                       GVariant   *options)
{
  ImprintCallArgs *args = g_new0 (ImprintCallArgs, 1);

  args->s1 = g_strdup (s1);
  args->s2 = g_strdup (s2);
  /* Sunk, and the locale added, by imprint_client_call(). */
  args->options = options;
  return args;
}

typedef struct
{
  const ImprintMethod *method;
  ImprintCallArgs     *args;
  ImprintCallReply     reply;
} CallData;

void
imprint_call_args_free (ImprintCallArgs *args)
{
  /* s1 may be a secret (CheckPassphrase's passphrase). */
  imprint_wipe_free (args->s1);
  g_free (args->s2);
  g_clear_pointer (&args->settings, g_variant_unref);
  g_clear_pointer (&args->options, g_variant_unref);
  g_free (args);
}

static void
call_data_free (gpointer data)
{
  CallData *cd = data;

  imprint_call_args_free (cd->args);
  g_clear_pointer (&cd->reply.value, g_variant_unref);
  g_free (cd->reply.text);
  g_free (cd);
}

static void
call_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CallData *cd = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!cd->method->finish (IMPRINT_MANAGER (object), result, &cd->reply, &error))
    {
      imprint_error_strip_remote (error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
call_connected_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CallData *cd = g_task_get_task_data (task);
  g_autoptr(ImprintManager) manager = NULL;
  g_autoptr(GError) error = NULL;

  manager = imprint_client_connect_finish (IMPRINT_CLIENT (object), result, &error);
  if (manager == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  cd->method->start (manager, cd->args, g_task_get_cancellable (task),
                     call_done_cb, g_object_ref (task));
}

/* Takes @args. */
void
imprint_client_call (ImprintClient       *self,
                     const ImprintMethod *method,
                     ImprintCallArgs     *args,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  CallData *cd;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imprint_client_call);
  cd = g_new0 (CallData, 1);
  cd->method = method;
  cd->args = args;
  args->options = with_locale (self, args->options);
  if (args->settings != NULL)
    g_variant_ref_sink (args->settings);
  g_task_set_task_data (task, cd, call_data_free);

  imprint_client_connect_async (self, cancellable, call_connected_cb, g_steal_pointer (&task));
}

/* On success, moves the answer into @ret_reply (the caller frees it). */
gboolean
imprint_client_call_finish (ImprintClient     *self,
                            GAsyncResult      *result,
                            ImprintCallReply  *ret_reply,
                            GError           **error)
{
  CallData *cd = g_task_get_task_data (G_TASK (result));

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  *ret_reply = cd->reply;
  cd->reply = (ImprintCallReply) { 0 };
  return TRUE;
}
