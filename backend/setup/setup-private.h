/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between the files of the system settings (setup-system.c,
 * setup-running.c, setup-state.c); not part of backend/setup's API. */

#include <gio/gio.h>
#include <stdbool.h>
#include <sys/types.h>

/* setup-system.c: @root ("" or NULL: "/") opened for the path-based
 * wrappers; a value read from a root kept only when valid UTF-8 of
 * sensible length (takes @s); the warning that the initrd's keymap is not
 * changed. */
int imprint_setup_open_root (const char *root, int *ret_fd);
char *imprint_setup_valid_value (char *s);
void imprint_setup_warn_initrd_keymap (const char *keymap, GPtrArray *warnings);
