/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "imprint-recovery-key-view.h"
#include "imprint-recovery-page.h"
#include "imprint-util.h"

struct _ImprintRecoveryPage
{
  ImprintPage             parent_instance;

  GtkSpinner             *spinner;
  GtkLabel               *error_label;
  ImprintRecoveryKeyView *key_view;
  GtkCheckButton         *saved_check;
  AdwEntryRow            *group_entry;
  GtkLabel               *hint_label;
  GtkLabel               *intro_label;
  guint                   group;       /* 1-based group the person types back */
  gboolean                loading;
};

G_DEFINE_FINAL_TYPE (ImprintRecoveryPage, imprint_recovery_page, IMPRINT_TYPE_PAGE)

/* Letters only, lower case: people type "abcd efgh" or "ABCD-EFGH". */
static char *
normalize_group (const char *text)
{
  GString *s = g_string_new (NULL);

  for (const char *p = text; *p; p++)
    if (g_ascii_isalnum (*p))
      g_string_append_c (s, g_ascii_tolower (*p));
  return g_string_free (s, FALSE);
}

/* The installer's key opens the disk; first-boot setup's the home (and on
 * an OEM machine the disk too). */
static const char *
get_key (ImprintRecoveryPage *self)
{
  ImprintPage *page = IMPRINT_PAGE (self);

  if (imprint_page_get_setup_mode (page))
    return imprint_setup_choices_get_recovery_key (imprint_page_get_setup_choices (page));
  return imprint_install_choices_get_recovery_key (imprint_page_get_install_choices (page));
}

static void
set_key (ImprintRecoveryPage *self,
         const char          *key)
{
  ImprintPage *page = IMPRINT_PAGE (self);

  if (imprint_page_get_setup_mode (page))
    imprint_setup_choices_set_recovery_key (imprint_page_get_setup_choices (page), key);
  else
    imprint_install_choices_set_recovery_key (imprint_page_get_install_choices (page), key);
}

static gboolean
group_matches (ImprintRecoveryPage *self)
{
  const char *key = get_key (self);
  g_auto(GStrv) parts = NULL;
  g_autofree char *typed = NULL;
  gboolean match;

  if (key == NULL || self->group == 0)
    return FALSE;
  parts = g_strsplit (key, "-", -1);
  if (g_strv_length (parts) < self->group)
    return FALSE;
  typed = normalize_group (gtk_editable_get_text (GTK_EDITABLE (self->group_entry)));
  match = g_str_equal (typed, parts[self->group - 1]);

  for (guint i = 0; parts[i]; i++)
    explicit_bzero (parts[i], strlen (parts[i]));
  explicit_bzero (typed, strlen (typed));
  return match;
}

static void
update_complete (ImprintRecoveryPage *self)
{
  gboolean saved = gtk_check_button_get_active (self->saved_check);
  gboolean typed = group_matches (self);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->group_entry));
  const char *hint = "";

  if (!saved)
    hint = _("Save the key, then confirm that you did.");
  else if (!typed && *text != '\0')
    hint = _("That is not the group asked for. Look at the key again.");
  else if (!typed)
    hint = _("Type the group asked for to show that you can read your copy.");

  gtk_label_set_label (self->hint_label, hint);
  if (typed)
    gtk_widget_remove_css_class (GTK_WIDGET (self->group_entry), "error");
  else if (*text != '\0' && strlen (text) >= 8)
    gtk_widget_add_css_class (GTK_WIDGET (self->group_entry), "error");
  imprint_page_set_complete (IMPRINT_PAGE (self), saved && typed);
}

static void
changed_cb (ImprintRecoveryPage *self)
{
  update_complete (self);
}

static void
entry_activated_cb (ImprintRecoveryPage *self)
{
  if (imprint_page_get_complete (IMPRINT_PAGE (self)))
    imprint_page_go_forward (IMPRINT_PAGE (self));
}

static void
saved_cb (ImprintRecoveryPage *self)
{
  /* Saving to a file is one way of keeping it; the box stays the
   * person's own statement, so only suggest it by focusing it. */
  gtk_widget_grab_focus (GTK_WIDGET (self->saved_check));
}

static void
show_key (ImprintRecoveryPage *self,
          const char          *key)
{
  g_autofree char *title = NULL;
  g_auto(GStrv) parts = g_strsplit (key, "-", -1);
  guint n = g_strv_length (parts);

  imprint_recovery_key_view_set_key (self->key_view, key);
  /* Not the first: that is the one people remember from a glance. */
  self->group = n > 1 ? (guint) g_random_int_range (2, (gint32) n + 1) : 1;
  /* Translators: %u is a number, e.g. "Type group 5 of the key" */
  title = g_strdup_printf (_("_Type group %u of the key"), self->group);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->group_entry), title);
  for (guint i = 0; parts[i]; i++)
    explicit_bzero (parts[i], strlen (parts[i]));
  update_complete (self);
}

static void
generate_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(ImprintRecoveryPage) self = user_data;
  g_autoptr(GError) error = NULL;
  char *key = NULL;

  self->loading = FALSE;
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  gtk_spinner_set_spinning (self->spinner, FALSE);

  if (!imprint_client_generate_recovery_key_finish (IMPRINT_CLIENT (object), result, &key, &error))
    {
      g_autofree char *sentence = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      sentence = imprint_error_to_sentence (error);
      gtk_label_set_label (self->error_label, sentence);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      return;
    }

  set_key (self, key);
  show_key (self, key);
  imprint_wipe_free (key);
}

static void
imprint_recovery_page_shown (ImprintPage *page)
{
  ImprintRecoveryPage *self = IMPRINT_RECOVERY_PAGE (page);
  /* First-boot setup: the key is for the home folder (and an OEM disk). */
  if (imprint_page_get_setup_mode (page))
    gtk_label_set_label (self->intro_label,
                         _("If you forget your password or lose your security key, this key is the only "
                           "way into your home folder. Write it down, save it on another device or scan "
                           "the code. Do not keep it on this computer."));

  if (get_key (self) != NULL || self->loading)
    return;

  self->loading = TRUE;
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), TRUE);
  gtk_spinner_set_spinning (self->spinner, TRUE);
  imprint_client_generate_recovery_key_async (imprint_page_get_client (page), imprint_page_get_cancellable (page),
                                              generate_cb, g_object_ref (self));
}

static void
imprint_recovery_page_class_init (ImprintRecoveryPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);
  page_class->shown = imprint_recovery_page_shown;

  g_type_ensure (IMPRINT_TYPE_RECOVERY_KEY_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/recovery/imprint-recovery-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintRecoveryPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, ImprintRecoveryPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintRecoveryPage, key_view);
  gtk_widget_class_bind_template_child (widget_class, ImprintRecoveryPage, saved_check);
  gtk_widget_class_bind_template_child (widget_class, ImprintRecoveryPage, group_entry);
  gtk_widget_class_bind_template_child (widget_class, ImprintRecoveryPage, hint_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintRecoveryPage, intro_label);
  gtk_widget_class_bind_template_callback (widget_class, changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, saved_cb);
}

static void
imprint_recovery_page_init (ImprintRecoveryPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
