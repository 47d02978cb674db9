/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* LUKS2 volumes on libcryptsetup, written the way systemd-cryptenroll and
 * systemd-repart write them, so that stock systemd-cryptsetup (252 and
 * newer) unlocks them with its own token plugins.
 *
 * Everything here works on block devices and on plain image files, and
 * never needs device-mapper: "checks" use crypt_activate_*() with a NULL
 * name, which verifies a key without activating anything.
 *
 * Conventions: negative errno on failure, ret_ parameters untouched then.
 * Secrets (passphrases, volume keys) are passed as pointer + size, are
 * never logged, and buffers this module returns live in secret memory
 * (secret.h) and must be released with imprint_secret_free() or
 * imprint_secret_free() (secret.h), never free(). */

#include <json-glib/json-glib.h>
#include <libcryptsetup.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the data segment starts: the LUKS2 header + keyslot area, as large
 * as cryptsetup's and systemd-repart's default (16 MiB). */
#define IMPRINT_LUKS_HEADER_SIZE (UINT64_C (16) * 1024 * 1024)

/* Free space encrypt-in-place needs at the END of the region, behind the
 * filesystem: twice the header (the moved first segment lives there while
 * the data is shifted). The resulting volume is SIZE - HEADER_SIZE large. */
#define IMPRINT_LUKS_ENCRYPT_RESERVE (2 * IMPRINT_LUKS_HEADER_SIZE)

/* Volume key: aes-xts-plain64 with a 512-bit key, like systemd-repart. */
#define IMPRINT_LUKS_CIPHER "aes"
#define IMPRINT_LUKS_CIPHER_MODE "xts-plain64"
#define IMPRINT_LUKS_VOLUME_KEY_SIZE 64

typedef enum {
  /* PBKDF2-SHA512, 1000 iterations, no benchmark: what systemd-cryptenroll
   * uses for high-entropy secrets (TPM2, FIDO2, recovery key;
   * cryptsetup_set_minimal_pbkdf() in src/shared/cryptsetup-util.c). */
  IMPRINT_LUKS_PBKDF_MINIMAL,
  /* libcryptsetup's default (argon2id, benchmarked to ~2 s): for
   * passphrases a person chose, as systemd-cryptenroll --password. */
  IMPRINT_LUKS_PBKDF_DEFAULT,
} ImprintLuksPbkdf;

/* Called during long operations; fraction in 0..1. Return false to ask
 * for cancellation (honoured where libcryptsetup allows, -ECANCELED). */
typedef bool (*ImprintCryptProgressFunc) (double fraction, void *userdata);

/* Creates a fresh LUKS2 header on device (block device or image file;
 * destroys what was there). The volume key is random; one keyslot is
 * added for passphrase (with the minimal PBKDF: pass a random one-time key
 * and destroy the slot once the real methods are enrolled). label may be
 * NULL. Returns the loaded context and the keyslot. */
int imprint_luks_format (const char *device,
                         const char *label,
                         const void *passphrase, size_t passphrase_size,
                         struct crypt_device **ret_cd,
                         int *ret_keyslot);

/* Encrypts the data already on device in place, offline, with
 * libcryptsetup's reencryption (data shift, header moved to the front; no
 * device-mapper needed). The data (e.g. a filesystem) must end at least
 * IMPRINT_LUKS_ENCRYPT_RESERVE bytes before the end of device: it ends up
 * IMPRINT_LUKS_HEADER_SIZE bytes further in, behind the new header. One
 * keyslot is added for passphrase (minimal PBKDF, as above). An ext2/3/4
 * filesystem that is too large is refused (-ENOSPC) before anything is
 * written; for other data the caller must make sure. */
int imprint_luks_encrypt_in_place (const char *device,
                                   const char *label,
                                   const void *passphrase, size_t passphrase_size,
                                   ImprintCryptProgressFunc progress, void *userdata,
                                   struct crypt_device **ret_cd,
                                   int *ret_keyslot);

/* Loads an existing LUKS2 volume. */
int imprint_luks_open (const char *device, struct crypt_device **ret_cd);

/* Unlocks the volume key with any keyslot's passphrase. ret_keyslot may
 * be NULL. *ret_volume_key: secret memory, imprint_secret_free(). -EPERM: wrong. */
int imprint_luks_volume_key_get (struct crypt_device *cd,
                                 const void *passphrase, size_t passphrase_size,
                                 void **ret_volume_key, size_t *ret_volume_key_size,
                                 int *ret_keyslot);

/* Adds a keyslot for passphrase bound to the volume key. pbkdf_override,
 * when not NULL, replaces the PBKDF chosen by kind (tests use cheap
 * argon2id parameters for "DEFAULT"). Returns the keyslot. */
int imprint_luks_add_keyslot (struct crypt_device *cd,
                              const void *volume_key, size_t volume_key_size,
                              const void *passphrase, size_t passphrase_size,
                              ImprintLuksPbkdf kind,
                              const struct crypt_pbkdf_type *pbkdf_override,
                              int *ret_keyslot);

/* Stores token (a JSON object with at least "type") as a new LUKS2 token
 * bound to keyslot: its "keyslots" member is set to ["<keyslot>"], the one
 * form systemd accepts. token is not modified. Returns the token id. */
int imprint_luks_token_import (struct crypt_device *cd,
                               int keyslot,
                               JsonObject *token,
                               int *ret_token);

/* Keyslot + token in one go; on failure nothing is left behind. token may
 * be NULL (a plain passphrase slot). ret_keyslot/ret_token may be NULL. */
int imprint_luks_enroll (struct crypt_device *cd,
                         const void *volume_key, size_t volume_key_size,
                         const void *passphrase, size_t passphrase_size,
                         ImprintLuksPbkdf kind,
                         const struct crypt_pbkdf_type *pbkdf_override,
                         JsonObject *token,
                         int *ret_keyslot,
                         int *ret_token);

/* Destroys keyslot and every token bound to it. Refuses (-EBUSY) to
 * destroy the last active keyslot. */
int imprint_luks_remove_keyslot (struct crypt_device *cd, int keyslot);

/* Removes a token and the keyslots bound to it (-EBUSY when that would
 * leave no keyslot). */
int imprint_luks_remove_token (struct crypt_device *cd, int token);

/* Checks a passphrase without activating: returns 0 and the keyslot that
 * opened, -EPERM when no keyslot takes it. ret_keyslot may be NULL. */
int imprint_luks_check_passphrase (struct crypt_device *cd,
                                   const void *passphrase, size_t passphrase_size,
                                   int *ret_keyslot);

/* Checks that a token opens the volume, through libcryptsetup's token
 * handlers (for "systemd-*" tokens: systemd's installed plugins). type NULL
 * = any token; pin may be NULL. Returns 0 + keyslot, or libcryptsetup's
 * error: -ENOANO (PIN needed), -EPERM (no token/keyslot matched), -ENOENT,
 * -EAGAIN (hardware missing). */
int imprint_luks_check_token (struct crypt_device *cd,
                              const char *type,
                              const char *pin,
                              int *ret_keyslot);

typedef struct {
  int id;
  char *type;        /* "systemd-tpm2", "systemd-recovery", ... */
  int *keyslots;     /* n_keyslots entries */
  size_t n_keyslots;
  char *json;        /* the whole token as stored */
} ImprintLuksToken;

void imprint_luks_tokens_free (ImprintLuksToken *tokens, size_t n);

/* Lists the active tokens. */
int imprint_luks_list_tokens (struct crypt_device *cd,
                              ImprintLuksToken **ret_tokens,
                              size_t *ret_n);

/* Lists active keyslots that no token refers to: typed passphrases (or
 * the one-time enrollment key while an enrollment runs). */
int imprint_luks_list_plain_keyslots (struct crypt_device *cd,
                                      int **ret_keyslots,
                                      size_t *ret_n);

/* Enrolls a new recovery key (keyslot + "systemd-recovery" token), then
 * removes every other recovery key. unlock is any current passphrase or
 * recovery key. *ret_key: the new key, canonical, in secret memory (_cleanup_secret_). */
int imprint_luks_regenerate_recovery_key (struct crypt_device *cd,
                                          const void *unlock, size_t unlock_size,
                                          char **ret_key);

/* Same with a key the caller made (canonical form, e.g. from
 * imprint_recovery_key_generate(), so it can be shown or saved before
 * anything changes). ret_keyslot may be NULL. */
int imprint_luks_set_recovery_key (struct crypt_device *cd,
                                   const void *unlock, size_t unlock_size,
                                   const char *key,
                                   int *ret_keyslot);

/* Sets the typed passphrase: adds a slot for new_passphrase (PBKDF DEFAULT
 * or pbkdf_override), then removes the other token-less keyslots. With
 * new_passphrase NULL, only removes them (-EBUSY when nothing else would
 * be left). unlock is any current passphrase or recovery key. */
int imprint_luks_set_passphrase (struct crypt_device *cd,
                                 const void *unlock, size_t unlock_size,
                                 const char *new_passphrase,
                                 const struct crypt_pbkdf_type *pbkdf_override,
                                 int *ret_keyslot);

/* The LUKS2 token for a recovery key: {"type":"systemd-recovery"} (+
 * keyslots on import). Caller unrefs. */
JsonObject *imprint_luks_recovery_token_new (void);
