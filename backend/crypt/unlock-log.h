/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Did the disk need its recovery key (or passphrase) at this start?
 *
 * Stock systemd leaves no record of which keyslot opened a volume: the
 * kernel's dm-crypt table has the volume key only, the LUKS2 header is not
 * written at unlock, and systemd-cryptsetup logs a token success at debug
 * level only (v252..v257, src/cryptsetup/cryptsetup.c: "Volume %s
 * activated with LUKS token id %i."). What it does log at notice level or
 * higher, into the current boot's journal (the initrd's journal is kept
 * under the same boot ID), is every fallback from the TPM to "traditional
 * unlocking", and just before it the TPM library's reason. So: the root
 * volume was opened at this boot (we are running on it) and its
 * systemd-cryptsetup@VOLUME.service logged a fallback = the person typed
 * the recovery key or a passphrase.
 *
 * Messages matched (substrings, v252 to v258, src/cryptsetup/cryptsetup.c,
 * src/cryptsetup/cryptsetup-tokens/luks2-tpm2.c, src/shared/tpm2-util.c):
 *   fallback: "falling back to traditional unlocking" (every variant:
 *     "TPM2 operation failed, ...: %m", "No TPM2 metadata matching the
 *     current system state found in LUKS2 header, ...", "TPM2 PIN unlock
 *     failed, ...", "No TPM2 hardware discovered and EFI firmware does not
 *     see it either, ...", "TPM2 support not available, ...");
 *   reasons: "a policy check failed" (tpm2-tss' text for TPM_RC_POLICY_FAIL,
 *     logged by 252's "Failed to unseal HMAC key in TPM: %s"), "TPM policy
 *     does not match current system state" (255+), "Couldn't find signature
 *     for this PCR bank" / "No signature for current PCR policy" / "Failed to
 *     load PCR signature" (signed PCR 11 policy), "dictionary attack
 *     lock-out" / "lockout", "TPM2 PIN", "No TPM2 hardware" / "TPM2 device
 *     not present".
 * Journal text is untrusted: only these fixed substrings are looked for,
 * the detail kept is cut to IMPRINT_UNLOCK_DETAIL_MAX bytes of valid UTF-8
 * without control characters, and the reader caps what it reads. */

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

G_BEGIN_DECLS

#define IMPRINT_UNLOCK_DETAIL_MAX 256
/* Entries of one boot the journal reader looks at, at most. */
#define IMPRINT_UNLOCK_MAX_ENTRIES 4096
/* Bytes of one journal field it reads, at most. */
#define IMPRINT_UNLOCK_MAX_FIELD 4096

/* Why the TPM did not unlock, most specific last (a later, more specific
 * message replaces an earlier, vaguer one). */
typedef enum {
  IMPRINT_UNLOCK_REASON_NONE = 0,
  IMPRINT_UNLOCK_REASON_UNKNOWN,       /* a fallback without a reason we know */
  IMPRINT_UNLOCK_REASON_TPM_ERROR,     /* "TPM2 operation failed" only */
  IMPRINT_UNLOCK_REASON_PCR_MISMATCH,  /* the boot chain's measurements changed */
  IMPRINT_UNLOCK_REASON_SIGNATURE,     /* no valid signed PCR 11 policy for this boot */
  IMPRINT_UNLOCK_REASON_NO_TPM,        /* no TPM found at boot */
  IMPRINT_UNLOCK_REASON_PIN,           /* TPM PIN wrong or not given */
  IMPRINT_UNLOCK_REASON_LOCKOUT,       /* TPM in dictionary-attack lockout */
} ImprintUnlockReason;

typedef struct {
  char *volume;                  /* the dm name whose unit counts, e.g. "root" */
  bool fallback;                 /* the TPM did not unlock this volume */
  ImprintUnlockReason reason;
  char *detail;                  /* the message that gave the reason (sanitised) */
  unsigned n_entries;            /* entries looked at (the reader stops at the cap) */
} ImprintUnlockLog;

void imprint_unlock_log_init (ImprintUnlockLog *l, const char *volume);
void imprint_unlock_log_clear (ImprintUnlockLog *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ImprintUnlockLog, imprint_unlock_log_clear)

/* "pcr-mismatch", "signature", "no-tpm", "pin", "lockout", "tpm-error",
 * "unknown"; "" for NONE. The D-Bus API's words. */
const char *imprint_unlock_reason_to_string (ImprintUnlockReason reason);

/* The volume name of a unit "systemd-cryptsetup@NAME.service" (unit
 * escaping undone: "\x2d" -> "-"), or NULL when unit is no such unit or
 * the name is not printable ASCII. Bytes, not NUL-terminated. */
char *imprint_unlock_unit_volume (const char *unit, size_t unit_len);

/* One journal entry: its _SYSTEMD_UNIT (or UNIT) and MESSAGE, as bytes
 * (either may be NULL). Entries of other units are ignored. */
void imprint_unlock_log_add (ImprintUnlockLog *l,
                             const char *unit, size_t unit_len,
                             const char *message, size_t message_len);

/* Reads the current boot's journal (systemd-cryptsetup's entries only,
 * bounded as above) into l: the system's, or the journal files in
 * directory (tests). Negative errno when the journal cannot be opened; 0
 * otherwise (no entries is no fallback). */
int imprint_unlock_log_read_journal (ImprintUnlockLog *l, const char *directory);

G_END_DECLS
