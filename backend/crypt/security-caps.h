/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What this machine offers for disk encryption, for GetSecurityCapabilities
 * (data/dev.imprint.Imprint1.xml). Each part is an a{sv} with "available"
 * (b) and, when false, "reason" (s, translated, says what a person can do).
 *
 * "tpm2": "device" (s, TCTI used), "manufacturer" (s), "vendor" (s),
 *   "firmware-version" (s), "banks" (a{sau}: bank name -> allocated PCRs),
 *   "best-bank" (s, bank a PCR 7 seal would use), "lockout" (b),
 *   "lockout-counter" (u), "max-auth-fail" (u). Not available when there
 *   is no TPM, it does not answer, no bank has PCR 7, or it is in lockout.
 * "secure-boot": "state" (s: "on", "off", "setup", "unsupported"); available
 *   only when "on". From the EFI variables SecureBoot and SetupMode.
 * "uki": "path" (s, the booted UKI when found), "pcrsig" (b), "pcrpkey" (b),
 *   "signature-file" (s, where systemd-stub left the signature, if any);
 *   available when the booted UKI carries both .pcrsig and .pcrpkey (a
 *   signed PCR 11 policy is possible).
 * The "fido2" part is backend/fido2's; the daemon adds it. */

#include <glib.h>

#include "tpm2.h"

/* Where to look; NULL members (or a NULL pointer) mean the real system.
 * Tests point these at prepared directories. */
typedef struct {
  const char *efivars_dir;              /* /sys/firmware/efi/efivars */
  const char *const *esp_dirs;          /* /efi, /boot/efi, /boot */
  const char *const *pcr_signature_dirs;/* /run/systemd/stub, /run/systemd, /.extra */
} ImprintSecurityPaths;

/* Floating GVariants of type a{sv}. */
GVariant *imprint_security_caps_tpm2 (const char *tpm2_device, ImprintTpm2DeviceFlags tpm2_flags);
GVariant *imprint_security_caps_secure_boot (const ImprintSecurityPaths *paths);
GVariant *imprint_security_caps_uki (const ImprintSecurityPaths *paths);

/* {"tpm2": a{sv}, "secure-boot": a{sv}, "uki": a{sv}} as a{sv}. */
GVariant *imprint_security_caps_get (const char *tpm2_device, ImprintTpm2DeviceFlags tpm2_flags,
                                     const ImprintSecurityPaths *paths);

/* The sections of a PE file (UKI) named .pcrsig / .pcrpkey / .linux: for
 * callers that already know the UKI. Returns 0 or negative errno (-EBADMSG
 * when it is not a PE file). */
int imprint_pe_has_sections (const char *path, gboolean *ret_linux, gboolean *ret_pcrsig, gboolean *ret_pcrpkey);
/* The same for an open file (not closed). */
int imprint_pe_has_sections_fd (int fd, gboolean *ret_linux, gboolean *ret_pcrsig, gboolean *ret_pcrpkey);
/* Reads section @section of the PE file @fd: VirtualSize bytes (at most
 * 1 MiB), NUL-terminated. -ENOENT when absent, -EBADMSG when malformed. */
int imprint_pe_read_section_fd (int fd, const char *section, char **ret, size_t *ret_size);

/* The content of PE section @section (".cmdline", VirtualSize bytes, NUL
 * added, at most 1 MiB) of the file at @path. -ENOENT when it has none,
 * -EBADMSG when it is not a PE file. g_free it. */
int imprint_pe_read_section (const char *path, const char *section, char **ret, size_t *ret_size);

/* The .pcrpkey (PEM) and .pcrsig (JSON) sections of the UKI at path
 * (e.g. the one an install source ships). -ENOENT when either is missing,
 * -EBADMSG when it is not a PE file. g_free both. */
int imprint_uki_read_pcr_signing (const char *uki, char **ret_pubkey_pem, char **ret_signature_json);

/* The signed-PCR-policy material of the running system: the public key
 * (PEM, the UKI's .pcrpkey) and the signatures (JSON, its .pcrsig), from
 * where systemd-stub left them (tpm2-pcr-public-key.pem and
 * tpm2-pcr-signature.json in /run/systemd/stub, /run/systemd, /.extra) or
 * from the booted UKI itself. -ENOENT when there is none. g_free both. */
int imprint_security_read_pcr_signing (const ImprintSecurityPaths *paths,
                                       char **ret_pubkey_pem,
                                       char **ret_signature_json);
