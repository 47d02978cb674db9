/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "imprint-names.h"
#include "imprint-panel.h"
#include "imprint-progress-view.h"
#include "update/imprint-heal-group.h"
#include "update/imprint-update-panel.h"

struct _ImprintUpdatePanel
{
  ImprintPanel         parent_instance;

  GtkSpinner          *spinner;
  GtkWidget           *error_group;
  GtkLabel            *error_label;
  ImprintHealGroup    *heal_group;
  AdwActionRow        *running_row;
  AdwActionRow        *other_row;
  AdwPreferencesGroup *pending_group;
  GtkButton           *restart_button;
  AdwPreferencesGroup *updates_group;
  GtkButton           *check_button;
  GtkLabel            *result_label;
  GtkButton           *update_button;
  ImprintProgressView *progress_view;
  AdwActionRow        *auto_row;
  GtkSwitch           *auto_switch;

  ImprintClient       *client;        /* the panel's */
  GPtrArray           *version_rows;
  GVariant            *versions;     /* CheckForUpdates' last answer */
  char                *image_id;
  char                *current;
  char                *pending;
  char                *offered;      /* the version Update installs */
  char                *installed;    /* what an update here installed */
  gboolean             supported;
  gboolean             updating;
  gboolean             setting_switch;
};

G_DEFINE_FINAL_TYPE (ImprintUpdatePanel, imprint_update_panel, IMPRINT_TYPE_PANEL)

static void refresh_status (ImprintUpdatePanel *self);

#define show_error(self, sentence) imprint_panel_show_error (IMPRINT_PANEL (self), sentence)

static char *
version_title (ImprintUpdatePanel *self,
               const char         *version)
{
  /* Translators: an OS image and its version, e.g. "ImprintOS 2" */
  return g_strdup_printf (_("%s %s"), self->image_id && *self->image_id ? self->image_id : _("Version"),
                          version);
}

static void
update_sensitivity (ImprintUpdatePanel *self)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->check_button), self->supported && !self->updating);
  gtk_widget_set_sensitive (GTK_WIDGET (self->update_button), self->supported && !self->updating);
  if (self->updating)
    gtk_widget_set_visible (GTK_WIDGET (self->update_button), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->auto_row), self->supported);
}

static void
show_pending (ImprintUpdatePanel *self)
{
  g_autofree char *text = NULL;
  gboolean pending = self->pending != NULL && *self->pending != '\0';

  gtk_widget_set_visible (GTK_WIDGET (self->pending_group), pending);
  if (!pending)
    return;
  text = g_strdup_printf (_("Version %s is installed. Restart the computer to start using it."), self->pending);
  adw_preferences_group_set_description (self->pending_group, text);
}

/* ---- status ----------------------------------------------------------- */

static void
set_status (ImprintUpdatePanel *self,
            GVariant           *status)
{
  const char *other = imprint_lookup_str (status, IMPRINT_KEY_OTHER_VERSION);
  const char *reason = imprint_lookup_str (status, IMPRINT_KEY_REASON);
  g_autofree char *running = NULL;
  g_autofree char *other_text = NULL;

  g_free (self->image_id);
  self->image_id = g_strdup (imprint_lookup_str (status, IMPRINT_KEY_IMAGE_ID));
  g_free (self->current);
  self->current = g_strdup (imprint_lookup_str (status, IMPRINT_KEY_CURRENT_VERSION));
  g_free (self->pending);
  self->pending = g_strdup (imprint_lookup_str (status, IMPRINT_KEY_PENDING_VERSION));
  /* The job's word counts until the slots say so too (sysupdated may
   * still be finishing up when we ask). */
  if (*self->pending == '\0' && self->installed != NULL)
    {
      g_free (self->pending);
      self->pending = g_strdup (self->installed);
    }
  self->supported = imprint_lookup_bool (status, IMPRINT_KEY_SUPPORTED);

  running = *self->current ? version_title (self, self->current) : g_strdup (_("Unknown"));
  adw_action_row_set_subtitle (self->running_row, running);
  if (*other == '\0')
    other_text = g_strdup (_("Empty"));
  else if (g_str_equal (other, self->pending))
    {
      g_autofree char *title = version_title (self, other);

      /* Translators: the other slot's system, e.g. "ImprintOS 2 · starts after the next restart" */
      other_text = g_strdup_printf (_("%s · starts after the next restart"), title);
    }
  else
    other_text = version_title (self, other);
  adw_action_row_set_subtitle (self->other_row, other_text);
  show_pending (self);

  self->setting_switch = TRUE;
  gtk_switch_set_active (self->auto_switch, imprint_lookup_bool (status, IMPRINT_KEY_AUTOMATIC));
  self->setting_switch = FALSE;

  if (!self->supported)
    {
      gtk_label_set_label (self->result_label, *reason ? reason : _("This system cannot be updated here."));
      gtk_widget_set_visible (GTK_WIDGET (self->result_label), TRUE);
    }
  update_sensitivity (self);
}

static void
status_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  ImprintUpdatePanel *self = user_data;
  g_autoptr(GVariant) status = NULL;
  gboolean ok;

  if (!imprint_panel_call_finish (user_data, result, &ok, &status) || !ok)
    return;
  set_status (self, status);
}

static void
refresh_status (ImprintUpdatePanel *self)
{
  imprint_client_get_update_status_async (self->client, imprint_panel_call_begin (IMPRINT_PANEL (self)),
                                          status_cb, self);
}

/* ---- check ------------------------------------------------------------ */

static char *
version_state (GVariant   *v,
               const char *current,
               const char *pending)
{
  const char *version = imprint_lookup_str (v, IMPRINT_KEY_VERSION);

  if (g_str_equal (version, current))
    return g_strdup (_("Running now"));
  /* The slots' labels know before sysupdate's list does. */
  if (*pending && g_str_equal (version, pending))
    return g_strdup (_("Installed, starts after the next restart"));
  if (imprint_lookup_bool (v, IMPRINT_KEY_INSTALLED))
    return g_strdup (_("Installed"));
  if (imprint_lookup_bool (v, IMPRINT_KEY_AVAILABLE) && imprint_lookup_bool (v, IMPRINT_KEY_NEWEST))
    return g_strdup (_("Available, the newest version"));
  if (imprint_lookup_bool (v, IMPRINT_KEY_AVAILABLE))
    return g_strdup (_("Available"));
  return g_strdup ("");
}

static void
clear_version_rows (ImprintUpdatePanel *self)
{
  for (guint i = 0; i < self->version_rows->len; i++)
    adw_preferences_group_remove (self->updates_group, g_ptr_array_index (self->version_rows, i));
  g_ptr_array_set_size (self->version_rows, 0);
}

static void
set_versions (ImprintUpdatePanel *self,
              GVariant           *versions)
{
  GVariantIter iter;
  GVariant *v;
  const char *best = NULL;

  if (versions != self->versions)
    {
      g_clear_pointer (&self->versions, g_variant_unref);
      self->versions = g_variant_ref (versions);
    }
  clear_version_rows (self);
  g_variant_iter_init (&iter, versions);
  while ((v = g_variant_iter_next_value (&iter)))
    {
      const char *version = imprint_lookup_str (v, IMPRINT_KEY_VERSION);
      g_autofree char *title = version_title (self, version);
      g_autofree char *state = version_state (v, self->current, self->pending);
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), state);
      adw_preferences_group_add (self->updates_group, row);
      g_ptr_array_add (self->version_rows, row);

      /* Offer the newest version that is newer than what runs and than
       * what waits for a restart, and not installed yet. */
      if (imprint_lookup_bool (v, IMPRINT_KEY_AVAILABLE) && !imprint_lookup_bool (v, IMPRINT_KEY_INSTALLED) &&
          strverscmp (version, self->current) > 0 &&
          (self->pending == NULL || strverscmp (version, self->pending) > 0) &&
          (best == NULL || strverscmp (version, best) > 0))
        best = g_intern_string (version);
      g_variant_unref (v);
    }

  g_free (self->offered);
  self->offered = g_strdup (best);
  if (best != NULL)
    {
      g_autofree char *label = g_strdup_printf (_("_Update to Version %s"), best);

      gtk_button_set_label (self->update_button, label);
      gtk_widget_set_visible (GTK_WIDGET (self->result_label), FALSE);
    }
  else
    {
      if (self->pending != NULL && *self->pending)
        {
          g_autofree char *text =
            g_strdup_printf (_("There is nothing newer than version %s, which is already installed and "
                               "waits for a restart."), self->pending);
          gtk_label_set_label (self->result_label, text);
        }
      else
        gtk_label_set_label (self->result_label, _("This system is up to date."));
      gtk_widget_set_visible (GTK_WIDGET (self->result_label), TRUE);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->update_button), best != NULL);
}

static void
check_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  ImprintUpdatePanel *self = user_data;
  g_autoptr(GVariant) versions = NULL;
  gboolean ok;

  if (!imprint_panel_call_finish (user_data, result, &ok, &versions))
    return;
  gtk_widget_set_sensitive (GTK_WIDGET (self->check_button), self->supported && !self->updating);
  if (!ok)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->result_label), FALSE);
      return;
    }
  set_versions (self, versions);
}

static void
check_clicked_cb (ImprintUpdatePanel *self)
{
  show_error (self, NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->check_button), FALSE);
  gtk_label_set_label (self->result_label, _("Looking for new versions…"));
  gtk_widget_set_visible (GTK_WIDGET (self->result_label), TRUE);
  imprint_client_check_for_updates_async (self->client, imprint_panel_call_begin (IMPRINT_PANEL (self)),
                                          check_cb, self);
}

/* ---- update ----------------------------------------------------------- */

static void
job_log_cb (ImprintUpdatePanel *self,
            const char         *line)
{
  imprint_progress_view_append_log (self->progress_view, line);
}

static void
job_completed_cb (ImprintUpdatePanel *self)
{
  ImprintJob *job = imprint_client_get_job (self->client);

  if (!self->updating)
    return;
  self->updating = FALSE;
  imprint_progress_view_set_finished (self->progress_view);
  /* The outcome says it all now; the bar and Cancel are done. */
  gtk_widget_set_visible (GTK_WIDGET (self->progress_view), FALSE);
  if (imprint_client_get_job_succeeded (self->client))
    {
      g_autoptr(GVariant) result = job ? imprint_job_dup_result (job) : NULL;
      const char *installed = result ? imprint_lookup_str (result, IMPRINT_KEY_VERSION) : "";

      gtk_widget_set_visible (GTK_WIDGET (self->update_button), FALSE);
      if (*installed == '\0')
        gtk_label_set_label (self->result_label, _("This system is up to date."));
      else
        {
          g_free (self->installed);
          self->installed = g_strdup (installed);
          g_free (self->pending);
          self->pending = g_strdup (installed);
          show_pending (self);
          imprint_panel_focus_when_mapped (GTK_WIDGET (self->restart_button));
          if (self->versions != NULL)
            set_versions (self, self->versions);
          gtk_label_set_label (self->result_label, _("The update is installed."));
        }
      gtk_widget_set_visible (GTK_WIDGET (self->result_label), TRUE);
      refresh_status (self);
    }
  else
    {
      const GError *error = imprint_client_get_job_error (self->client);

      if (error != NULL)
        imprint_panel_show_gerror (IMPRINT_PANEL (self), error);
      /* The same button tries again. */
      gtk_widget_set_visible (GTK_WIDGET (self->update_button), TRUE);
    }
  update_sensitivity (self);
}

static void
update_started_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  ImprintUpdatePanel *self = user_data;
  g_autoptr(ImprintJob) job = NULL;
  g_autoptr(GError) error = NULL;

  job = imprint_client_job_finish (IMPRINT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  imprint_panel_busy_pop (IMPRINT_PANEL (self));
  if (job == NULL)
    {
      self->updating = FALSE;
      gtk_widget_set_visible (GTK_WIDGET (self->progress_view), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->update_button), TRUE);
      imprint_panel_show_gerror (IMPRINT_PANEL (self), error);
      update_sensitivity (self);
      return;
    }
  imprint_progress_view_set_job (self->progress_view, job);
  /* The job may be over already (its events were replayed). */
  if (imprint_client_get_job_finished (self->client))
    job_completed_cb (self);
}

static void
update_clicked_cb (ImprintUpdatePanel *self)
{
  if (self->offered == NULL || self->updating)
    return;

  show_error (self, NULL);
  self->updating = TRUE;
  update_sensitivity (self);
  gtk_widget_set_visible (GTK_WIDGET (self->result_label), FALSE);
  imprint_progress_view_set_job (self->progress_view, NULL);
  imprint_progress_view_set_log (self->progress_view, "");
  gtk_widget_set_visible (GTK_WIDGET (self->progress_view), TRUE);

  imprint_client_update_async (self->client, self->offered, imprint_panel_call_begin (IMPRINT_PANEL (self)),
                               update_started_cb, self);
}

/* ---- automatic updates, restart ------------------------------------------ */

static void
automatic_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  ImprintUpdatePanel *self = user_data;
  g_autoptr(GVariant) reply = NULL;
  gboolean ok;

  if (!imprint_panel_call_finish (user_data, result, &ok, &reply))
    return;
  gtk_widget_set_sensitive (GTK_WIDGET (self->auto_switch), TRUE);
  if (!ok)
    {
      /* Show what is really set, not what was asked for. */
      self->setting_switch = TRUE;
      gtk_switch_set_active (self->auto_switch, !gtk_switch_get_active (self->auto_switch));
      self->setting_switch = FALSE;
    }
}

static void
auto_switch_cb (ImprintUpdatePanel *self)
{
  if (self->setting_switch)
    return;
  show_error (self, NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->auto_switch), FALSE);
  imprint_client_set_automatic_updates_async (self->client, gtk_switch_get_active (self->auto_switch),
                                              imprint_panel_call_begin (IMPRINT_PANEL (self)),
                                              automatic_cb, self);
}

static void
restart_clicked_cb (ImprintUpdatePanel *self)
{
  imprint_panel_restart (IMPRINT_PANEL (self), GTK_WIDGET (self->restart_button),
                         _("The computer could not be restarted from here. Restart it from the system menu "
                           "to start using the new version."));
}

/* ---- life cycle --------------------------------------------------------- */

static void
imprint_update_panel_dispose (GObject *object)
{
  ImprintUpdatePanel *self = IMPRINT_UPDATE_PANEL (object);

  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  self->client = NULL;
  g_clear_pointer (&self->version_rows, g_ptr_array_unref);
  g_clear_pointer (&self->versions, g_variant_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), IMPRINT_TYPE_UPDATE_PANEL);

  G_OBJECT_CLASS (imprint_update_panel_parent_class)->dispose (object);
}

static void
imprint_update_panel_finalize (GObject *object)
{
  ImprintUpdatePanel *self = IMPRINT_UPDATE_PANEL (object);

  g_free (self->image_id);
  g_free (self->current);
  g_free (self->pending);
  g_free (self->offered);
  g_free (self->installed);

  G_OBJECT_CLASS (imprint_update_panel_parent_class)->finalize (object);
}

static void
imprint_update_panel_class_init (ImprintUpdatePanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imprint_update_panel_dispose;
  object_class->finalize = imprint_update_panel_finalize;

  g_type_ensure (IMPRINT_TYPE_PROGRESS_VIEW);
  g_type_ensure (IMPRINT_TYPE_HEAL_GROUP);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/panels/update/imprint-update-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintUpdatePanel, spinner);
  gtk_widget_class_bind_template_child (widget_class, ImprintUpdatePanel, error_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintUpdatePanel, error_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintUpdatePanel, heal_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintUpdatePanel, running_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintUpdatePanel, other_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintUpdatePanel, pending_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintUpdatePanel, restart_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintUpdatePanel, updates_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintUpdatePanel, check_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintUpdatePanel, result_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintUpdatePanel, update_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintUpdatePanel, progress_view);
  gtk_widget_class_bind_template_child (widget_class, ImprintUpdatePanel, auto_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintUpdatePanel, auto_switch);
  gtk_widget_class_bind_template_callback (widget_class, check_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, update_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, restart_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, auto_switch_cb);
}

static void
imprint_update_panel_init (ImprintUpdatePanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  imprint_panel_set_widgets (IMPRINT_PANEL (self), IMPRINT_TOPIC_UPDATE, self->spinner,
                             self->error_group, self->error_label);

  self->version_rows = g_ptr_array_new ();
  self->client = imprint_panel_get_client (IMPRINT_PANEL (self));
  g_signal_connect_swapped (self->client, "job-log", G_CALLBACK (job_log_cb), self);
  g_signal_connect_swapped (self->client, "job-completed", G_CALLBACK (job_completed_cb), self);
  imprint_progress_view_set_texts (self->progress_view,
                                   _("Stop the Update?"),
                                   _("The running system is not changed. The update can be started again later."),
                                   _("_Keep Updating"),
                                   _("Update log"));
  update_sensitivity (self);
  refresh_status (self);
  imprint_heal_group_attach (self->heal_group, IMPRINT_PANEL (self));
}

ImprintHealGroup *
imprint_update_panel_get_heal_group (ImprintUpdatePanel *self)
{
  g_return_val_if_fail (IMPRINT_IS_UPDATE_PANEL (self), NULL);
  return self->heal_group;
}

GtkWidget *
imprint_update_panel_new (GtkApplication *app)
{
  return g_object_new (IMPRINT_TYPE_UPDATE_PANEL, "application", app, NULL);
}
