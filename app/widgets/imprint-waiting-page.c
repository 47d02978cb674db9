/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <adwaita.h>

#include "imprint-waiting-page.h"

/* What stands where pages go while an answer they need is on its way: a
 * status page with @title and a spinning spinner that a screen reader
 * reads as @spinner_label. It fills the same place as the page after it,
 * so nothing moves when it is replaced. */
GtkWidget *
imprint_waiting_page_new (const char *title,
                          const char *spinner_label)
{
  GtkWidget *page = adw_status_page_new ();
  GtkWidget *spinner = gtk_spinner_new ();

  gtk_widget_set_size_request (spinner, 32, 32);
  gtk_widget_set_halign (spinner, GTK_ALIGN_CENTER);
  gtk_spinner_start (GTK_SPINNER (spinner));
  gtk_accessible_update_property (GTK_ACCESSIBLE (spinner),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, spinner_label,
                                  -1);
  gtk_widget_set_vexpand (page, TRUE);
  adw_status_page_set_title (ADW_STATUS_PAGE (page), title);
  adw_status_page_set_child (ADW_STATUS_PAGE (page), spinner);
  return page;
}
