/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-page.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_WELCOME_PAGE (imprint_welcome_page_get_type ())
G_DECLARE_FINAL_TYPE (ImprintWelcomePage, imprint_welcome_page, IMPRINT, WELCOME_PAGE, ImprintPage)

G_END_DECLS
