/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-commit-page.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_SETUP_SUMMARY_PAGE (imprint_setup_summary_page_get_type ())
G_DECLARE_FINAL_TYPE (ImprintSetupSummaryPage, imprint_setup_summary_page, IMPRINT, SETUP_SUMMARY_PAGE, ImprintCommitPage)

G_END_DECLS
