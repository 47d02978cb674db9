/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The boot-file steps of the install (install.h): the source's ESP onto
 * the target (block copy into a new ESP, file level through mtools into an
 * existing ESP and XBOOTLDR) and the removable-media fallback path.
 *
 * The medium's own files never reach the target: `\loader\addons\` of the
 * source ESP holds global UKI add-ons, which systemd-stub applies to every
 * UKI started from that ESP (the live stick's `imprint.live` command line
 * is one). Add-ons of one UKI (`EFI/Linux/<uki>.efi.extra.d/`) belong to
 * that UKI and are copied with it. */

#include <gio/gio.h>

#include "copy.h"
#include "plan.h"
#include "source.h"

G_BEGIN_DECLS

gboolean imprint_install_esp      (ImprintSource *src, ImprintPlan *plan, int fd,
                                   ImprintProgress *progress, GError **error);
gboolean imprint_install_fallback (ImprintPlan *plan, GError **error);

G_END_DECLS
