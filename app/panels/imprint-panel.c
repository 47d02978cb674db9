/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-notice.h"
#include "imprint-panel.h"
#include "imprint-window.h"

typedef struct
{
  ImprintClient *client;
  GCancellable  *cancellable;
  ImprintTopic   topic;
  GtkSpinner    *spinner;
  GtkWidget     *notice_box;
  GtkLabel      *notice_label;
  guint          busy;
} ImprintPanelPrivate;

G_DEFINE_TYPE_WITH_PRIVATE (ImprintPanel, imprint_panel, ADW_TYPE_APPLICATION_WINDOW)

#define PRIV(self) ((ImprintPanelPrivate *) imprint_panel_get_instance_private (IMPRINT_PANEL (self)))

void
imprint_panel_set_widgets (ImprintPanel *self,
                           ImprintTopic  topic,
                           GtkSpinner   *spinner,
                           GtkWidget    *notice_box,
                           GtkLabel     *notice_label)
{
  ImprintPanelPrivate *priv = PRIV (self);

  priv->topic = topic;
  priv->spinner = spinner;
  priv->notice_box = notice_box;
  priv->notice_label = notice_label;
}

ImprintClient *
imprint_panel_get_client (ImprintPanel *self)
{
  return PRIV (self)->client;
}

GCancellable *
imprint_panel_get_cancellable (ImprintPanel *self)
{
  return PRIV (self)->cancellable;
}

gboolean
imprint_panel_get_busy (ImprintPanel *self)
{
  return PRIV (self)->busy > 0;
}

void
imprint_panel_busy_push (ImprintPanel *self)
{
  ImprintPanelPrivate *priv = PRIV (self);

  if (priv->busy++ == 0 && priv->spinner != NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (priv->spinner), TRUE);
      gtk_spinner_start (priv->spinner);
    }
}

void
imprint_panel_busy_pop (ImprintPanel *self)
{
  ImprintPanelPrivate *priv = PRIV (self);

  g_return_if_fail (priv->busy > 0);
  if (--priv->busy == 0 && priv->spinner != NULL)
    {
      gtk_spinner_stop (priv->spinner);
      gtk_widget_set_visible (GTK_WIDGET (priv->spinner), FALSE);
    }
}

void
imprint_panel_show_error (ImprintPanel *self,
                          const char   *sentence)
{
  ImprintPanelPrivate *priv = PRIV (self);

  imprint_show_notice (priv->notice_box, priv->notice_label, sentence);
}

void
imprint_panel_show_gerror (ImprintPanel *self,
                           const GError *error)
{
  g_autofree char *sentence = imprint_error_to_sentence_for (error, PRIV (self)->topic);

  imprint_panel_show_error (self, sentence);
}

GCancellable *
imprint_panel_call_begin (ImprintPanel *self)
{
  imprint_panel_busy_push (self);
  return PRIV (self)->cancellable;
}

gboolean
imprint_panel_call_finish (gpointer       self,
                           GAsyncResult  *result,
                           gboolean      *ret_ok,
                           GVariant     **ret_reply)
{
  g_autoptr(GObject) client = g_async_result_get_source_object (result);
  g_autoptr(GError) error = NULL;
  GVariant *reply = NULL;
  gboolean ok;

  ok = imprint_client_panel_call_finish (IMPRINT_CLIENT (client), result, &reply, &error);
  /* Cancelled: the window is being destroyed, @self may be gone. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return FALSE;

  imprint_panel_busy_pop (self);
  if (!ok)
    imprint_panel_show_gerror (self, error);
  *ret_ok = ok;
  *ret_reply = reply;
  return TRUE;
}

static void
grab_focus_once_cb (GtkWidget *widget)
{
  g_signal_handlers_disconnect_by_func (widget, grab_focus_once_cb, NULL);
  gtk_widget_grab_focus (widget);
}

/* Keyboard users land on what comes next. A widget just made visible is
 * not mapped yet, and GTK 4.8 trips over focus given before that. */
void
imprint_panel_focus_when_mapped (GtkWidget *widget)
{
  if (gtk_widget_get_mapped (widget))
    gtk_widget_grab_focus (widget);
  else
    g_signal_connect (widget, "map", G_CALLBACK (grab_focus_once_cb), NULL);
}

/* ---- restart ------------------------------------------------------------ */

typedef struct {
  ImprintPanel *self;
  GtkWidget    *button;
  char         *failure;
} RestartData;

static void
restart_data_free (RestartData *d)
{
  g_free (d->failure);
  g_free (d);
}

static void
reboot_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  RestartData *d = user_data;
  g_autoptr(GError) error = NULL;

  if (!imprint_reboot_finish (result, &error) && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      gtk_widget_set_sensitive (d->button, TRUE);
      imprint_panel_show_error (d->self, d->failure);
    }
  restart_data_free (d);
}

void
imprint_panel_restart (ImprintPanel *self,
                       GtkWidget    *button,
                       const char   *failure)
{
  RestartData *d = g_new0 (RestartData, 1);

  d->self = self;
  d->button = button;
  d->failure = g_strdup (failure);
  gtk_widget_set_sensitive (button, FALSE);
  imprint_reboot_async (PRIV (self)->cancellable, reboot_cb, d);
}

/* ---- life cycle --------------------------------------------------------- */

static void
imprint_panel_dispose (GObject *object)
{
  ImprintPanelPrivate *priv = PRIV (object);

  /* Pending calls end as cancelled and leave the panel alone. */
  g_cancellable_cancel (priv->cancellable);
  g_clear_object (&priv->cancellable);
  g_clear_object (&priv->client);

  G_OBJECT_CLASS (imprint_panel_parent_class)->dispose (object);
}

static void
imprint_panel_class_init (ImprintPanelClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = imprint_panel_dispose;
}

static void
imprint_panel_init (ImprintPanel *self)
{
  ImprintPanelPrivate *priv = PRIV (self);

  imprint_window_ensure_style ();
  priv->cancellable = g_cancellable_new ();
  priv->client = imprint_client_new ();
}
