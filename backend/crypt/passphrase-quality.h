/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Rates a passphrase with libpwquality, with the system's pwquality.conf.
 * Nothing is stored or logged. */

/* Returns 0 and sets *ret_score to 0..100 (libpwquality's score) or -1
 * when the passphrase is refused (too short, dictionary word, ...), and
 * *ret_message to libpwquality's translated explanation ("" when fine).
 * Negative errno on failure (e.g. -ENOMEM). */
int imprint_passphrase_quality (const char *passphrase, int *ret_score, char **ret_message);

/* A translated sentence to show next to a disk passphrase: the boot prompt
 * uses the US keyboard layout unless the keymap is in the initrd. Stronger
 * when the passphrase has characters outside ASCII (maybe impossible to
 * type there); NULL when it only has characters that sit at the same place
 * on the common layouts (digits, space). Static string: do not free. */
const char *imprint_passphrase_keyboard_warning (const char *passphrase);
