/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between the files of the source inspection (source.c,
 * source-gpt.c, source-signature.c); not part of the engine's API. */

#include <gio/gio.h>

#include "source.h"

G_BEGIN_DECLS

/* The Discoverable Partitions type UUIDs of one architecture. */
typedef struct {
  const char *name;   /* as in the spec: "x86-64" */
  const char *root, *usr, *usr_verity, *usr_verity_sig;
} ImprintArchTypes;

/* This machine's, or NULL on an architecture Imprint does not know. */
const ImprintArchTypes *imprint_native_arch (void);

/* pread() of exactly @len bytes at @offset: 0, or negative errno (-EIO
 * when the file ends first). */
int imprint_read_exact (int fd, void *buf, size_t len, guint64 offset);

/* The UUID made of the first (usr) or second (usr-verity) half of a hex
 * root hash, as systemd-repart assigns them. */
char *imprint_uuid_from_hash_half (const char *root_hash, gboolean second);

/* Picks the slot to install among @parts (source-signature.c): every
 * verity signature partition whose root hash names a usr partition (and
 * equals @trusted_root_hash when given); with several, the newest version.
 * Fills s->usr, usr_verity_sig, root_hash, root_hash_trusted,
 * certificate_fingerprint, signature_json and returns the signature itself
 * (base64 PKCS#7) in *ret_signature. */
gboolean imprint_source_pick_signed_usr (ImprintSource *s,
                                         GPtrArray     *parts,
                                         const char    *trusted_root_hash,
                                         char         **ret_signature,
                                         GError       **error);

/* Checks the PKCS#7 @signature_b64 over @root_hash against one certificate
 * (a file, or PEM text when @cert_pem is not NULL). */
gboolean imprint_source_signature_verify (const char *root_hash,
                                          const char *signature_b64,
                                          const char *cert_path,
                                          const char *cert_pem,
                                          GError    **error);

G_END_DECLS
