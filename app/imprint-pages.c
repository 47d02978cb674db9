/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "imprint-names.h"
#include "imprint-pages.h"
#include "welcome/imprint-welcome-page.h"
#include "disk/imprint-disk-page.h"
#include "security/imprint-security-page.h"
#include "recovery/imprint-recovery-page.h"
#include "summary/imprint-summary-page.h"
#include "progress/imprint-progress-page.h"
#include "done/imprint-done-page.h"
#include "language/imprint-language-page.h"
#include "keyboard/imprint-keyboard-page.h"
#include "timezone/imprint-timezone-page.h"
#include "network/imprint-network-page.h"
#include "hostname/imprint-hostname-page.h"
#include "user/imprint-user-page.h"
#include "setup-summary/imprint-setup-summary-page.h"
#include "setup-done/imprint-setup-done-page.h"

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

static gboolean
locale_decided (ImprintSetupChoices *setup)
{
  return imprint_setup_choices_decided (setup, IMPRINT_KEY_LOCALE);
}

static gboolean
keymap_decided (ImprintSetupChoices *setup)
{
  return imprint_setup_choices_decided (setup, IMPRINT_KEY_KEYMAP);
}

static gboolean
timezone_decided (ImprintSetupChoices *setup)
{
  return imprint_setup_choices_decided (setup, IMPRINT_KEY_TIMEZONE);
}

static gboolean
hostname_decided (ImprintSetupChoices *setup)
{
  return imprint_setup_choices_decided (setup, IMPRINT_KEY_HOSTNAME);
}

/* The user page stays when the OEM named the account: the password is
 * still the person's. */
static const ImprintPageEntry setup_pages[] = {
  { "language", imprint_language_page_get_type,      locale_decided },
  { "keyboard", imprint_keyboard_page_get_type,      keymap_decided },
  { "network",  imprint_network_page_get_type,       imprint_network_page_skip },
  { "timezone", imprint_timezone_page_get_type,      timezone_decided },
  { "hostname", imprint_hostname_page_get_type,      hostname_decided },
  { "user",     imprint_user_page_get_type,          NULL },
  { "recovery", imprint_recovery_page_get_type,      NULL },
  { "summary",  imprint_setup_summary_page_get_type, NULL },
  { "progress", imprint_progress_page_get_type,      NULL },
  { "done",     imprint_setup_done_page_get_type,    NULL },
};

const ImprintPageEntry *
imprint_pages_setup (guint *n_pages)
{
  *n_pages = G_N_ELEMENTS (setup_pages);
  return setup_pages;
}
