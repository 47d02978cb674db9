/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void imprint_show_notice (GtkWidget  *box,
                          GtkLabel   *label,
                          const char *sentence);

G_END_DECLS
