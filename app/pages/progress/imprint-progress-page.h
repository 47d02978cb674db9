/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-page.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_PROGRESS_PAGE (imprint_progress_page_get_type ())
G_DECLARE_FINAL_TYPE (ImprintProgressPage, imprint_progress_page, IMPRINT, PROGRESS_PAGE, ImprintPage)

G_END_DECLS
