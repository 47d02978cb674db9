/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-commit-page.h"
#include "imprint-error.h"
#include "imprint-plan-words.h"
#include "imprint-request.h"
#include "imprint-summary-page.h"
#include "imprint-util.h"

struct _ImprintSummaryPage
{
  ImprintCommitPage    parent_instance;

  GtkLabel            *summary_label;
  GtkSpinner          *spinner;
  GtkWidget           *error_box;
  GtkLabel            *error_label;
  GtkWidget           *erased_box;
  GtkLabel            *erased_label;
  AdwActionRow        *disk_row;
  AdwActionRow        *unlock_row;
  AdwPreferencesGroup *partitions_group;
  GtkButton           *install_button;

  GPtrArray           *partition_rows;
};

G_DEFINE_FINAL_TYPE (ImprintSummaryPage, imprint_summary_page, IMPRINT_TYPE_COMMIT_PAGE)

static void
clear_partitions (ImprintSummaryPage *self)
{
  for (guint i = 0; i < self->partition_rows->len; i++)
    adw_preferences_group_remove (self->partitions_group, g_ptr_array_index (self->partition_rows, i));
  g_ptr_array_set_size (self->partition_rows, 0);
  adw_preferences_group_set_description (self->partitions_group, NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->partitions_group), FALSE);
}

static const char *
action_words (const char *action)
{
  if (g_strcmp0 (action, IMPRINT_ACTION_CREATE) == 0)
    return _("New");
  if (g_strcmp0 (action, IMPRINT_ACTION_DELETE) == 0)
    return _("Deleted");
  return _("Kept");
}

static void
add_partition_row (ImprintSummaryPage             *self,
                   const ImprintPlanInfo          *plan,
                   const ImprintPlanPartitionInfo *part)
{
  g_autofree char *size_str = g_format_size (part->size);
  g_autofree char *source = imprint_plan_words_source (plan, part);
  g_autofree char *subtitle = NULL;
  GtkWidget *row;

  if (*source != '\0')
    /* Translators: "<New|Kept|Deleted> · <size> · <where the contents come from>" */
    subtitle = g_strdup_printf (_("%s · %s · %s"), action_words (part->action), size_str, source);
  else
    subtitle = g_strdup_printf (_("%s · %s"), action_words (part->action), size_str);

  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), *part->label ? part->label : part->type_name);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
  if (g_strcmp0 (part->action, IMPRINT_ACTION_DELETE) == 0)
    gtk_widget_add_css_class (row, "error");
  adw_preferences_group_add (self->partitions_group, row);
  g_ptr_array_add (self->partition_rows, row);
  gtk_widget_set_visible (GTK_WIDGET (self->partitions_group), TRUE);
}

static void
show_erased (ImprintSummaryPage    *self,
             const ImprintPlanInfo *plan)
{
  g_auto(GStrv) erased = imprint_plan_words_erased (plan);
  g_autoptr(GString) text = NULL;

  gtk_widget_set_visible (self->erased_box, erased[0] != NULL);
  if (erased[0] == NULL)
    return;
  text = g_string_new (_("These will be erased for ever:"));
  for (guint i = 0; erased[i]; i++)
    g_string_append_printf (text, "\n• %s", erased[i]);
  gtk_label_set_label (self->erased_label, text->str);
}

/* The plan's display: PlanInstall's reply read through ImprintPlanInfo
 * (imprint-request.h) and worded here, from its facts, by
 * imprint-plan-words.h, so it reads in this app's language rather than
 * imprintd's. */
/* From a live session: say now whether it goes on from the disk. */
static void
append_handover (ImprintSummaryPage *self, GString *text)
{
  ImprintInstallChoices *install = imprint_page_get_install_choices (IMPRINT_PAGE (self));
  const char *reason = NULL;

  if (imprint_install_choices_get_handover_possible (install, &reason))
    g_string_append_printf (text, "\n\n%s",
                            _("Afterwards this session goes on from the installed disk: no restart, and the USB stick can be removed."));
  else if (reason != NULL)
    g_string_append_printf (text, _("\n\nAfterwards, set up the installed system from here and restart from the disk (%s)"),
                            reason);
}

static void
show_plan (ImprintSummaryPage *self,
           GVariant           *plan)
{
  g_auto(ImprintPlanInfo) info;
  g_autoptr(GError) error = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *twice = NULL;
  g_autofree char *definitions = NULL;
  g_autoptr(GString) text = NULL;

  imprint_plan_info_init (&info);
  clear_partitions (self);
  if (!imprint_plan_info_from_variant (plan, &info, &error))
    {
      gtk_label_set_label (self->summary_label, "");
      gtk_widget_set_visible (self->erased_box, FALSE);
      imprint_commit_page_show_error (IMPRINT_COMMIT_PAGE (self), error);
      return;
    }
  summary = imprint_plan_words_summary (&info);
  text = g_string_new (summary);
  /* The medium is read twice (a data disk, a large system): it takes
   * longer, and people should know why. */
  twice = imprint_plan_words_read_twice (&info);
  if (twice != NULL)
    g_string_append_printf (text, "\n\n%s", twice);
  append_handover (self, text);
  gtk_label_set_label (self->summary_label, text->str);
  show_erased (self, &info);

  for (guint i = 0; info.partitions != NULL && i < info.partitions->len; i++)
    add_partition_row (self, &info, g_ptr_array_index (info.partitions, i));
  /* Deferred data partitions are made at first boot from the installed
   * system's own definitions: then the plan's do not apply. */
  definitions = info.defer_data_partitions ? NULL : imprint_plan_words_definitions (&info);
  if (definitions != NULL && info.partitions->len > 0)
    adw_preferences_group_set_description (self->partitions_group, definitions);
}

static void
show_choices (ImprintSummaryPage *self)
{
  ImprintInstallChoices *install = imprint_page_get_install_choices (IMPRINT_PAGE (self));
  GVariant *disk = imprint_install_choices_get_target (install);
  g_autoptr(GPtrArray) ways = g_ptr_array_new ();
  g_autofree char *title = NULL;
  g_autofree char *disk_text = NULL;
  g_autofree char *unlock_text = NULL;
  gboolean erase = imprint_install_choices_get_mode (install) == IMPRINT_INSTALL_ERASE;

  if (disk != NULL)
    {
      title = imprint_disk_dup_title (disk);
      const char *how = erase ? _("The whole disk is erased.")
                              : _("Installed into the free space; the rest is kept.");

      if (imprint_install_choices_get_shrink_partition (install) != 0)
        how = _("Installed beside Windows: Windows is made smaller first and stays.");
      disk_text = g_strdup_printf ("%s\n%s", title, how);
    }
  adw_action_row_set_subtitle (self->disk_row, disk_text ? disk_text : "");

  if (imprint_install_choices_get_use_tpm2 (install))
    g_ptr_array_add (ways, (gpointer) _("This computer’s TPM"));
  if (imprint_install_choices_get_use_fido2 (install))
    g_ptr_array_add (ways, (gpointer) _("Security key"));
  if (imprint_install_choices_get_use_passphrase (install))
    g_ptr_array_add (ways, (gpointer) _("Passphrase"));
  g_ptr_array_add (ways, (gpointer) _("Recovery key"));
  g_ptr_array_add (ways, NULL);
  /* Translators: separator between ways to unlock, e.g. "TPM, Recovery key" */
  unlock_text = g_strjoinv (_(", "), (char **) ways->pdata);
  adw_action_row_set_subtitle (self->unlock_row, unlock_text);

  gtk_button_set_label (self->install_button, erase ? _("_Erase Disk and Install") : _("_Install"));
}

static void
plan_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(ImprintSummaryPage) self = user_data;
  g_autoptr(GVariant) plan = NULL;
  g_autoptr(GError) error = NULL;

  gtk_spinner_set_spinning (self->spinner, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);

  if (!imprint_client_plan_install_finish (IMPRINT_CLIENT (object), result, &plan, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        imprint_commit_page_show_error (IMPRINT_COMMIT_PAGE (self), error);
      return;
    }

  imprint_install_choices_set_plan (imprint_page_get_install_choices (IMPRINT_PAGE (self)), plan);
  show_plan (self, plan);
  gtk_widget_set_sensitive (GTK_WIDGET (self->install_button), TRUE);
}

/* A dry run: what Install would do, with nothing written. */
static void
request_plan (ImprintSummaryPage *self)
{
  ImprintPage *page = IMPRINT_PAGE (self);
  ImprintInstallChoices *install = imprint_page_get_install_choices (page);
  const char *target = imprint_install_choices_get_target_device (install);

  gtk_widget_set_sensitive (GTK_WIDGET (self->install_button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), TRUE);
  gtk_spinner_set_spinning (self->spinner, TRUE);
  gtk_label_set_label (self->summary_label, "");
  gtk_widget_set_visible (self->erased_box, FALSE);
  clear_partitions (self);

  imprint_client_plan_install_async (imprint_page_get_client (page),
                                     imprint_install_choices_get_source (install),
                                     target ? target : "",
                                     imprint_install_choices_build_plan_options (install),
                                     imprint_page_renew_cancellable (page),
                                     plan_cb, g_object_ref (self));
}

static void
imprint_summary_page_shown (ImprintPage *page)
{
  ImprintSummaryPage *self = IMPRINT_SUMMARY_PAGE (page);
  GVariant *plan = imprint_install_choices_get_plan (imprint_page_get_install_choices (page));

  show_choices (self);
  imprint_commit_page_reset (IMPRINT_COMMIT_PAGE (self));

  if (plan != NULL)
    {
      show_plan (self, plan);
      gtk_widget_set_sensitive (GTK_WIDGET (self->install_button), TRUE);
      return;
    }
  request_plan (self);
}

static void
imprint_summary_page_commit (ImprintCommitPage   *page,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  ImprintClient *client = imprint_page_get_client (IMPRINT_PAGE (page));
  ImprintInstallChoices *install = imprint_page_get_install_choices (IMPRINT_PAGE (page));
  GVariant *options = imprint_install_choices_build_install_options (install);

  if (options == NULL)
    {
      g_task_report_new_error (client, callback, user_data, imprint_summary_page_commit,
                               IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                               _("The installation is not ready to start."));
      return;
    }
  imprint_client_append_log (client, _("Starting the installation"));
  /* Not cancellable: see imprint-commit-page.c. */
  imprint_client_install_async (client, imprint_install_choices_get_source (install),
                                imprint_install_choices_get_target_device (install),
                                options, NULL, callback, user_data);
}

static void
install_clicked_cb (ImprintSummaryPage *self)
{
  imprint_commit_page_start (IMPRINT_COMMIT_PAGE (self));
}

static void
imprint_summary_page_dispose (GObject *object)
{
  ImprintSummaryPage *self = IMPRINT_SUMMARY_PAGE (object);

  g_clear_pointer (&self->partition_rows, g_ptr_array_unref);

  G_OBJECT_CLASS (imprint_summary_page_parent_class)->dispose (object);
}

static void
imprint_summary_page_class_init (ImprintSummaryPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);
  ImprintCommitPageClass *commit_class = IMPRINT_COMMIT_PAGE_CLASS (klass);

  object_class->dispose = imprint_summary_page_dispose;
  page_class->shown = imprint_summary_page_shown;
  commit_class->commit = imprint_summary_page_commit;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/summary/imprint-summary-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintSummaryPage, summary_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintSummaryPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, ImprintSummaryPage, error_box);
  gtk_widget_class_bind_template_child (widget_class, ImprintSummaryPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintSummaryPage, erased_box);
  gtk_widget_class_bind_template_child (widget_class, ImprintSummaryPage, erased_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintSummaryPage, disk_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintSummaryPage, unlock_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintSummaryPage, partitions_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintSummaryPage, install_button);
  gtk_widget_class_bind_template_callback (widget_class, install_clicked_cb);
}

static void
imprint_summary_page_init (ImprintSummaryPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->partition_rows = g_ptr_array_new ();
  imprint_commit_page_set_widgets (IMPRINT_COMMIT_PAGE (self), self->install_button,
                                   self->error_box, self->error_label);
}
