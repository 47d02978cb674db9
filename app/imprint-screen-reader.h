/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* GNOME's shortcut for the screen reader, also the app's. */
#define IMPRINT_SCREEN_READER_ACCEL "<Super><Alt>s"

#define IMPRINT_TYPE_SCREEN_READER (imprint_screen_reader_get_type ())
G_DECLARE_FINAL_TYPE (ImprintScreenReader, imprint_screen_reader, IMPRINT, SCREEN_READER, GObject)

ImprintScreenReader *imprint_screen_reader_new         (void);
ImprintScreenReader *imprint_screen_reader_get_default (void);
gboolean             imprint_screen_reader_get_available (ImprintScreenReader *self);
gboolean             imprint_screen_reader_get_active  (ImprintScreenReader *self);
void                 imprint_screen_reader_set_active  (ImprintScreenReader *self,
                                                        gboolean             active);
GAction *            imprint_screen_reader_create_action (ImprintScreenReader *self);

GtkWidget *          imprint_screen_reader_row_new     (ImprintScreenReader *self);
void                 imprint_screen_reader_row_translate (GtkWidget         *row);

G_END_DECLS
