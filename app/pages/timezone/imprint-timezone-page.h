/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-page.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_TIMEZONE_PAGE (imprint_timezone_page_get_type ())
G_DECLARE_FINAL_TYPE (ImprintTimezonePage, imprint_timezone_page, IMPRINT, TIMEZONE_PAGE, ImprintPage)

G_END_DECLS
