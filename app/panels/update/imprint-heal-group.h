/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <adwaita.h>

#include "imprint-panel.h"

G_BEGIN_DECLS

/* The System Update panel's "The disk needed its recovery key at the last
 * start" group: GetUnlockStatus says so (and why), the person types the
 * recovery key or a passphrase, "Unlock Automatically Again" re-seals the
 * TPM2 key through Enroll (device, "tpm2", {"unlock-passphrase"}). Hidden
 * whenever there is nothing to heal (or imprintd cannot say). */
#define IMPRINT_TYPE_HEAL_GROUP (imprint_heal_group_get_type ())
G_DECLARE_FINAL_TYPE (ImprintHealGroup, imprint_heal_group, IMPRINT, HEAL_GROUP, AdwPreferencesGroup)

/* Calls go through @panel's client and cancellable; asks for the status. */
void        imprint_heal_group_attach          (ImprintHealGroup *self,
                                                ImprintPanel     *panel);
/* A GetUnlockStatus answer (a{sv}): shows or hides the group. */
void        imprint_heal_group_set_status      (ImprintHealGroup *self,
                                                GVariant         *status);
/* The TPM to seal to ("--tpm2-device"); NULL: imprintd finds it. */
void        imprint_heal_group_set_tpm2_device (ImprintHealGroup *self,
                                                const char       *device);

/* The sentence for a GetUnlockStatus "reason" (translated). */
const char *imprint_heal_reason_sentence       (const char       *reason);

G_END_DECLS
