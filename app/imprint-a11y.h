/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void imprint_a11y_name_icon_buttons (GtkWidget  *root);
void imprint_a11y_announce          (GtkWidget  *widget,
                                     const char *text,
                                     gboolean    urgent);

void imprint_a11y_announce_outcome  (GtkWidget  *focus,
                                     GtkWidget  *status_page,
                                     GtkLabel   *error_label);

void imprint_a11y_tab_leaves_list   (GtkListBox *list);

G_END_DECLS
