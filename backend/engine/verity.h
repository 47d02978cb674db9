/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* dm-verity in userspace: the on-disk format veritysetup writes (superblock
 * version 1, hash type 1) and the tree layout the kernel reads, so a /usr
 * partition can be checked block by block while it streams to the target.
 *
 * Hash partition layout (as veritysetup/systemd-repart write it):
 *   [superblock, 512 bytes, padded to the hash block size]
 *   [top level (1 block)] [next level] ... [level 0: hashes of data blocks]
 * Each entry is H(salt || block); entries are stored at a power-of-two
 * stride inside a hash block, unused bytes are zero. The root hash is
 * H(salt || top level block). */

#include <gio/gio.h>
#include <stdint.h>

G_BEGIN_DECLS

#define IMPRINT_VERITY_SUPERBLOCK_SIZE 512
#define IMPRINT_VERITY_MAX_DIGEST 64
#define IMPRINT_VERITY_MAX_LEVELS 63
/* Most bytes of hash partition (superblock and tree) held in memory: the
 * tree of a 32 GiB /usr with SHA-256 and 4 KiB blocks is 256 MiB. The tree
 * is read whole, so a larger claim is refused rather than allocated. */
#define IMPRINT_VERITY_MAX_TREE_BYTES (256ull * 1024 * 1024)

typedef struct {
  uint32_t version;             /* always 1 */
  uint32_t hash_type;           /* 1 = normal (salt first); 0 (Chrome OS) is refused */
  uint8_t  uuid[16];
  char     algorithm[33];       /* NUL-terminated, e.g. "sha256" */
  uint32_t data_block_size;     /* bytes, power of two, 512..1 MiB */
  uint32_t hash_block_size;     /* bytes, power of two, 512..1 MiB */
  uint64_t data_blocks;         /* data covered by the tree, in data blocks */
  uint16_t salt_size;
  uint8_t  salt[256];
} ImprintVeritySuperblock;

/* Parses and sanity-checks a superblock (the first 512 bytes of a verity
 * hash partition). Fails with IMPRINT_ERROR_SOURCE_INVALID and a message
 * naming the bad field. */
gboolean imprint_verity_superblock_parse (const void              *buf,
                                          size_t                   size,
                                          ImprintVeritySuperblock *ret,
                                          GError                 **error);

/* Bytes of the hash partition that the superblock plus the whole tree
 * occupy; the partition must be at least this large. G_MAXUINT64 when the
 * superblock's numbers overflow. */
guint64  imprint_verity_tree_end        (const ImprintVeritySuperblock *sb);

/* Bytes of the data partition that the tree covers. */
guint64  imprint_verity_data_size       (const ImprintVeritySuperblock *sb);

/* Hex string <-> bytes. Returns the number of bytes, or -1 if not hex. */
gssize   imprint_verity_unhex           (const char *hex,
                                         guint8     *buf,
                                         size_t      size);
char    *imprint_verity_hex             (const guint8 *buf,
                                         size_t        size);

typedef struct ImprintVerityTree ImprintVerityTree;

/* Builds a verifier from the first imprint_verity_tree_end() bytes of the
 * hash partition (superblock included). The whole tree is checked at once,
 * top down, against @root_hash (and spare bytes must be zero), so after
 * this succeeds only the data blocks remain to be checked. */
ImprintVerityTree *imprint_verity_tree_new  (const ImprintVeritySuperblock *sb,
                                             const void                    *hash_partition,
                                             size_t                         size,
                                             const guint8                  *root_hash,
                                             size_t                         root_hash_size,
                                             GError                       **error);
void               imprint_verity_tree_free (ImprintVerityTree *tree);

/* Checks @len bytes of the data partition at @offset against level 0.
 * @offset must be a multiple of the data block size; bytes beyond the
 * covered data are ignored. Several threads may check disjoint ranges at
 * once; each block must be checked once per pass (see _reset()) for
 * _complete() to mean "every block was checked".
 * Fails with IMPRINT_ERROR_SOURCE_INVALID naming the first bad block. */
gboolean imprint_verity_tree_verify_data (ImprintVerityTree *tree,
                                          guint64            offset,
                                          const void        *buf,
                                          size_t             len,
                                          GError           **error);

/* Like _verify_data() for @len bytes of zeros at @offset, without the
 * bytes: for ranges known to read as zeros (holes of a sparse image file).
 * Each block's tree entry must be the hash of a zero block. */
gboolean imprint_verity_tree_verify_zero (ImprintVerityTree *tree,
                                          guint64            offset,
                                          guint64            len,
                                          GError           **error);

/* The data block size of the tree (bytes). */
guint32  imprint_verity_tree_block_size  (ImprintVerityTree *tree);

/* Forgets which blocks were verified, for another pass over the data. */
void     imprint_verity_tree_reset       (ImprintVerityTree *tree);

/* TRUE once every data block covered by the tree has been verified. */
gboolean imprint_verity_tree_complete    (ImprintVerityTree *tree);

/* The verified tree bytes (hash partition offset 0..tree_end), so a copy of
 * the hash partition can be compared with what was verified. */
const guint8 *imprint_verity_tree_bytes  (ImprintVerityTree *tree,
                                          size_t            *ret_size);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImprintVerityTree, imprint_verity_tree_free)

G_END_DECLS
