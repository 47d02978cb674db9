/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The repart.d definitions a caller named (PlanInstall, Install
 * "definitions"), copied into a private directory, so the engine and
 * systemd-repart never read the caller's tree by name: each *.conf of
 * @dfd (and its drop-ins) opened as @creds (no symlinks, regular files,
 * at most IMPRINT_REPART_FILE_MAX bytes each and IMPRINT_REPART_FILES_MAX
 * of them). @dir names the directory in messages. Returns the
 * snapshot directory (remove it with imprint_definitions_snapshot_remove(),
 * which also frees the string) or NULL with @error.
 * They are read by the shared repart.d parser (drop-ins NAME.conf.d/,
 * masks), and the snapshot holds one flat file per definition. */

#include <glib.h>

#include "safe-open.h"

char *imprint_definitions_snapshot        (int dfd, const SafeCreds *creds, const char *dir, GError **error);
void  imprint_definitions_snapshot_remove (char *dir);
