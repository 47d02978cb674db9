/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gtk/gtk.h>
#include <adwaita.h>

#include "imprint-window.h"

#define TIMEOUT_MS 20000

/* Where save_png() writes (IMPRINT_SCREENSHOT_DIR), NULL: nowhere. */
extern const char *shot_dir;

typedef gboolean (*Condition) (gpointer data);

gboolean timeout_cb (gpointer data);
void settle (guint ms);
gboolean wait_for_ms (Condition cond, gpointer data, const char *what, guint timeout_ms);
gboolean wait_for (Condition cond, gpointer data, const char *what);
/* The window's page @page_id in view (returned), complete; @widget
 * sensitive; "Next". Each asserts, after TIMEOUT_MS. */
ImprintPage * wait_for_page (ImprintWindow *window, const char *page_id);
void wait_for_page_complete (ImprintWindow *window, const char *page_id);
void wait_for_sensitive (GtkWidget *widget, const char *what);
void go_next (ImprintWindow *window);
GtkWidget * child (gpointer page, GType type, const char *name);
void collect (GtkWidget *w, GType type, GPtrArray *out);
gboolean has_label_text (GtkWidget *w);
gboolean has_accessible_name (GtkWidget *w);
gboolean is_interactive (GtkWidget *w);
void check_names (GtkWidget *w, const char *page);
gboolean focus_within (GtkWindow *window, GtkWidget *widget);
gboolean tab_reaches (GtkWindow *window, GtkWidget *target);
void assert_reachable (GtkWindow *window, GtkWidget *target, const char *what);
void assert_screen_reader_row (GtkWindow *window, GtkWidget *page);
void save_png (GtkWindow *window, const char *name);
/* With IMPRINT_SCREENSHOT_DIR: NAME.png and NAME-dark.png, once settled. */
void save_png_light_dark (GtkWindow *window, const char *name);
char * confirm_recovery_key (ImprintWindow *window, ImprintPage *page);
gboolean ui_test_init (int *argc, char ***argv);
/* A method of imprintd-standin.py's test interface (dev.imprint.Test). */
void test_call (const char *method, GVariant *params);
