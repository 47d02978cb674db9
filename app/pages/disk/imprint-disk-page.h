/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-page.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_DISK_PAGE (imprint_disk_page_get_type ())
G_DECLARE_FINAL_TYPE (ImprintDiskPage, imprint_disk_page, IMPRINT, DISK_PAGE, ImprintPage)

G_END_DECLS
