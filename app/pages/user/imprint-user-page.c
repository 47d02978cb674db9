/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <pwd.h>
#include <glib/gi18n.h>

#include "imprint-names.h"
#include "imprint-strength-meter.h"
#include "imprint-user-page.h"
#include "imprint-util.h"

struct _ImprintUserPage
{
  ImprintPage           parent_instance;

  AdwEntryRow          *real_row;
  AdwEntryRow          *user_row;
  AdwEntryRow          *password_row;
  AdwEntryRow          *confirm_row;
  ImprintStrengthMeter *meter;
  GtkLabel             *hint_label;
  GtkWidget            *fido2_row;
  GtkSwitch            *fido2_switch;
  GtkSwitch            *autologin_switch;
  gboolean              user_edited;   /* typed by the person: stop deriving it */
  gboolean              deriving;
};

G_DEFINE_FINAL_TYPE (ImprintUserPage, imprint_user_page, IMPRINT_TYPE_PAGE)

static const char *
text_of (AdwEntryRow *row)
{
  return gtk_editable_get_text (GTK_EDITABLE (row));
}

/* Why the page cannot go on yet, NULL when it can. */
static const char *
problem (ImprintUserPage *self)
{
  ImprintSetupChoices *setup = imprint_page_get_setup_choices (IMPRINT_PAGE (self));
  const char *name = text_of (self->user_row);
  const char *password = text_of (self->password_row);
  const char *confirm = text_of (self->confirm_row);
  const char *name_problem = imprint_user_name_problem (name);

  if (*text_of (self->real_row) == '\0' && *name == '\0')
    return _("Enter your name.");
  if (name_problem != NULL)
    return name_problem;
  /* On the running system a name already in use would clash; an installed
   * system's users are checked by imprintd. */
  if (g_strcmp0 (imprint_setup_choices_get_target (setup), "") == 0 && getpwnam (name) != NULL &&
      !imprint_setup_choices_decided (setup, IMPRINT_KEY_USER))
    return _("That user name is already taken.");
  if (*password == '\0')
    return _("Choose a password.");
  if (!g_str_equal (password, confirm))
    return *confirm == '\0' ? _("Type the password again to confirm it.")
                            : _("The passwords do not match.");
  if (!imprint_strength_meter_get_acceptable (self->meter))
    return "";
  return NULL;
}

static void
changed_cb (ImprintUserPage *self)
{
  const char *why;

  /* Template signals may fire before the choices are set. */
  if (imprint_page_get_setup_choices (IMPRINT_PAGE (self)) == NULL)
    return;
  why = problem (self);
  gtk_label_set_label (self->hint_label, why ? why : "");
  gtk_widget_set_visible (GTK_WIDGET (self->hint_label), why != NULL && *why != '\0');
  if (g_str_equal (text_of (self->password_row), text_of (self->confirm_row)) ||
      *text_of (self->confirm_row) == '\0')
    gtk_widget_remove_css_class (GTK_WIDGET (self->confirm_row), "error");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->confirm_row), "error");
  imprint_page_set_complete (IMPRINT_PAGE (self), why == NULL);
}

static void
real_changed_cb (ImprintUserPage *self)
{
  if (!self->user_edited && gtk_widget_get_sensitive (GTK_WIDGET (self->user_row)))
    {
      g_autofree char *derived = imprint_user_name_from_real_name (text_of (self->real_row));

      self->deriving = TRUE;
      gtk_editable_set_text (GTK_EDITABLE (self->user_row), derived);
      self->deriving = FALSE;
    }
  changed_cb (self);
}

static void
user_changed_cb (ImprintUserPage *self)
{
  if (!self->deriving)
    self->user_edited = *text_of (self->user_row) != '\0';
  changed_cb (self);
}

static void
password_changed_cb (ImprintUserPage *self)
{
  imprint_strength_meter_rate (self->meter, imprint_page_get_client (IMPRINT_PAGE (self)),
                               text_of (self->password_row));
  changed_cb (self);
}

static void
activated_cb (ImprintUserPage *self)
{
  if (imprint_page_get_complete (IMPRINT_PAGE (self)))
    imprint_page_go_forward (IMPRINT_PAGE (self));
}

static gboolean
imprint_user_page_apply (ImprintPage  *page,
                         GCancellable *cancellable)
{
  ImprintUserPage *self = IMPRINT_USER_PAGE (page);

  imprint_setup_choices_set_user (imprint_page_get_setup_choices (page),
                           text_of (self->user_row), text_of (self->real_row),
                           text_of (self->password_row),
                           gtk_widget_get_visible (self->fido2_row) && gtk_switch_get_active (self->fido2_switch),
                           gtk_switch_get_active (self->autologin_switch));
  return FALSE;
}

static void
capabilities_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(ImprintUserPage) self = user_data;
  g_autoptr(GVariant) caps = NULL;
  g_autoptr(GVariant) keys = NULL;

  /* Without an answer there is simply no security key to offer. */
  if (!imprint_client_get_security_capabilities_finish (IMPRINT_CLIENT (object), result, &caps, NULL))
    return;
  keys = g_variant_lookup_value (caps, IMPRINT_KEY_FIDO2, G_VARIANT_TYPE ("aa{sv}"));
  gtk_widget_set_visible (self->fido2_row, keys != NULL && g_variant_n_children (keys) > 0);
}

static void
imprint_user_page_constructed (GObject *object)
{
  ImprintUserPage *self = IMPRINT_USER_PAGE (object);
  ImprintPage *page = IMPRINT_PAGE (self);
  ImprintSetupChoices *setup;

  G_OBJECT_CLASS (imprint_user_page_parent_class)->constructed (object);

  setup = imprint_page_get_setup_choices (page);
  gtk_editable_set_text (GTK_EDITABLE (self->real_row), imprint_setup_choices_get_real_name (setup));
  if (*imprint_setup_choices_get_user_name (setup) != '\0')
    {
      gtk_editable_set_text (GTK_EDITABLE (self->user_row), imprint_setup_choices_get_user_name (setup));
      self->user_edited = TRUE;
    }
  /* The OEM named the account: only the password is asked. */
  if (imprint_setup_choices_decided (setup, IMPRINT_KEY_USER))
    {
      gtk_widget_set_sensitive (GTK_WIDGET (self->real_row), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->user_row), FALSE);
    }
  gtk_switch_set_active (self->autologin_switch, imprint_setup_choices_get_auto_login (setup));
  changed_cb (self);

  imprint_client_get_security_capabilities_async (imprint_page_get_client (page),
                                                  imprint_install_choices_build_security_options (imprint_page_get_install_choices (page)),
                                                  imprint_page_get_cancellable (page), capabilities_cb, g_object_ref (self));
}

static void
imprint_user_page_class_init (ImprintUserPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);

  object_class->constructed = imprint_user_page_constructed;
  page_class->apply = imprint_user_page_apply;

  g_type_ensure (IMPRINT_TYPE_STRENGTH_METER);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/user/imprint-user-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintUserPage, real_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintUserPage, user_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintUserPage, password_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintUserPage, confirm_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintUserPage, meter);
  gtk_widget_class_bind_template_child (widget_class, ImprintUserPage, hint_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintUserPage, fido2_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintUserPage, fido2_switch);
  gtk_widget_class_bind_template_child (widget_class, ImprintUserPage, autologin_switch);
  gtk_widget_class_bind_template_callback (widget_class, changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, real_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, user_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, password_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, activated_cb);
}

static void
imprint_user_page_init (ImprintUserPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
