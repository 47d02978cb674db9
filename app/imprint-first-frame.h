/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef void (*ImprintFirstFrameFunc) (GtkWidget *widget);

void imprint_after_first_frame (GtkWidget             *widget,
                                ImprintFirstFrameFunc  func);

G_END_DECLS
