/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-page.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_NETWORK_PAGE (imprint_network_page_get_type ())
G_DECLARE_FINAL_TYPE (ImprintNetworkPage, imprint_network_page, IMPRINT, NETWORK_PAGE, ImprintPage)

/* TRUE when the page has nothing to offer: the system is online, or
 * NetworkManager is not on the system bus. */
gboolean imprint_network_page_skip (ImprintSetupChoices *setup);

G_END_DECLS
