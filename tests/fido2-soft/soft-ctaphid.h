/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* CTAPHID framing (CTAP 2.1 section 11.2) over the transport-independent
 * soft authenticator: 64-byte reports in, 64-byte reports out. Handles
 * INIT, PING, CBOR, CANCEL, WINK, ERROR and KEEPALIVE; MSG (U2F) is refused
 * as the device advertises NMSG. */

#include <stdbool.h>
#include <stdint.h>

#include "soft-fido2.h"

#define SOFT_CTAPHID_REPORT_LEN 64

typedef struct SoftCtapHid SoftCtapHid;

/* Emits one input report (key -> host). */
typedef void (*SoftCtapHidSendFunc) (const uint8_t report[SOFT_CTAPHID_REPORT_LEN], void *userdata);

SoftCtapHid *soft_ctaphid_new            (SoftFido2 *sk, SoftCtapHidSendFunc send, void *userdata);
void         soft_ctaphid_free           (SoftCtapHid *h);
SoftFido2   *soft_ctaphid_get_authenticator (SoftCtapHid *h);

/* Feeds one output report (host -> key). A complete request is processed
 * synchronously and its response emitted through the send function. */
void         soft_ctaphid_handle_report  (SoftCtapHid *h, const uint8_t report[SOFT_CTAPHID_REPORT_LEN]);

/* While a request is processed (from the authenticator's wait hook): sends a
 * KEEPALIVE with status 1 (processing) or 2 (user presence needed). */
void         soft_ctaphid_send_keepalive (SoftCtapHid *h, uint8_t status);

/* While a request is processed: looks at a report received meanwhile; a
 * CANCEL for the busy channel cancels the pending user presence wait, other
 * channels get CHANNEL_BUSY. */
void         soft_ctaphid_handle_report_while_busy (SoftCtapHid *h, const uint8_t report[SOFT_CTAPHID_REPORT_LEN]);
