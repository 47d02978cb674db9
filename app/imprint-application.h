/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define IMPRINT_APP_ID "dev.imprint.Imprint"

#define IMPRINT_TYPE_APPLICATION (imprint_application_get_type ())
G_DECLARE_FINAL_TYPE (ImprintApplication, imprint_application, IMPRINT, APPLICATION, AdwApplication)

ImprintApplication *imprint_application_new (void);

G_END_DECLS
