/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Shows a recovery key in groups, in a monospace face, with Copy, Save to
 * File and a QR code. Used by the installer, first-boot setup and the
 * settings panels. */
#define IMPRINT_TYPE_RECOVERY_KEY_VIEW (imprint_recovery_key_view_get_type ())
G_DECLARE_FINAL_TYPE (ImprintRecoveryKeyView, imprint_recovery_key_view, IMPRINT, RECOVERY_KEY_VIEW, GtkWidget)

GtkWidget  *imprint_recovery_key_view_new     (void);
void        imprint_recovery_key_view_set_key (ImprintRecoveryKeyView *self,
                                               const char             *key);
gboolean    imprint_recovery_key_view_get_saved (ImprintRecoveryKeyView *self);

G_END_DECLS
