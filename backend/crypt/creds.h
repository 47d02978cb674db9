/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* systemd's encrypted credentials (what `systemd-creds encrypt` writes,
 * src/shared/creds-util.c, format unchanged from 250 to 258), for a
 * credential the initrd reads from the ESP: systemd-stub hands
 * ESP/loader/credentials/NAME.cred to the initrd, PID 1 puts it into the
 * *encrypted* credential store (it comes from an untrusted place), and a
 * unit's ImportCredential= decrypts it there or skips it. A plain-text
 * .cred on the ESP is therefore never used; it must be encrypted with a key
 * the initrd has: the TPM2 (the host key lives on the root file system,
 * still locked at that time) or, on machines without a TPM2, the "null"
 * key, which systemd accepts only when there is no TPM2, or Secure Boot is
 * off.
 *
 * Layout, little endian, each part padded with NULs to 8 bytes; the clear
 * headers are the AES-256-GCM AAD:
 *   id (16 bytes: the key type), key_size 32, block_size 1, iv_size 12,
 *   tag_size 16, iv;
 *   [TPM2] pcr_mask (le64), pcr_bank (le16), primary_alg (le16),
 *   blob_size (le32), policy_hash_size (le32), blob, policy hash;
 *   ciphertext of: timestamp (le64), not_after (le64), name_size (le32),
 *   name; then the payload;
 *   the 16-byte GCM tag.
 * The AES key is SHA-256 of the key material: the 32 bytes the TPM2 seal
 * releases (the same seal as a "systemd-tpm2" LUKS2 token, tpm2.h), or
 * nothing for the null key. The file is base64 text. */

#include <stddef.h>

#include "tpm2.h"

/* Encrypts data as credential name: sealed by tpm (no PCRs: the credential
 * must survive firmware and boot chain updates; its job is to prove it was
 * made on this machine), or with the null key when tpm is NULL. No
 * timestamps (a wrong clock at boot would make systemd refuse one from
 * "the future"). *ret: base64 text, NUL-terminated, g_free(). */
int imprint_creds_encrypt (const char *name, const void *data, size_t size, ImprintTpm2 *tpm, char **ret);
