/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <adwaita.h>

#include "update/imprint-heal-group.h"

G_BEGIN_DECLS

/* The System Update settings panel (`imprint --panel=update`): running and
 * other slot's version, Check for Updates, Update with progress and
 * Cancel, Restart to Finish, the automatic updates switch; on top, when
 * the disk needed its recovery key at this start, "Unlock Automatically
 * Again" (imprint-heal-group.h). */
#define IMPRINT_TYPE_UPDATE_PANEL (imprint_update_panel_get_type ())
G_DECLARE_FINAL_TYPE (ImprintUpdatePanel, imprint_update_panel, IMPRINT, UPDATE_PANEL, AdwApplicationWindow)

GtkWidget *imprint_update_panel_new (GtkApplication *app);
ImprintHealGroup *imprint_update_panel_get_heal_group (ImprintUpdatePanel *self);

G_END_DECLS
