/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-page.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_HOSTNAME_PAGE (imprint_hostname_page_get_type ())
G_DECLARE_FINAL_TYPE (ImprintHostnamePage, imprint_hostname_page, IMPRINT, HOSTNAME_PAGE, ImprintPage)

G_END_DECLS
