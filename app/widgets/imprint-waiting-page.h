/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

GtkWidget *imprint_waiting_page_new (const char *title,
                                     const char *spinner_label);

G_END_DECLS
