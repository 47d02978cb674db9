/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* `imprint --heal-check` (imprint-heal-check.c): at login, one notification
 * per boot when the disk needed its recovery key at this start; its action
 * "app.show-panel" opens the System Update panel. The application runs
 * under the panel's id (dev.imprint.Imprint.Update). */
void           imprint_heal_check_start            (GApplication *app);
/* Opens the System Update panel in @app (the notification's action, or a
 * second `imprint --panel=update` while the check runs). */
void           imprint_heal_check_show_panel       (GApplication *app);

/* For tests: whether a GetUnlockStatus answer calls for the notification,
 * and the notification itself. */
gboolean       imprint_heal_check_wanted           (GVariant     *status);
GNotification *imprint_heal_check_notification_new (GVariant     *status);

G_END_DECLS
