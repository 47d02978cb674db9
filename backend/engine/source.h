/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The install source: a Discoverable-Partitions disk image (an image file,
 * a block device, or the disk the running system's /usr lives on).
 * Inspecting it reads the GPT, finds ESP, usr, usr-verity and
 * usr-verity-sig of the native architecture, takes name and version from
 * the usr label, the root hash from the signature partition (and, for the
 * running system, from usrhash= on the kernel command line, the trusted
 * anchor), and checks that everything fits together: UUIDs = halves of the
 * root hash, a sane verity superblock, a hash tree that matches the root
 * hash, no partition beyond the end of the file. Anything wrong is refused
 * with IMPRINT_ERROR_SOURCE_INVALID and a message saying exactly what. */

#include <gio/gio.h>
#include <stdint.h>

#include "copy.h"
#include "verity.h"

G_BEGIN_DECLS

/* GPT partition type GUIDs (lower case), Discoverable Partitions spec. */
#define IMPRINT_GPT_ESP       "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
#define IMPRINT_GPT_XBOOTLDR  "bc13c2ff-59e6-4262-a352-b275fd6f7172"

/* Type GUIDs of the native architecture, NULL when unknown. */
const char *imprint_gpt_type_usr_native            (void);
const char *imprint_gpt_type_usr_verity_native     (void);
const char *imprint_gpt_type_usr_verity_sig_native (void);
const char *imprint_gpt_type_root_native           (void);
/* A short human name for a type GUID ("esp", "usr-x86-64", ...), or NULL. */
const char *imprint_gpt_type_name                  (const char *type_uuid);

/* Label of a slot that holds no valid version (systemd-sysupdate). */
#define IMPRINT_EMPTY_LABEL "_empty"

typedef struct {
  guint    partno;       /* 0-based index in the GPT (libfdisk partno) */
  char    *type;         /* type GUID, lower case */
  char    *uuid;         /* partition UUID, lower case */
  char    *label;        /* GPT partition name */
  guint64  attrs;        /* GPT attribute bits */
  guint64  offset;       /* bytes from the start of the disk */
  guint64  size;         /* bytes */
} ImprintPartition;

typedef struct {
  char    *path;             /* a name that reaches the opened source (for
                              * libfdisk and mtools): the path itself, or
                              * /proc/PID/fd/N of a caller's file */
  char    *display;          /* the name the caller gave, for messages */
  int      fd;               /* read-only, O_CLOEXEC; owned */
  gboolean is_block_device;
  guint64  size;             /* bytes */
  guint32  sector_size;
  char    *disk_uuid;

  ImprintPartition esp;
  ImprintPartition usr;
  ImprintPartition usr_verity;
  ImprintPartition usr_verity_sig;

  char    *name;             /* "ImprintOS" from label "ImprintOS_1.2" */
  char    *version;          /* "1.2" */
  char    *root_hash;        /* hex, lower case */
  gboolean root_hash_trusted;/* came from usrhash= / the caller, not only the image */
  gboolean is_running;       /* the running system's own disk (imprint_source_inspect_running) */
  char    *certificate_fingerprint; /* from the signature JSON, may be NULL */
  char    *signature_json;   /* the signature partition's JSON text */

  ImprintVeritySuperblock verity;
  ImprintVerityTree *tree;   /* verified against root_hash at inspect time */
} ImprintSource;

typedef struct {
  /* Hex root hash to trust (e.g. usrhash= of the running system). When set,
   * the image must carry exactly this hash. NULL: the signature
   * partition's rootHash is used. */
  const char *trusted_root_hash;
  /* PEM certificate: when set, the signature partition's PKCS#7 signature
   * must verify against it. */
  const char *certificate_path;
  /* The certificate's PEM text, already read (imprintd reads it as the
   * caller, bounded); then certificate_path only names it in messages. */
  const char *certificate_pem;
} ImprintSourceOptions;

/* Inspects an image file or block device. @options may be NULL. */
ImprintSource *imprint_source_inspect (const char                 *path,
                                       const ImprintSourceOptions *options,
                                       GError                    **error);

/* Inspects an already opened (and type-checked) image file or block
 * device; takes @fd. @io_path reaches the same file for libfdisk and the
 * mtools (NULL: /proc/PID/fd/N); @display names it in messages. */
ImprintSource *imprint_source_inspect_fd (int                         fd,
                                          const char                 *io_path,
                                          const char                 *display,
                                          const ImprintSourceOptions *options,
                                          GError                    **error);

/* Finds the disk backing /usr of the running system (through dm-verity
 * and partition layers in sysfs) and usrhash= on /proc/cmdline.
 * @ret_usrhash may be NULL when the caller does not need it; it is set to
 * NULL when the command line has no usrhash=. */
gboolean imprint_source_find_running (char   **ret_device,
                                      char   **ret_usrhash,
                                      GError **error);

/* imprint_source_find_running() + imprint_source_inspect() with usrhash= as
 * the trusted root hash (refused when there is none). */
ImprintSource *imprint_source_inspect_running (GError **error);

/* Reads the whole usr partition and checks every block against the
 * (already verified) tree: the full check of the source without writing
 * anything. Progress as for imprint_copy() (step text left to the
 * caller). IMPRINT_ERROR_SOURCE_INVALID names the first bad block. */
gboolean imprint_source_verify (ImprintSource   *source,
                                ImprintProgress *progress,
                                GError         **error);

/* The same, reading through the page cache when @keep_cached, so that a
 * copy with ImprintCopyJob.src_buffered right after takes the bytes from
 * memory instead of the device (source-once.h). */
gboolean imprint_source_verify_cached (ImprintSource   *source,
                                       gboolean         keep_cached,
                                       ImprintProgress *progress,
                                       GError         **error);

void imprint_source_free (ImprintSource *source);

/* Copies the source's unified kernel image (\EFI\Linux\NAME_VERSION.efi in
 * its ESP, or the only .efi there) to DIR/uki.efi and returns that path.
 * NULL without @error set when the source has no (unambiguous) UKI. */
char *imprint_source_extract_uki (const ImprintSource *source, const char *dir, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImprintSource, imprint_source_free)

/* Parses "Name_Version" labels. FALSE when the label has no version. */
gboolean imprint_parse_version_label (const char *label,
                                      char      **ret_name,
                                      char      **ret_version);

/* Reads the GPT of @path (read-only). Returns 1 and an array of
 * ImprintPartition* (freed with
 * imprint_partition_free by the array) when there is a GPT, 0 when there is none
 * (outputs set to NULL/the sector size), negative errno on failure. */
int imprint_read_gpt (const char *path,
                      guint32    *ret_sector_size,
                      char      **ret_disk_uuid,
                      GPtrArray **ret_parts,
                      GError    **error);

/* The same for an open image or device (@name only for messages); @fd is
 * not closed. Partitions whose sectors do not convert to bytes in 64 bits
 * (or are empty) fail with IMPRINT_ERROR_SOURCE_INVALID. */
int imprint_read_gpt_fd (int         fd,
                         const char *name,
                         guint32    *ret_sector_size,
                         char      **ret_disk_uuid,
                         GPtrArray **ret_parts,
                         GError    **error);

/* Every partition non-empty, inside the first @device_size bytes, and
 * no two overlapping: what a source image must satisfy before any offset
 * from its table is used. */
gboolean imprint_partitions_check_layout (GPtrArray  *parts,
                                          guint64     device_size,
                                          const char *name,
                                          GError    **error);

/* Most bytes of a verity signature partition that are read: its JSON must
 * end (NUL padding follows) within them. */
#define IMPRINT_SIGNATURE_MAX_JSON (64u * 1024u)

/* Parses the JSON of a verity signature partition (@size bytes of @buf,
 * NUL-padded; at most IMPRINT_SIGNATURE_MAX_JSON used): rootHash (SHA-256
 * in hex) and signature are required, certificateFingerprint optional.
 * Outputs may be NULL and are set only on success. */
gboolean imprint_signature_json_parse (const char *buf,
                                       gsize       size,
                                       char      **ret_json,
                                       char      **ret_root_hash,
                                       char      **ret_signature,
                                       char      **ret_fingerprint,
                                       GError    **error);

void imprint_partition_clear (ImprintPartition *p);
void imprint_partition_free  (ImprintPartition *p);
void imprint_partition_copy  (ImprintPartition *dst, const ImprintPartition *src);

G_END_DECLS
