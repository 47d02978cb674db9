/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The screen reader: Orca, started and stopped by the app (the first
 * page's "Screen Reader" switch, app.screen-reader, Super+Alt+S). On a
 * live stick or in the first-boot kiosk nothing else would start it: no
 * desktop session is running yet. Orca runs as the app's child and goes
 * with it. */
#include "config.h"

#include <signal.h>
#include <sys/prctl.h>
#include <glib/gi18n.h>
#include <adwaita.h>

#include "imprint-screen-reader.h"

struct _ImprintScreenReader
{
  GObject       parent_instance;

  char         *orca;       /* its path, NULL: not installed */
  GSubprocess  *process;    /* running, NULL: off */
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (ImprintScreenReader, imprint_screen_reader, G_TYPE_OBJECT)

enum { PROP_0, PROP_AVAILABLE, PROP_ACTIVE, N_PROPS };
static GParamSpec *properties[N_PROPS];

gboolean
imprint_screen_reader_get_available (ImprintScreenReader *self)
{
  g_return_val_if_fail (IMPRINT_IS_SCREEN_READER (self), FALSE);
  return self->orca != NULL;
}

gboolean
imprint_screen_reader_get_active (ImprintScreenReader *self)
{
  g_return_val_if_fail (IMPRINT_IS_SCREEN_READER (self), FALSE);
  return self->process != NULL;
}

static void
wait_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  ImprintScreenReader *self = user_data;
  g_autoptr(GError) error = NULL;

  /* Cancelled: @self is gone. */
  if (!g_subprocess_wait_finish (G_SUBPROCESS (object), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  /* Orca quit (or crashed) by itself: the switch goes off. One that was
   * stopped from here is gone already. */
  if (self->process == G_SUBPROCESS (object))
    {
      g_clear_object (&self->process);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
    }
}

/* In the child, before exec: Orca gets SIGTERM when the app dies, even
 * killed or crashed, so no screen reader talks over what comes next. */
static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
start (ImprintScreenReader *self)
{
  const char *argv[] = { self->orca, "--replace", NULL };
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;

  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  self->process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  if (self->process == NULL)
    {
      g_warning ("Could not start the screen reader %s: %s", self->orca, error->message);
      return;
    }
  /* No reference: the reader going (dispose) cancels the wait and stops
   * Orca, rather than Orca keeping the reader. */
  g_subprocess_wait_async (self->process, self->cancellable, wait_cb, self);
}

static void
stop (ImprintScreenReader *self)
{
  g_autoptr(GSubprocess) process = g_steal_pointer (&self->process);

  /* SIGTERM: Orca says goodbye and leaves the accessibility bus cleanly.
   * GSubprocess reaps it. */
  g_subprocess_send_signal (process, SIGTERM);
}

/* Starts or stops Orca. Without Orca the screen reader stays off (a
 * switch turned on turns back off). */
void
imprint_screen_reader_set_active (ImprintScreenReader *self,
                                  gboolean             active)
{
  g_return_if_fail (IMPRINT_IS_SCREEN_READER (self));

  if (active && self->process == NULL && self->orca != NULL)
    start (self);
  else if (!active && self->process != NULL)
    stop (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
}

/* The app-wide stateful action ("screen-reader", boolean state: on/off). */
GAction *
imprint_screen_reader_create_action (ImprintScreenReader *self)
{
  g_return_val_if_fail (IMPRINT_IS_SCREEN_READER (self), NULL);
  return G_ACTION (g_property_action_new ("screen-reader", self, "active"));
}

static void
imprint_screen_reader_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  ImprintScreenReader *self = IMPRINT_SCREEN_READER (object);

  switch (prop_id)
    {
    case PROP_AVAILABLE:
      g_value_set_boolean (value, imprint_screen_reader_get_available (self));
      break;
    case PROP_ACTIVE:
      g_value_set_boolean (value, imprint_screen_reader_get_active (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imprint_screen_reader_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  if (prop_id == PROP_ACTIVE)
    imprint_screen_reader_set_active (IMPRINT_SCREEN_READER (object), g_value_get_boolean (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
imprint_screen_reader_dispose (GObject *object)
{
  ImprintScreenReader *self = IMPRINT_SCREEN_READER (object);

  g_cancellable_cancel (self->cancellable);
  if (self->process != NULL)
    stop (self);
  G_OBJECT_CLASS (imprint_screen_reader_parent_class)->dispose (object);
}

static void
imprint_screen_reader_finalize (GObject *object)
{
  ImprintScreenReader *self = IMPRINT_SCREEN_READER (object);

  g_clear_object (&self->cancellable);
  g_free (self->orca);
  G_OBJECT_CLASS (imprint_screen_reader_parent_class)->finalize (object);
}

static void
imprint_screen_reader_class_init (ImprintScreenReaderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = imprint_screen_reader_get_property;
  object_class->set_property = imprint_screen_reader_set_property;
  object_class->dispose = imprint_screen_reader_dispose;
  object_class->finalize = imprint_screen_reader_finalize;

  properties[PROP_AVAILABLE] = g_param_spec_boolean ("available", NULL, NULL, FALSE,
                                                     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ACTIVE] = g_param_spec_boolean ("active", NULL, NULL, FALSE,
                                                  G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                  G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
imprint_screen_reader_init (ImprintScreenReader *self)
{
  self->orca = g_find_program_in_path ("orca");
  self->cancellable = g_cancellable_new ();
}

/* Looks for Orca on PATH now. */
ImprintScreenReader *
imprint_screen_reader_new (void)
{
  return g_object_new (IMPRINT_TYPE_SCREEN_READER, NULL);
}

/* The app's one screen reader, shared by its windows and action. */
ImprintScreenReader *
imprint_screen_reader_get_default (void)
{
  static ImprintScreenReader *reader;

  if (reader == NULL)
    reader = imprint_screen_reader_new ();
  return reader;
}

/* ---- the "Screen Reader" row of the first pages ------------------------ */

/* Its words, again after a language change. */
void
imprint_screen_reader_row_translate (GtkWidget *row)
{
  ImprintScreenReader *self = g_object_get_data (G_OBJECT (row), "imprint-screen-reader");
  GtkWidget *list = gtk_widget_get_parent (row);

  g_return_if_fail (IMPRINT_IS_SCREEN_READER (self));

  /* The page's list of this one row, else read as its type's name. */
  if (GTK_IS_LIST_BOX (list))
    gtk_accessible_update_property (GTK_ACCESSIBLE (list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    _("Accessibility"), -1);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("_Screen Reader"));
  /* Not hidden when Orca is missing: a person looking for it learns why. */
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                               self->orca != NULL
                               ? _("Reads the screen aloud. Super+Alt+S turns it on or off anywhere.")
                               : _("Not available: the Orca screen reader is not installed."));
}

/* An AdwActionRow whose switch turns the screen reader on and off, in
 * step with app.screen-reader and Super+Alt+S (all three are the
 * reader's "active"), for a page's list. */
GtkWidget *
imprint_screen_reader_row_new (ImprintScreenReader *self)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *sw = gtk_switch_new ();

  g_return_val_if_fail (IMPRINT_IS_SCREEN_READER (self), NULL);

  g_object_set_data_full (G_OBJECT (row), "imprint-screen-reader", g_object_ref (self), g_object_unref);
  gtk_widget_set_valign (sw, GTK_ALIGN_CENTER);
  gtk_widget_set_sensitive (sw, self->orca != NULL);
  g_object_bind_property (self, "active", sw, "active", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), sw);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), sw);
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), TRUE);
  imprint_screen_reader_row_translate (row);
  return row;
}
