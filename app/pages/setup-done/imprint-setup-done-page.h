/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-page.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_SETUP_DONE_PAGE (imprint_setup_done_page_get_type ())
G_DECLARE_FINAL_TYPE (ImprintSetupDonePage, imprint_setup_done_page, IMPRINT, SETUP_DONE_PAGE, ImprintPage)

G_END_DECLS
