/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-page.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_USER_PAGE (imprint_user_page_get_type ())
G_DECLARE_FINAL_TYPE (ImprintUserPage, imprint_user_page, IMPRINT, USER_PAGE, ImprintPage)

G_END_DECLS
