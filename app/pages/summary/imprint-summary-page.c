/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-error.h"
#include "imprint-summary-page.h"
#include "imprint-util.h"

struct _ImprintSummaryPage
{
  ImprintPage          parent_instance;

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
  GCancellable        *cancellable;
  gboolean             committing;
};

G_DEFINE_FINAL_TYPE (ImprintSummaryPage, imprint_summary_page, IMPRINT_TYPE_PAGE)

static void
show_error (ImprintSummaryPage *self,
            const GError       *error)
{
  g_autofree char *sentence = imprint_error_to_sentence (error);

  gtk_label_set_label (self->error_label, sentence);
  gtk_widget_set_visible (self->error_box, TRUE);
}

static void
clear_partitions (ImprintSummaryPage *self)
{
  for (guint i = 0; i < self->partition_rows->len; i++)
    adw_preferences_group_remove (self->partitions_group, g_ptr_array_index (self->partition_rows, i));
  g_ptr_array_set_size (self->partition_rows, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->partitions_group), FALSE);
}

static const char *
action_words (const char *action)
{
  if (g_strcmp0 (action, "create") == 0)
    return _("New");
  if (g_strcmp0 (action, "delete") == 0)
    return _("Deleted");
  return _("Kept");
}

static void
add_partition_row (ImprintSummaryPage *self,
                   GVariant           *part)
{
  const char *type_name = "", *label = "", *source = "", *action = "";
  guint64 size = 0;
  g_autofree char *size_str = NULL;
  g_autofree char *subtitle = NULL;
  GtkWidget *row;

  g_variant_lookup (part, "type-name", "&s", &type_name);
  g_variant_lookup (part, "label", "&s", &label);
  g_variant_lookup (part, "source", "&s", &source);
  g_variant_lookup (part, "action", "&s", &action);
  g_variant_lookup (part, "size", "t", &size);
  size_str = g_format_size (size);

  if (*source != '\0')
    /* Translators: "<New|Kept|Deleted> · <size> · <where the contents come from>" */
    subtitle = g_strdup_printf (_("%s · %s · %s"), action_words (action), size_str, source);
  else
    subtitle = g_strdup_printf (_("%s · %s"), action_words (action), size_str);

  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), *label ? label : type_name);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
  if (g_strcmp0 (action, "delete") == 0)
    gtk_widget_add_css_class (row, "error");
  adw_preferences_group_add (self->partitions_group, row);
  g_ptr_array_add (self->partition_rows, row);
  gtk_widget_set_visible (GTK_WIDGET (self->partitions_group), TRUE);
}

static void
show_plan (ImprintSummaryPage *self,
           GVariant           *plan)
{
  g_autoptr(GVariant) partitions = NULL;
  g_autofree const char **erased = NULL;
  const char *summary = "";
  GVariantIter iter;
  GVariant *part;

  clear_partitions (self);
  g_variant_lookup (plan, "summary", "&s", &summary);
  gtk_label_set_label (self->summary_label, summary);

  if (g_variant_lookup (plan, "erased", "^a&s", &erased) && erased[0] != NULL)
    {
      g_autoptr(GString) text = g_string_new (_("These will be erased for ever:"));

      for (guint i = 0; erased[i]; i++)
        g_string_append_printf (text, "\n• %s", erased[i]);
      gtk_label_set_label (self->erased_label, text->str);
      gtk_widget_set_visible (self->erased_box, TRUE);
    }
  else
    gtk_widget_set_visible (self->erased_box, FALSE);

  partitions = g_variant_lookup_value (plan, "partitions", G_VARIANT_TYPE ("aa{sv}"));
  if (partitions != NULL)
    {
      g_variant_iter_init (&iter, partitions);
      while ((part = g_variant_iter_next_value (&iter)) != NULL)
        {
          add_partition_row (self, part);
          g_variant_unref (part);
        }
    }
}

static void
show_choices (ImprintSummaryPage *self)
{
  ImprintDriver *driver = imprint_page_get_driver (IMPRINT_PAGE (self));
  GVariant *disk = imprint_driver_get_target (driver);
  g_autoptr(GPtrArray) ways = g_ptr_array_new ();
  g_autofree char *title = NULL;
  g_autofree char *disk_text = NULL;
  g_autofree char *unlock_text = NULL;
  gboolean erase = imprint_driver_get_mode (driver) == IMPRINT_INSTALL_ERASE;

  if (disk != NULL)
    {
      title = imprint_disk_dup_title (disk);
      disk_text = g_strdup_printf ("%s\n%s", title,
                                   erase ? _("The whole disk is erased.")
                                         : _("Installed into the free space; the rest is kept."));
    }
  adw_action_row_set_subtitle (self->disk_row, disk_text ? disk_text : "");

  if (imprint_driver_get_use_tpm2 (driver))
    g_ptr_array_add (ways, (gpointer) _("This computer’s TPM"));
  if (imprint_driver_get_use_fido2 (driver))
    g_ptr_array_add (ways, (gpointer) _("Security key"));
  if (imprint_driver_get_use_passphrase (driver))
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
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) plan = NULL;
  g_autoptr(GError) error = NULL;

  gtk_spinner_set_spinning (self->spinner, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);

  reply = imprint_driver_call_finish (IMPRINT_DRIVER (object), result, &error);
  if (reply == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error);
      return;
    }

  plan = g_variant_get_child_value (reply, 0);
  imprint_driver_set_plan (IMPRINT_DRIVER (object), plan);
  show_plan (self, plan);
  gtk_widget_set_sensitive (GTK_WIDGET (self->install_button), TRUE);
}

static void
imprint_summary_page_shown (ImprintPage *page)
{
  ImprintSummaryPage *self = IMPRINT_SUMMARY_PAGE (page);
  ImprintDriver *driver = imprint_page_get_driver (page);
  const char *target = imprint_driver_get_target_device (driver);

  show_choices (self);
  gtk_widget_set_visible (self->error_box, FALSE);
  imprint_page_set_complete (page, FALSE);

  if (imprint_driver_get_plan (driver) != NULL)
    {
      show_plan (self, imprint_driver_get_plan (driver));
      gtk_widget_set_sensitive (GTK_WIDGET (self->install_button), TRUE);
      return;
    }

  /* A dry run: what Install would do, with nothing written. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->install_button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), TRUE);
  gtk_spinner_set_spinning (self->spinner, TRUE);
  gtk_label_set_label (self->summary_label, "");
  gtk_widget_set_visible (self->erased_box, FALSE);
  clear_partitions (self);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  imprint_driver_call (driver, "PlanInstall",
                       g_variant_new ("(ss@a{sv})",
                                      imprint_driver_get_source (driver),
                                      target ? target : "",
                                      imprint_driver_build_plan_options (driver)),
                       self->cancellable, plan_cb, g_object_ref (self));
}

static void
install_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(ImprintSummaryPage) self = user_data;
  g_autoptr(ImprintJob) job = NULL;
  g_autoptr(GError) error = NULL;

  self->committing = FALSE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->install_button), TRUE);

  job = imprint_driver_install_finish (IMPRINT_DRIVER (object), result, &error);
  if (job == NULL)
    {
      /* Dismissed or denied polkit prompts land here: say so, stay. */
      show_error (self, error);
      imprint_page_set_can_go_back (IMPRINT_PAGE (self), TRUE);
      imprint_page_set_complete (IMPRINT_PAGE (self), FALSE);
      imprint_page_apply_done (IMPRINT_PAGE (self), FALSE);
      return;
    }

  imprint_page_apply_done (IMPRINT_PAGE (self), TRUE);
}

/* The commit: the only place anything is written to a disk. */
static gboolean
imprint_summary_page_apply (ImprintPage  *page,
                            GCancellable *cancellable)
{
  ImprintSummaryPage *self = IMPRINT_SUMMARY_PAGE (page);

  self->committing = TRUE;
  /* Once asked, the daemon may already be writing: no way back. */
  imprint_page_set_can_go_back (page, FALSE);
  gtk_widget_set_visible (self->error_box, FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->install_button), FALSE);
  imprint_driver_install_async (imprint_page_get_driver (page), NULL,
                                install_cb, g_object_ref (self));
  return TRUE;
}

static void
install_clicked_cb (ImprintSummaryPage *self)
{
  if (self->committing)
    return;
  /* Only this button makes the page complete, so no shortcut can start
   * the installation by accident. */
  imprint_page_set_complete (IMPRINT_PAGE (self), TRUE);
  imprint_page_go_forward (IMPRINT_PAGE (self));
}

static void
imprint_summary_page_dispose (GObject *object)
{
  ImprintSummaryPage *self = IMPRINT_SUMMARY_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->partition_rows, g_ptr_array_unref);

  G_OBJECT_CLASS (imprint_summary_page_parent_class)->dispose (object);
}

static void
imprint_summary_page_class_init (ImprintSummaryPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);

  object_class->dispose = imprint_summary_page_dispose;
  page_class->shown = imprint_summary_page_shown;
  page_class->apply = imprint_summary_page_apply;

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
  imprint_page_set_has_forward (IMPRINT_PAGE (self), FALSE);
}
