/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The repart.d definitions a caller named (PlanInstall, Install
 * "definitions"), copied into a private directory, so the engine and
 * systemd-repart never read the caller's tree by name: each *.conf of
 * @dfd opened as @creds (no symlinks, regular files, at most 64 KiB each
 * and 256 of them). @dir names the directory in messages. Returns the
 * snapshot directory (remove it with imprint_definitions_snapshot_remove(),
 * which also frees the string) or NULL with @error.
 *
 * To do (issue 14): read them with the shared repart.d parser
 * (backend/basic/repart-definition.h, imprint_repart_load_fds()) once
 * plan.c does, so drop-ins and masks count the same everywhere. */

#include <glib.h>

#include "safe-open.h"

char *imprint_definitions_snapshot        (int dfd, const SafeCreds *creds, const char *dir, GError **error);
void  imprint_definitions_snapshot_remove (char *dir);
