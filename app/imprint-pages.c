/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "imprint-pages.h"
#include "welcome/imprint-welcome-page.h"
#include "disk/imprint-disk-page.h"
#include "security/imprint-security-page.h"
#include "recovery/imprint-recovery-page.h"
#include "summary/imprint-summary-page.h"
#include "progress/imprint-progress-page.h"
#include "done/imprint-done-page.h"

static const ImprintPageEntry installer_pages[] = {
  { "welcome",  imprint_welcome_page_get_type },
  { "disk",     imprint_disk_page_get_type },
  { "security", imprint_security_page_get_type },
  { "recovery", imprint_recovery_page_get_type },
  { "summary",  imprint_summary_page_get_type },
  { "progress", imprint_progress_page_get_type },
  { "done",     imprint_done_page_get_type },
};

const ImprintPageEntry *
imprint_pages_installer (guint *n_pages)
{
  *n_pages = G_N_ELEMENTS (installer_pages);
  return installer_pages;
}
