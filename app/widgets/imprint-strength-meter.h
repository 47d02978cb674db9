/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <adwaita.h>

#include "imprint-client.h"

G_BEGIN_DECLS

/* A level bar and libpwquality's sentence for a password, rated by
 * imprintd's CheckPassphrase a moment after the typing stops. "acceptable"
 * is TRUE once the current text is rated and not refused (or could not be
 * rated: imprintd checks again when it applies). */
#define IMPRINT_TYPE_STRENGTH_METER (imprint_strength_meter_get_type ())
G_DECLARE_FINAL_TYPE (ImprintStrengthMeter, imprint_strength_meter, IMPRINT, STRENGTH_METER, GtkWidget)

GtkWidget *imprint_strength_meter_new            (void);
void       imprint_strength_meter_rate           (ImprintStrengthMeter *self,
                                                  ImprintClient        *client,
                                                  const char           *text);
gboolean   imprint_strength_meter_get_acceptable (ImprintStrengthMeter *self);
gboolean   imprint_strength_meter_get_refused    (ImprintStrengthMeter *self);
const char *imprint_strength_meter_get_message   (ImprintStrengthMeter *self);
void       imprint_strength_meter_set_label      (ImprintStrengthMeter *self,
                                                  const char           *label);

G_END_DECLS
