/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Format and enroll the root partition: the encryption step of the install
 * (install.h). Once systemd-repart made the root partition without
 * encryption and without a file system, imprint_root_encrypt() LUKS2-
 * formats it with the chosen unlock methods (backend/crypt luks-setup.h,
 * FIDO2 through luks-change.h), makes the file system inside (btrfs when
 * the definition's Format= says so, else ext4) and the
 * directories the root's repart.d definition asks for (MakeDirectories=),
 * with its Label=.
 *
 * With device-mapper and a partition node, a fresh LUKS2 volume is opened
 * and the file system made inside it (only what mkfs writes is encrypted);
 * otherwise (image files, hosts without dm) the file system is made first
 * and encrypted in place.
 *
 * Also here, because they decide what the encryption gets from the
 * source: the signed PCR 11 policy key from the source's UKI, and the
 * check that the UKI boots the verified /usr. */

#include <glib.h>

#include "imprint-fido2.h"
#include "imprint-report.h"
#include "source.h"
#include "tpm2.h"

G_BEGIN_DECLS

typedef struct {
  const char *target;        /* the disk or image file */
  guint       number;        /* GPT partition number, 1-based */
  const char *uuid;
  guint64     offset;        /* bytes */
  guint64     size;          /* bytes */
  const char *node;          /* partition device node when the target is a
                              * block device and the node exists, else NULL */
  const char *definition;    /* the original repart.d file of the root: its
                              * Label= and MakeDirectories= are honoured */
} ImprintRootPartition;

/* The encryption request. Strings are owned (secrets in secret memory,
 * secret.h) and freed by imprint_root_encryption_clear(). */
typedef struct {
  char *recovery_key;              /* required, canonical form */
  char *passphrase;                /* NULL: none */
  gboolean tpm2;
  char *tpm2_device;               /* NULL/"auto", node or TCTI */
  ImprintTpm2DeviceFlags tpm2_device_flags;  /* what tpm2_device may name */
  char *tpm2_pin;                  /* NULL: none */
  guint32 tpm2_pcr_mask;           /* 0: PCR 7 */
  /* Signed PCR 11 policy key (PEM). With tpm2_pubkey_auto the source's UKI
   * provides it (imprint_root_encryption_pick_tpm2_key()); else this one
   * (NULL: none). */
  char *tpm2_pubkey_pem;
  gboolean tpm2_pubkey_auto;
  gboolean fido2;
  char *fido2_device;              /* NULL: the one key plugged in */
  ImprintFido2PromptFunc fido2_prompt;  /* PIN and touch; may be NULL */
  void *fido2_prompt_data;

  const ImprintReport *report;     /* steps, progress 0..1 of this step, log; may be NULL */
  char *luks_uuid;                 /* out: the new volume's UUID */
  char *root_node;                 /* out: its partition node, when it was
                                    * formatted there (not in place) */
} ImprintRootEncryption;

void imprint_root_encryption_clear (ImprintRootEncryption *enc);

/* See the top of this file. On success enc->luks_uuid is set. */
gboolean imprint_root_encrypt (const ImprintRootPartition *root,
                               ImprintRootEncryption      *enc,
                               GError                    **error);

/* With enc->tpm2 and enc->tpm2_pubkey_auto: the .pcrpkey of the UKI the
 * source ships when it also carries .pcrsig (a policy nothing signs would
 * lock the disk), as systemd-cryptenroll --tpm2-public-key. Says in the
 * log which it is. */
gboolean imprint_root_encryption_pick_tpm2_key (ImprintRootEncryption *enc,
                                                const ImprintSource   *source,
                                                GError               **error);

/* A certificate or trusted root hash asks for a verified install; /usr is
 * checked block by block, the ESP is outside dm-verity. Checked here: the
 * UKI the source boots (imprint_source_extract_uki()) names that very
 * /usr, every usrhash= on its .cmdline equal to the verified root hash.
 * Not checked: its Authenticode signature, the other files of the ESP. */
gboolean imprint_source_check_esp_uki (const ImprintSource *source, GError **error);

G_END_DECLS
