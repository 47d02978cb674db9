/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-hostname-page.h"
#include "imprint-names.h"
#include "imprint-util.h"

struct _ImprintHostnamePage
{
  ImprintPage  parent_instance;

  AdwEntryRow *pretty_row;
  AdwEntryRow *hostname_row;
  GtkLabel    *hint_label;

  gboolean     hostname_edited;   /* typed by the person: stop deriving it */
  gboolean     deriving;
};

G_DEFINE_FINAL_TYPE (ImprintHostnamePage, imprint_hostname_page, IMPRINT_TYPE_PAGE)

static void
update_complete (ImprintHostnamePage *self)
{
  const char *name = gtk_editable_get_text (GTK_EDITABLE (self->hostname_row));
  gboolean valid = imprint_hostname_is_valid (name);

  if (valid || *name == '\0')
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->hostname_row), "error");
      gtk_label_set_label (self->hint_label,
                           _("The network name is made from the computer name: letters a–z, "
                             "digits and dashes."));
    }
  else
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->hostname_row), "error");
      gtk_label_set_label (self->hint_label,
                           _("Use only letters a–z, digits and dashes, at most 63, "
                             "not starting or ending with a dash."));
    }
  imprint_page_set_complete (IMPRINT_PAGE (self), valid);
}

static void
pretty_changed_cb (ImprintHostnamePage *self)
{
  g_autofree char *derived = NULL;

  if (!self->hostname_edited)
    {
      derived = imprint_hostname_from_pretty (gtk_editable_get_text (GTK_EDITABLE (self->pretty_row)));
      self->deriving = TRUE;
      gtk_editable_set_text (GTK_EDITABLE (self->hostname_row), derived);
      self->deriving = FALSE;
    }
  update_complete (self);
}

static void
hostname_changed_cb (ImprintHostnamePage *self)
{
  if (!self->deriving)
    self->hostname_edited = *gtk_editable_get_text (GTK_EDITABLE (self->hostname_row)) != '\0';
  update_complete (self);
}

static void
activated_cb (ImprintHostnamePage *self)
{
  if (imprint_page_get_complete (IMPRINT_PAGE (self)))
    imprint_page_go_forward (IMPRINT_PAGE (self));
}

static gboolean
imprint_hostname_page_apply (ImprintPage  *page,
                             GCancellable *cancellable)
{
  ImprintHostnamePage *self = IMPRINT_HOSTNAME_PAGE (page);
  ImprintSetupChoices *setup = imprint_page_get_setup_choices (page);

  imprint_setup_choices_set_setting (setup, IMPRINT_KEY_HOSTNAME, gtk_editable_get_text (GTK_EDITABLE (self->hostname_row)));
  imprint_setup_choices_set_setting (setup, IMPRINT_KEY_PRETTY_HOSTNAME, gtk_editable_get_text (GTK_EDITABLE (self->pretty_row)));
  return FALSE;
}

static void
imprint_hostname_page_constructed (GObject *object)
{
  ImprintHostnamePage *self = IMPRINT_HOSTNAME_PAGE (object);
  ImprintSetupChoices *setup;
  const char *hostname, *pretty;

  G_OBJECT_CLASS (imprint_hostname_page_parent_class)->constructed (object);

  setup = imprint_page_get_setup_choices (IMPRINT_PAGE (self));
  hostname = imprint_setup_choices_get_setting (setup, IMPRINT_KEY_HOSTNAME);
  pretty = imprint_setup_choices_get_setting (setup, IMPRINT_KEY_PRETTY_HOSTNAME);
  /* A live session's own name is nobody's choice: start from scratch. */
  if (g_str_equal (hostname, "localhost") || g_str_equal (hostname, "live"))
    hostname = "";
  self->deriving = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->pretty_row), pretty);
  if (*hostname != '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->hostname_row), hostname);
  self->deriving = FALSE;
  /* A network name the image or an OEM prefilled is a default: typing a
   * computer name still derives it. It counts as chosen only when it is
   * not what the computer name gives (the person set it apart). */
  self->hostname_edited = FALSE;
  if (*hostname != '\0' && *pretty != '\0')
    {
      g_autofree char *derived = imprint_hostname_from_pretty (pretty);
      self->hostname_edited = g_strcmp0 (derived, hostname) != 0;
    }
  update_complete (self);
}

static void
imprint_hostname_page_class_init (ImprintHostnamePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);

  object_class->constructed = imprint_hostname_page_constructed;
  page_class->apply = imprint_hostname_page_apply;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/hostname/imprint-hostname-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintHostnamePage, pretty_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintHostnamePage, hostname_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintHostnamePage, hint_label);
  gtk_widget_class_bind_template_callback (widget_class, pretty_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, hostname_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, activated_cb);
}

static void
imprint_hostname_page_init (ImprintHostnamePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
