/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between the files of the LUKS2 code (luks.c, luks-reencrypt.c,
 * luks-tokens.c, luks-recovery.c); not part of its API. */

#include <libcryptsetup.h>
#include <stdbool.h>

#include "luks.h"

/* 512-byte sectors: the unit of LUKS2 data offsets and shifts. */
#define IMPRINT_LUKS_SECTOR 512

/* Routes libcryptsetup's messages for @cd to GLib's log. */
void imprint_luks_setup_logging (struct crypt_device *cd);
/* The PBKDF for new keyslots: @override, or the one @kind names. */
int imprint_luks_set_pbkdf (struct crypt_device *cd, ImprintLuksPbkdf kind,
                            const struct crypt_pbkdf_type *override);
/* Keyslots in use, and whether one is. */
int imprint_luks_count_active_keyslots (struct crypt_device *cd);
bool imprint_luks_keyslot_is_active (struct crypt_device *cd, int keyslot);
