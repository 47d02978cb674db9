/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <adwaita.h>

#include "imprint-application.h"
#include "imprint-page.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_WINDOW (imprint_window_get_type ())
G_DECLARE_FINAL_TYPE (ImprintWindow, imprint_window, IMPRINT, WINDOW, AdwApplicationWindow)

/* The pages get @client and both choice objects; @setup's target says
 * whether they are the installer's or first-boot setup's. */
ImprintWindow *imprint_window_new              (ImprintApplication    *app,
                                                ImprintClient         *client,
                                                ImprintInstallChoices *install,
                                                ImprintSetupChoices   *setup);
/* First-boot setup of @setup's target, shown before imprintd answered
 * GetSetupDefaults (imprint-window-setup.c). */
ImprintWindow *imprint_window_new_setup        (ImprintApplication    *app,
                                                ImprintClient         *client,
                                                ImprintInstallChoices *install,
                                                ImprintSetupChoices   *setup);
ImprintClient *imprint_window_get_client       (ImprintWindow      *self);
ImprintInstallChoices *imprint_window_get_install_choices (ImprintWindow *self);
ImprintSetupChoices   *imprint_window_get_setup_choices   (ImprintWindow *self);
ImprintPage   *imprint_window_get_current_page (ImprintWindow      *self);
ImprintPage   *imprint_window_get_page         (ImprintWindow      *self,
                                                const char         *id);
void           imprint_window_set_language     (ImprintWindow      *self,
                                                const char         *locale);
/* The app's style and icons, for any window of it (panels too). */
void           imprint_window_ensure_style     (void);

/* Full screen without the window's own buttons (first-boot kiosk). */
void           imprint_window_set_kiosk        (ImprintWindow      *self);

void           imprint_window_start_setup      (ImprintWindow      *self,
                                                const char         *target,
                                                GVariant           *defaults);

G_END_DECLS
