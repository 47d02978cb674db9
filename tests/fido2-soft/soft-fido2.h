/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A software CTAP2 authenticator for tests only (never installed).
 *
 * The core is transport independent: it takes one CTAP2 request (command
 * byte + CBOR parameters) and produces one response (status byte + CBOR).
 * It implements what systemd's FIDO2 support uses: authenticatorGetInfo,
 * authenticatorMakeCredential (ES256, hmac-secret, credProtect),
 * authenticatorGetAssertion (hmac-secret) and authenticatorClientPIN
 * (PIN/UV auth protocols 1 and 2). Credentials are not stored: the
 * credential id is the credential's private key and hmac-secret seeds,
 * encrypted with AES-256-GCM under a per-authenticator master key. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOFT_FIDO2_MAX_PIN_RETRIES 8

typedef struct SoftFido2 SoftFido2;

typedef enum {
  SOFT_FIDO2_PRESENCE_ALWAYS,   /* every user presence test passes at once */
  SOFT_FIDO2_PRESENCE_TOUCH,    /* needs a touch: soft_fido2_touch() or the wait hook */
} SoftFido2PresenceMode;

/* Called when a user presence test finds no pending touch. Returns true when
 * the user touched the key while waiting, false on timeout/cancel. */
typedef bool (*SoftFido2WaitTouchFunc) (SoftFido2 *sk, void *userdata);

typedef struct {
  SoftFido2PresenceMode presence;
  bool pin_protocol_1;           /* advertise PIN/UV auth protocol 1 */
  bool pin_protocol_2;           /* advertise PIN/UV auth protocol 2 */
  bool ctap21;                   /* advertise FIDO_2_1 + pinUvAuthToken (permissions) */
  bool hmac_secret;              /* advertise/implement the hmac-secret extension */
} SoftFido2Config;

/* Both protocols, CTAP 2.1, hmac-secret, presence always. */
void        soft_fido2_config_default   (SoftFido2Config *config);

SoftFido2  *soft_fido2_new              (const SoftFido2Config *config);
void        soft_fido2_free             (SoftFido2 *sk);

/* Test set-up shortcuts that bypass the protocol. */
int         soft_fido2_set_pin_direct   (SoftFido2 *sk, const char *pin);
int         soft_fido2_get_pin_retries  (SoftFido2 *sk);
/* Simulates removing and re-inserting the key: new key agreement key, PIN
 * tokens invalidated, the "3 wrong PINs in a row" block lifted. */
void        soft_fido2_power_cycle      (SoftFido2 *sk);

/* Arms n touches, consumed by the next user presence tests. */
void        soft_fido2_touch            (SoftFido2 *sk, unsigned n);
unsigned    soft_fido2_get_touches_used (SoftFido2 *sk);
void        soft_fido2_set_wait_touch   (SoftFido2 *sk, SoftFido2WaitTouchFunc func, void *userdata);
/* Aborts a pending wait (CTAPHID_CANCEL). */
void        soft_fido2_cancel           (SoftFido2 *sk);
bool        soft_fido2_is_cancelled     (SoftFido2 *sk);

/* Handles one CTAP2 message. req[0] is the command byte. On success returns
 * 0 and a malloc()ed response whose first byte is the CTAP2 status. */
int         soft_fido2_handle_cbor      (SoftFido2 *sk,
                                         const uint8_t *req, size_t req_len,
                                         uint8_t **ret_resp, size_t *ret_resp_len);
