/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-page.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_SECURITY_PAGE (imprint_security_page_get_type ())
G_DECLARE_FINAL_TYPE (ImprintSecurityPage, imprint_security_page, IMPRINT, SECURITY_PAGE, ImprintPage)

G_END_DECLS
