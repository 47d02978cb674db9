/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Recovery keys in the format systemd uses (src/shared/recovery-key.c):
 * 32 random bytes, each byte as two "modhex" characters (high nibble
 * first, alphabet "cbdefghijklnrtuv"), a dash after every 8 characters:
 * 8 groups, 71 characters. The dashed string itself is the LUKS2 keyslot
 * passphrase, and systemd-cryptsetup does not normalise what is typed at
 * boot, so everything Imprint stores or enrolls is the canonical form. */

#include <stdbool.h>
#include <stddef.h>

#define IMPRINT_RECOVERY_KEY_BYTES 32
#define IMPRINT_RECOVERY_KEY_LENGTH (IMPRINT_RECOVERY_KEY_BYTES * 2 + IMPRINT_RECOVERY_KEY_BYTES / 4 - 1)

/* Generates a new key from getrandom(). *ret lives in secret memory
 * (secret.h) and must be freed with imprint_secret_free(),
 * imprint_secret_free() or _cleanup_secret_. Returns 0 or negative errno. */
int imprint_recovery_key_generate (char **ret);

/* Turns what a person typed into the canonical form: whitespace anywhere
 * ignored, upper case accepted, dashes optional (but if present they must
 * sit between groups). Returns -EINVAL when the input is not a recovery
 * key. *ret is in secret memory, wiped on free (_cleanup_secret_). */
int imprint_recovery_key_normalize (const char *input, char **ret);

/* True when s is a recovery key in canonical form. */
bool imprint_recovery_key_is_valid (const char *s);
