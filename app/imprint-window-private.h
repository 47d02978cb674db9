/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-window.h"

G_BEGIN_DECLS

struct _ImprintWindow
{
  AdwApplicationWindow  parent_instance;

  AdwHeaderBar         *header_bar;
  AdwWindowTitle       *window_title;
  GtkButton            *back_button;
  GtkButton            *next_button;
  GtkSpinner           *spinner;
  AdwLeaflet           *leaflet;

  ImprintClient        *client;
  ImprintInstallChoices *install;
  ImprintSetupChoices  *setup;
  GPtrArray            *pages;          /* ImprintPage, in table order */
  guint                 current;
  guint                 build_source;   /* builds the pages not built yet */
  GtkWidget            *placeholder;    /* while setup's defaults are asked */
  GCancellable         *cancellable;
};

/* The window without pages yet; imprint_window_show_first_page() builds
 * the pages up to the first one shown and shows it. */
ImprintWindow *imprint_window_new_empty       (ImprintApplication    *app,
                                               ImprintClient         *client,
                                               ImprintInstallChoices *install,
                                               ImprintSetupChoices   *setup);
void           imprint_window_show_first_page (ImprintWindow         *self);

G_END_DECLS
