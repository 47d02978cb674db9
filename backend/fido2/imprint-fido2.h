/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* FIDO2 security keys for disk and home unlocking, the way stock systemd
 * uses them (src/shared/libfido2-util.c, src/cryptenroll/cryptenroll-fido2.c,
 * src/home/homectl-fido2.c; checked against v252 and v257):
 *
 *   - a non-resident ES256 credential with the hmac-secret extension, made
 *     with a client data hash of 32 zero bytes;
 *   - an assertion with that credential and a random 32-byte salt; the
 *     hmac-secret output, base64-encoded, is the LUKS keyslot passphrase
 *     (and, hashed, homed's fido2HmacSalt hashedPassword);
 *   - the "systemd-fido2" LUKS2 token keeps credential id, salt, relying
 *     party and which of PIN / presence / verification are required.
 *
 * Every function that talks to a key takes either a fido_dev_t opened by the
 * caller (tests pass one with their own I/O functions; it is left open) or a
 * hidraw path (NULL: the only FIDO2 key present). PIN and touch requests go
 * through an ImprintFido2PromptFunc; nothing here reads a terminal.
 *
 * Errors are negative errno values; imprint_fido2_strerror() turns the ones
 * specific to security keys into a translated sentence:
 *   -ENODEV      no security key / not FIDO2
 *   -ENOTUNIQ    several keys and no path given
 *   -EOPNOTSUPP  no hmac-secret extension, or ES256 unsupported
 *   -ENOANO      a PIN is needed and no prompt function was given
 *   -ENOLCK      wrong PIN and no prompt function to ask again
 *   -EOWNERDEAD  too many wrong PINs in a row: remove and reinsert the key
 *   -EKEYREVOKED PIN blocked for good: the key must be reset
 *   -ENOSTR      the key was not touched in time
 *   -EBADSLT     the credential does not belong to this key
 *   -ECANCELED   the prompt was cancelled, or the key reported a cancel
 *   -EIO         any other error from the key */

#include <fido.h>
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

#define IMPRINT_FIDO2_RP_ID_LUKS     "io.systemd.cryptsetup"
#define IMPRINT_FIDO2_RP_NAME_LUKS   "Encrypted Volume"
#define IMPRINT_FIDO2_RP_ID_HOMED    "io.systemd.home"
#define IMPRINT_FIDO2_RP_NAME_HOMED  "Home Directory"
#define IMPRINT_FIDO2_SALT_SIZE      32
#define IMPRINT_FIDO2_TOKEN_TYPE     "systemd-fido2"

typedef enum {
  IMPRINT_FIDO2_PROMPT_PIN,     /* answer: the PIN */
  IMPRINT_FIDO2_PROMPT_TOUCH,   /* notification only: ret_answer is NULL */
} ImprintFido2Prompt;

/* Asks the user. For PIN, stores a string in secret memory (secret.h:
 * imprint_secret_strdup()) in *ret_answer; the library wipes and frees it
 * with imprint_secret_free(). `message` is translated and tells why (first
 * request, wrong PIN with attempts left, ...). TOUCH is a notification sent
 * just before an operation that waits for the touch: return at once, the
 * key itself waits (real keys give up after about 30 s: -ENOSTR). Returns 0,
 * or a negative errno (e.g. -ECANCELED) which aborts with that error.
 * The D-Bus daemon maps these to the Job's Request signal ("fido2-pin",
 * "fido2-touch") and Answer method. */
typedef int (*ImprintFido2PromptFunc) (ImprintFido2Prompt kind,
                                       const char *message,
                                       char **ret_answer,
                                       void *userdata);

/* What unlocking needs; systemd's FIDO2ENROLL_PIN/UP/UV. */
typedef enum {
  IMPRINT_FIDO2_LOCK_PIN = 1 << 0,
  IMPRINT_FIDO2_LOCK_UP  = 1 << 1,
  IMPRINT_FIDO2_LOCK_UV  = 1 << 2,
} ImprintFido2LockFlags;

/* systemd-cryptenroll's default: PIN and touch. */
#define IMPRINT_FIDO2_LOCK_DEFAULT (IMPRINT_FIDO2_LOCK_PIN | IMPRINT_FIDO2_LOCK_UP)

typedef struct {
  uint8_t *credential_id;
  size_t credential_id_size;
  uint8_t salt[IMPRINT_FIDO2_SALT_SIZE];
  uint8_t *secret;                   /* hmac-secret output, in secret memory */
  size_t secret_size;
  char *rp_id;
  ImprintFido2LockFlags lock_with;   /* after degrading to what the key can do */
  char *pin;                         /* PIN used, NULL if none; secret memory */
} ImprintFido2Enrollment;

void imprint_fido2_enrollment_free (ImprintFido2Enrollment *e);

/* Checks a caller's choice of key before anything opens it: NULL, "" or
 * "auto" = the only key present (*ret_path = NULL); "/dev/hidraw<N>", and
 * that node must be the hidraw character device sysfs lists under its
 * name (checked on an O_PATH fd, no symlink followed; -ENODEV when not).
 * Any other path libfido2 understands (pcsc://, nfc:, the test doubles)
 * only with allow_other, for callers who are root already: libfido2
 * open()s what it is given read-write, and opening some devices (a
 * watchdog, a tty) has effects of its own. -EINVAL otherwise. */
int imprint_fido2_device_check (const char *path, bool allow_other, char **ret_path);

/* Opens a key by hidraw path (NULL: the only FIDO key present). A caller that
 * opens the key itself can abort a pending touch wait from another thread
 * with fido_dev_cancel(). Close with fido_dev_close() + fido_dev_free(). */
int imprint_fido2_open_device (const char *path, fido_dev_t **ret);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImprintFido2Enrollment, imprint_fido2_enrollment_free)

typedef struct {
  const char *rp_id;
  const char *rp_name;
  const void *user_id;
  size_t user_id_size;
  const char *user_name;
  const char *user_display_name;     /* may be NULL */
  ImprintFido2LockFlags lock_with;
  const uint8_t *salt;               /* IMPRINT_FIDO2_SALT_SIZE bytes, NULL: random */
  ImprintFido2PromptFunc prompt;     /* may be NULL: then no PIN can be asked */
  void *userdata;
} ImprintFido2EnrollParams;

/* Makes the credential and the first assertion. Lock flags the key cannot
 * honour are dropped, like systemd-cryptenroll does (PIN: only when a PIN is
 * set on the key); the result says what was kept. */
int imprint_fido2_enroll (fido_dev_t *dev,
                          const char *path,
                          const ImprintFido2EnrollParams *params,
                          ImprintFido2Enrollment **ret);

/* systemd-cryptenroll's parameters: rp io.systemd.cryptsetup, rp name
 * "Encrypted Volume", user id and name = the LUKS UUID, display name = the
 * device node. */
int imprint_fido2_enroll_luks (fido_dev_t *dev,
                               const char *path,
                               const char *luks_uuid,
                               const char *device_node,
                               ImprintFido2LockFlags lock_with,
                               ImprintFido2PromptFunc prompt,
                               void *userdata,
                               ImprintFido2Enrollment **ret);

/* homectl's parameters: rp io.systemd.home, rp name "Home Directory", user id
 * and name = userName followed by realm (if any), display name = realName. */
int imprint_fido2_enroll_homed (fido_dev_t *dev,
                                const char *path,
                                const char *user_name,
                                const char *realm,
                                const char *real_name,
                                ImprintFido2LockFlags lock_with,
                                ImprintFido2PromptFunc prompt,
                                void *userdata,
                                ImprintFido2Enrollment **ret);

/* What systemd-cryptsetup does at boot: a silent pre-flight assertion (is
 * the credential on this key?), then the assertion with the credential and
 * salt; returns the hmac-secret output (in secret memory: imprint_secret_free()). Strict like
 * systemd with a token that has the flags: a PIN or touch the key demands
 * beyond lock_with fails (-ENOANO / -EMEDIUMTYPE). */
int imprint_fido2_unlock (fido_dev_t *dev,
                          const char *path,
                          const char *rp_id,
                          const void *credential_id,
                          size_t credential_id_size,
                          const void *salt,
                          size_t salt_size,
                          ImprintFido2LockFlags lock_with,
                          ImprintFido2PromptFunc prompt,
                          void *userdata,
                          uint8_t **ret_secret,
                          size_t *ret_secret_size);

/* Reads a "systemd-fido2" token like systemd-cryptsetup (missing fido2-rp:
 * io.systemd.cryptsetup; a missing fido2-clientPin-required or
 * fido2-up-required: PIN / touch if the key asks) and unlocks; returns the
 * keyslot passphrase. */
int imprint_fido2_unlock_luks_token (fido_dev_t *dev,
                                     const char *path,
                                     const char *token_json,
                                     ImprintFido2PromptFunc prompt,
                                     void *userdata,
                                     char **ret_passphrase);

/* The keyslot passphrase: standard base64 with padding, no newline; *ret
 * in secret memory (imprint_secret_free()). */
int imprint_fido2_passphrase (const void *secret, size_t secret_size, char **ret);

/* {"type":"systemd-fido2","keyslots":["N"],"fido2-credential","fido2-salt",
 *  "fido2-rp","fido2-clientPin-required","fido2-up-required","fido2-uv-required"} */
int imprint_fido2_luks_token_json (const ImprintFido2Enrollment *e, int keyslot, char **ret_json);

/* One privileged.fido2HmacSalt entry of a homed user record:
 * {"credential","salt","hashedPassword","up","uv","clientPin"}; the caller
 * hashes the passphrase with crypt(3). */
int imprint_fido2_homed_salt_json (const ImprintFido2Enrollment *e,
                                   const char *hashed_password,
                                   char **ret_json);

/* FIDO security keys present, as aa{sv}: "path" s, "product" s,
 * "manufacturer" s, "hmac-secret" b, "client-pin" b (a PIN is set), "uv" b,
 * "rk" b, "up" b, "available" b (usable for unlocking), "reason" s
 * (translated; why not available, or a caveat; may be empty). */
int imprint_fido2_list_devices (GVariant **ret);
/* Same, for a list filled by the caller (tests: fido_dev_info_set()). */
int imprint_fido2_list_devices_from (const fido_dev_info_t *list, size_t n, GVariant **ret);

/* Translated text for the errors above; NULL for others (use g_strerror). */
const char *imprint_fido2_strerror (int r);

G_END_DECLS
