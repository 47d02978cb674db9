/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-page.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_RECOVERY_PAGE (imprint_recovery_page_get_type ())
G_DECLARE_FINAL_TYPE (ImprintRecoveryPage, imprint_recovery_page, IMPRINT, RECOVERY_PAGE, ImprintPage)

G_END_DECLS
