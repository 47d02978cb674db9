/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* First-boot setup's window before GetSetupDefaults answered (issue 18,
 * "the window first"). */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-waiting-page.h"
#include "imprint-window-private.h"

static void
setup_defaults_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(ImprintWindow) self = user_data;
  g_autoptr(GVariant) defaults = NULL;
  g_autoptr(GError) error = NULL;

  if (!imprint_client_get_setup_defaults_finish (IMPRINT_CLIENT (object), result, &defaults, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* The pages still work without prefilled values; the error is in
       * the log the done page can save. */
      imprint_client_append_log (self->client, error->message);
    }
  else
    imprint_setup_choices_set_defaults (self->setup, defaults);

  adw_leaflet_remove (self->leaflet, self->placeholder);
  self->placeholder = NULL;
  imprint_window_show_first_page (self);
}

/* First-boot setup of @setup's target: the window shows at once with a
 * placeholder ("Getting ready…", a spinner) where the pages go, asks
 * imprintd for GetSetupDefaults, and puts the first page not decided by
 * the OEM in its place when the answer (or an error) is in. */
ImprintWindow *
imprint_window_new_setup (ImprintApplication    *app,
                          ImprintClient         *client,
                          ImprintInstallChoices *install,
                          ImprintSetupChoices   *setup)
{
  ImprintWindow *self = imprint_window_new_empty (app, client, install, setup);

  if (self == NULL)
    return NULL;
  self->placeholder = imprint_waiting_page_new (_("Getting Ready…"), _("Looking up this computer’s settings"));
  adw_leaflet_append (self->leaflet, self->placeholder);
  adw_window_title_set_title (self->window_title, _("Getting Ready…"));
  gtk_widget_set_visible (GTK_WIDGET (self->back_button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->next_button), FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.back", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.next", FALSE);
  imprint_client_get_setup_defaults_async (client, imprint_setup_choices_get_target (setup), self->cancellable,
                                           setup_defaults_cb, g_object_ref (self));
  return self;
}
