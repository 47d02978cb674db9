/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "factory-reset.h"
#include "imprint-error.h"
#include "imprint-request.h"
#include "imprintd-methods.h"
#include "update.h"

/* GetUpdateStatus, CheckForUpdates, Update, SetAutomaticUpdates and the
 * factory reset methods: backend/update does the work. */

static ImprintUpdatePaths
paths_get (void)
{
  ImprintUpdatePaths paths = { 0 };

  imprint_update_paths_from_env (&paths);
  return paths;
}

GVariant *
imprintd_method_get_update_status (ImprintdMethodCall *call, GError **error)
{
  ImprintUpdatePaths paths = paths_get ();

  return g_variant_new ("(@a{sv})",
                        imprint_update_get_status (&paths, imprintd_daemon_get_connection (call->daemon), NULL));
}

GVariant *
imprintd_method_check_for_updates (ImprintdMethodCall *call, GError **error)
{
  ImprintUpdatePaths paths = paths_get ();
  g_autoptr(ImprintSysupdate) s = NULL;
  g_autoptr(GPtrArray) versions = NULL;
  GVariantBuilder b;

  s = imprint_sysupdate_new (&paths, error);
  if (s == NULL)
    return NULL;
  versions = imprint_sysupdate_list (s, NULL, error);
  if (versions == NULL)
    return NULL;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < versions->len; i++)
    g_variant_builder_add_value (&b, imprint_update_version_to_variant (g_ptr_array_index (versions, i)));
  return g_variant_new ("(@aa{sv})", g_variant_builder_end (&b));
}

/* ---- Update ----------------------------------------------------------------- */

typedef struct {
  ImprintSysupdate *sysupdate;
  char *version;
  char *locale;
  char *booted;       /* IMAGE_VERSION of the running system */
  ImprintdJob *job;   /* not owned */
  char *announced;    /* the version sysupdate said it installs */
} UpdateData;

static void
update_data_free (UpdateData *d)
{
  imprint_sysupdate_free (d->sysupdate);
  g_free (d->version);
  g_free (d->locale);
  g_free (d->booted);
  g_free (d->announced);
  g_free (d);
}

static void
on_progress (double fraction, const char *version, const char *message, gpointer user_data)
{
  UpdateData *d = user_data;

  if (version != NULL && *version != '\0' && g_strcmp0 (version, d->announced) != 0)
    {
      g_free (d->announced);
      d->announced = g_strdup (version);
      imprintd_job_log (d->job, _("Installing version %s."), version);
      {
        g_autofree char *step = g_strdup_printf (_("Downloading and installing version %s"), version);
        imprintd_job_set_step (d->job, step);
      }
    }
  if (fraction >= 0.0)
    imprintd_job_set_progress (d->job, CLAMP (fraction, 0.0, 1.0));
}

static gboolean
update_thread (ImprintdJob *job, GCancellable *cancellable, gpointer user_data, GError **error)
{
  UpdateData *d = user_data;
  g_autofree char *installed = NULL;
  GVariantBuilder result;
  locale_t locale = (locale_t) 0;
  gboolean reboot;

  d->job = job;
  if (d->locale != NULL)
    {
      locale = newlocale (LC_ALL_MASK, d->locale, (locale_t) 0);
      if (locale != (locale_t) 0)
        uselocale (locale);
    }

  imprintd_job_set_step (job, _("Looking for the update"));
  installed = imprint_sysupdate_update (d->sysupdate, d->version, on_progress, d, cancellable, error);

  if (installed != NULL)
    {
      if (*installed == '\0')
        {
          imprintd_job_set_step (job, _("The system is up to date"));
          imprintd_job_log (job, _("No newer version is available."));
        }
      else
        {
          imprintd_job_set_progress (job, 1.0);
          imprintd_job_set_step (job, _("Restart to finish the update"));
          imprintd_job_log (job, _("Version %s is installed and starts with the next restart."), installed);
        }
      reboot = *installed != '\0' && (d->booted == NULL || strverscmp (installed, d->booted) > 0);
      g_variant_builder_init (&result, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&result, "{sv}", "version", g_variant_new_string (installed));
      g_variant_builder_add (&result, "{sv}", "reboot-required", g_variant_new_boolean (reboot));
      imprintd_job_set_result (job, g_variant_builder_end (&result));
    }

  if (locale != (locale_t) 0)
    {
      uselocale (LC_GLOBAL_LOCALE);
      freelocale (locale);
    }
  return installed != NULL;
}

GVariant *
imprintd_method_update (ImprintdMethodCall *call, GError **error)
{
  ImprintUpdatePaths paths = paths_get ();
  g_autoptr(ImprintdJob) job = NULL;
  g_autoptr(GHashTable) os = NULL;
  UpdateData *d;
  const char *version, *s;
  const char *path;

  g_variant_get_child (call->parameters, 0, "&s", &version);
  /* The version goes onto systemd-sysupdate's command line: one that
   * starts with "-" would be an option (--definitions=, --root=). */
  if (*version != '\0' && !imprint_sysupdate_version_is_valid (version))
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("This is not a version systemd-sysupdate could install."));
      return NULL;
    }
  d = g_new0 (UpdateData, 1);
  d->sysupdate = imprint_sysupdate_new (&paths, error);
  if (d->sysupdate == NULL)
    {
      update_data_free (d);
      return NULL;
    }
  d->version = g_strdup (version);
  if (g_variant_lookup (call->options, "locale", "&s", &s) && *s)
    d->locale = g_strdup (s);
  if (imprint_os_release_read (paths.root, &os) >= 0)
    d->booted = g_strdup (g_hash_table_lookup (os, "IMAGE_VERSION"));

  job = imprintd_job_new ("update", call->uid, TRUE);
  path = imprintd_daemon_add_job (call->daemon, job);
  imprintd_job_run (job, update_thread, d, (GDestroyNotify) update_data_free);
  return g_variant_new ("(o)", path);
}

GVariant *
imprintd_method_set_automatic_updates (ImprintdMethodCall *call, GError **error)
{
  gboolean enabled;

  g_variant_get_child (call->parameters, 0, "b", &enabled);
  if (!imprint_update_automatic_set (imprintd_daemon_get_connection (call->daemon), enabled, error))
    return NULL;
  return g_variant_new ("()");
}

/* ---- Factory reset ---------------------------------------------------------- */

GVariant *
imprintd_method_get_factory_reset_info (ImprintdMethodCall *call, GError **error)
{
  ImprintUpdatePaths paths = paths_get ();

  return g_variant_new ("(@a{sv})", imprint_factory_reset_info (&paths));
}

GVariant *
imprintd_method_request_factory_reset (ImprintdMethodCall *call, GError **error)
{
  ImprintUpdatePaths paths = paths_get ();
  g_auto(ImprintFactoryResetRequest) req;
  gboolean clear_tpm;

  imprint_factory_reset_request_init (&req);
  if (!imprint_factory_reset_request_from_variant (call->options, &req, error))
    return NULL;
  clear_tpm = imprint_opt_bool (req.clear_tpm, FALSE);
  if (!imprint_factory_reset_request (&paths, clear_tpm, error))
    return NULL;
  g_message ("factory reset requested by uid %u%s", call->uid, clear_tpm ? " (with TPM clear)" : "");
  return g_variant_new ("()");
}

GVariant *
imprintd_method_cancel_factory_reset (ImprintdMethodCall *call, GError **error)
{
  ImprintUpdatePaths paths = paths_get ();

  if (!imprint_factory_reset_cancel (&paths, error))
    return NULL;
  g_message ("factory reset request withdrawn by uid %u", call->uid);
  return g_variant_new ("()");
}
