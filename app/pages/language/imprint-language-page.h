/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-page.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_LANGUAGE_PAGE (imprint_language_page_get_type ())
G_DECLARE_FINAL_TYPE (ImprintLanguagePage, imprint_language_page, IMPRINT, LANGUAGE_PAGE, ImprintPage)

G_END_DECLS
