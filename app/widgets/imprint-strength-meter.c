/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-strength-meter.h"
#include "imprint-util.h"

struct _ImprintStrengthMeter
{
  GtkWidget      parent_instance;

  GtkLevelBar   *bar;
  GtkLabel      *label;

  ImprintClient *client;
  char          *text;          /* secret */
  guint          timeout;
  GCancellable  *cancellable;
  gboolean       acceptable;
  gboolean       refused;       /* rated, and libpwquality said no */
};

G_DEFINE_FINAL_TYPE (ImprintStrengthMeter, imprint_strength_meter, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ACCEPTABLE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_acceptable (ImprintStrengthMeter *self,
                gboolean              acceptable)
{
  if (self->acceptable == acceptable)
    return;
  self->acceptable = acceptable;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACCEPTABLE]);
}

static void
rated_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(ImprintStrengthMeter) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *answer = NULL;
  const char *message;
  int score;

  if (!imprint_client_check_passphrase_finish (IMPRINT_CLIENT (object), result, &score, &answer, &error))
    {
      g_autofree char *sentence = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      sentence = imprint_error_to_sentence (error);
      gtk_label_set_label (self->label, sentence);
      set_acceptable (self, TRUE);
      return;
    }

  message = answer;
  gtk_level_bar_set_value (self->bar, MAX (score, 0));
  if (*message == '\0')
    {
      if (score < 0)
        message = _("Too easy to guess");
      else if (score < 40)
        message = _("Weak");
      else if (score < 70)
        message = _("Fair");
      else
        message = _("Strong");
    }
  gtk_label_set_label (self->label, message);
  self->refused = score < 0;
  set_acceptable (self, score >= 0);
}

static gboolean
rate_timeout_cb (gpointer user_data)
{
  ImprintStrengthMeter *self = user_data;

  self->timeout = 0;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  imprint_client_check_passphrase_async (self->client, self->text, self->cancellable,
                                         rated_cb, g_object_ref (self));
  return G_SOURCE_REMOVE;
}

void
imprint_strength_meter_rate (ImprintStrengthMeter *self,
                             ImprintClient        *client,
                             const char           *text)
{
  g_return_if_fail (IMPRINT_IS_STRENGTH_METER (self));

  g_set_object (&self->client, client);
  imprint_wipe_free (self->text);
  self->text = g_strdup (text);
  g_clear_handle_id (&self->timeout, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  self->refused = FALSE;
  set_acceptable (self, FALSE);

  if (*text == '\0')
    {
      gtk_level_bar_set_value (self->bar, 0);
      gtk_label_set_label (self->label, "");
      return;
    }
  /* After a short pause in typing, not at every key. */
  self->timeout = g_timeout_add (250, rate_timeout_cb, self);
}

gboolean
imprint_strength_meter_get_acceptable (ImprintStrengthMeter *self)
{
  return self->acceptable;
}

gboolean
imprint_strength_meter_get_refused (ImprintStrengthMeter *self)
{
  return self->refused;
}

const char *
imprint_strength_meter_get_message (ImprintStrengthMeter *self)
{
  return gtk_label_get_label (self->label);
}

/* "Password strength", "Passphrase strength": what a screen reader says. */
void
imprint_strength_meter_set_label (ImprintStrengthMeter *self,
                                  const char           *label)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->bar), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
}

static void
imprint_strength_meter_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  ImprintStrengthMeter *self = IMPRINT_STRENGTH_METER (object);

  switch (prop_id)
    {
    case PROP_ACCEPTABLE:
      g_value_set_boolean (value, self->acceptable);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imprint_strength_meter_dispose (GObject *object)
{
  ImprintStrengthMeter *self = IMPRINT_STRENGTH_METER (object);
  GtkWidget *child;

  g_clear_handle_id (&self->timeout, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (imprint_strength_meter_parent_class)->dispose (object);
}

static void
imprint_strength_meter_finalize (GObject *object)
{
  ImprintStrengthMeter *self = IMPRINT_STRENGTH_METER (object);

  imprint_wipe_free (self->text);

  G_OBJECT_CLASS (imprint_strength_meter_parent_class)->finalize (object);
}

static void
imprint_strength_meter_class_init (ImprintStrengthMeterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = imprint_strength_meter_get_property;
  object_class->dispose = imprint_strength_meter_dispose;
  object_class->finalize = imprint_strength_meter_finalize;

  properties[PROP_ACCEPTABLE] =
    g_param_spec_boolean ("acceptable", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
}

static void
imprint_strength_meter_init (ImprintStrengthMeter *self)
{
  GtkLayoutManager *layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));

  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 6);

  self->bar = GTK_LEVEL_BAR (gtk_level_bar_new_for_interval (0, 100));
  /* Coloured by style.css (.strength-bar). */
  gtk_level_bar_add_offset_value (self->bar, "low", 40);
  gtk_level_bar_add_offset_value (self->bar, "medium", 70);
  gtk_level_bar_add_offset_value (self->bar, "high", 100);
  gtk_widget_add_css_class (GTK_WIDGET (self->bar), "strength-bar");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->bar), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Password strength"), -1);
  gtk_widget_set_parent (GTK_WIDGET (self->bar), GTK_WIDGET (self));

  self->label = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_wrap (self->label, TRUE);
  gtk_label_set_xalign (self->label, 0);
  gtk_widget_add_css_class (GTK_WIDGET (self->label), "caption");
  gtk_widget_set_parent (GTK_WIDGET (self->label), GTK_WIDGET (self));
}

GtkWidget *
imprint_strength_meter_new (void)
{
  return g_object_new (IMPRINT_TYPE_STRENGTH_METER, NULL);
}
