/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-commit-page.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_SUMMARY_PAGE (imprint_summary_page_get_type ())
G_DECLARE_FINAL_TYPE (ImprintSummaryPage, imprint_summary_page, IMPRINT, SUMMARY_PAGE, ImprintCommitPage)

G_END_DECLS
