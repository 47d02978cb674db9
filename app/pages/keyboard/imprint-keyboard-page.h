/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-page.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_KEYBOARD_PAGE (imprint_keyboard_page_get_type ())
G_DECLARE_FINAL_TYPE (ImprintKeyboardPage, imprint_keyboard_page, IMPRINT, KEYBOARD_PAGE, ImprintPage)

G_END_DECLS
