/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The repart.d definitions an OS image ships in its /usr, read only
 * through dm-verity: the usr partition of the source is attached as a
 * read-only loop device, activated as dm-verity with the root hash that
 * was verified at inspect time, mounted read-only (nodev, nosuid, noexec)
 * in a private scratch directory, and usr/local/lib/repart.d and
 * usr/lib/repart.d are read from it with the shared parser
 * (repart-definition.h). Every block read is checked by the kernel against
 * the root hash, so a source rewritten after inspection cannot slip other
 * definitions in. Everything is torn down before returning. */

#include <gio/gio.h>

#include "source.h"

G_BEGIN_DECLS

/* Where in a /usr tree systemd-repart looks, highest priority first
 * (relative to the usr partition's root). */
#define IMPRINT_USR_REPART_DIRS "local/lib/repart.d", "lib/repart.d"

/* @ret_defs: ImprintRepartDefinition*, possibly empty when the image ships
 * none. IMPRINT_ERROR_NOT_SUPPORTED when device-mapper (dm-verity) is not
 * available: the message says to pass definitions explicitly. */
gboolean imprint_source_usr_definitions (ImprintSource *source,
                                         GPtrArray    **ret_defs,
                                         GError       **error);

G_END_DECLS
