/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gtk/gtk.h>
#include <adwaita.h>

G_BEGIN_DECLS

#define TIMEOUT_MS 20000

typedef gboolean (*Condition) (gpointer data);

gboolean   ui_test_init        (int        *argc,
                                char     ***argv);

/* Main loop */
void       settle              (guint       ms);
gboolean   wait_for_ms         (Condition   cond,
                                gpointer    data,
                                const char *what,
                                guint       timeout_ms);
gboolean   wait_for            (Condition   cond,
                                gpointer    data,
                                const char *what);

/* Widgets */
GtkWidget *child               (gpointer    widget,
                                GType       type,
                                const char *name);
void       collect             (GtkWidget  *w,
                                GType       type,
                                GPtrArray  *out);
gboolean   has_accessible_name (GtkWidget  *w);
/* Fails the test for each visible, sensitive control without a name. */
void       check_names         (GtkWidget  *w,
                                const char *page);
gboolean   focus_within        (GtkWindow  *window,
                                GtkWidget  *widget);
gboolean   tab_reaches         (GtkWindow  *window,
                                GtkWidget  *target);
void       assert_reachable    (GtkWindow  *window,
                                GtkWidget  *target,
                                const char *what);

/* Screenshots */
void       save_png            (GtkWindow  *window,
                                const char *dir,
                                const char *name);

G_END_DECLS
