/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* The Reset settings panel (`imprint --panel=reset`): what a factory reset
 * erases and what stays (from the installed repart.d), a typed
 * confirmation, "also clear the TPM", the request, and a pending request's
 * Cancel and Restart Now. */
#define IMPRINT_TYPE_RESET_PANEL (imprint_reset_panel_get_type ())
G_DECLARE_FINAL_TYPE (ImprintResetPanel, imprint_reset_panel, IMPRINT, RESET_PANEL, AdwApplicationWindow)

GtkWidget  *imprint_reset_panel_new                 (GtkApplication *app);
/* The word to type to confirm (translated). */
const char *imprint_reset_panel_get_confirm_word    (void);

G_END_DECLS
