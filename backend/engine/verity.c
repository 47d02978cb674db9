/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The dm-verity hash tree in userspace (kernel layout, hash type 1): the
 * whole tree checked against the root hash once, then data blocks checked
 * against it as they stream by. The superblock is verity-format.c. */
#include "config.h"

#include <inttypes.h>

#include <endian.h>
#include <glib/gi18n.h>
#include <openssl/evp.h>
#include <string.h>

#include "buffer.h"
#include "imprint-error.h"
#include "sha256-x2.h"
#include "verity.h"

struct ImprintVerityTree {
  ImprintVeritySuperblock sb;
  EVP_MD *md;                                      /* explicitly fetched: no lookup per block */
  EVP_MD_CTX *ctx;                                 /* for the tree check in _new() */
  unsigned digest_size;
  unsigned hash_per_block_bits;
  unsigned levels;
  guint64 level_offset[IMPRINT_VERITY_MAX_LEVELS]; /* bytes into the hash partition */
  guint8 root_hash[IMPRINT_VERITY_MAX_DIGEST];
  guint8 zero_hash[IMPRINT_VERITY_MAX_DIGEST];     /* H(salt || data block of zeros) */
  guint8 *bytes;                                   /* hash partition 0..end */
  size_t size;
  guint64 verified_blocks;                         /* atomic; blocks checked in this pass */
  gboolean x2;                                     /* sha256: data blocks hashed pairwise */
  ImprintSha256Prefix prefix;                      /* the salt, for imprint_sha256_x2() */
};

static unsigned
log2u (guint64 v)
{
  unsigned r = 0;
  while (v > 1)
    {
      v >>= 1;
      r++;
    }
  return r;
}

/* The geometry the kernel computes in dm-verity-target.c: hashes per block
 * rounded down to a power of two, and the number of levels such that the
 * top level is a single block. */
static void
geometry (const ImprintVeritySuperblock *sb, unsigned digest_size,
          unsigned *ret_bits, unsigned *ret_levels)
{
  unsigned bits = log2u (sb->hash_block_size / digest_size);
  unsigned levels = 0;

  while (bits * levels < 64 && ((sb->data_blocks - 1) >> (bits * levels)) != 0)
    levels++;

  *ret_bits = bits;
  *ret_levels = levels;
}

static guint64
level_blocks (const ImprintVeritySuperblock *sb, unsigned bits, unsigned level)
{
  unsigned shift = bits * (level + 1);
  if (shift >= 64)
    return 1;
  return (sb->data_blocks + ((guint64) 1 << shift) - 1) >> shift;
}

/* The hash area starts at the first hash block after the superblock. */
static guint64
hash_area_offset (const ImprintVeritySuperblock *sb)
{
  return ((IMPRINT_VERITY_SUPERBLOCK_SIZE + sb->hash_block_size - 1) / sb->hash_block_size)
         * (guint64) sb->hash_block_size;
}

guint64
imprint_verity_tree_end (const ImprintVeritySuperblock *sb)
{
  const EVP_MD *md = EVP_get_digestbyname (sb->algorithm);
  unsigned bits, levels;
  guint64 blocks = 0;

  guint64 bytes, end;

  g_return_val_if_fail (md != NULL, G_MAXUINT64);
  geometry (sb, EVP_MD_get_size (md), &bits, &levels);
  /* The superblock's numbers are the image's word: checked, so a tree
   * "ending" beyond 2^64 cannot wrap to something that fits. G_MAXUINT64
   * is larger than any partition. */
  for (unsigned i = 0; i < levels; i++)
    if (!g_uint64_checked_add (&blocks, blocks, level_blocks (sb, bits, i)))
      return G_MAXUINT64;
  if (!g_uint64_checked_mul (&bytes, blocks, sb->hash_block_size) ||
      !g_uint64_checked_add (&end, hash_area_offset (sb), bytes))
    return G_MAXUINT64;
  return end;
}

guint64
imprint_verity_data_size (const ImprintVeritySuperblock *sb)
{
  guint64 size;

  /* _superblock_parse() refuses counts that overflow; checked anyway. */
  if (!g_uint64_checked_mul (&size, sb->data_blocks, sb->data_block_size))
    return G_MAXUINT64;
  return size;
}

static gboolean
hash_block_ctx (ImprintVerityTree *t, EVP_MD_CTX *ctx, const void *block, size_t len, guint8 *out)
{
  unsigned out_len = 0;

  /* Hash type 1: the salt goes first. Re-initialising the same context
   * with the same fetched digest keeps the provider's state, which matters
   * at millions of blocks. */
  return EVP_DigestInit_ex2 (ctx, t->md, NULL) == 1 &&
         EVP_DigestUpdate (ctx, t->sb.salt, t->sb.salt_size) == 1 &&
         EVP_DigestUpdate (ctx, block, len) == 1 &&
         EVP_DigestFinal_ex (ctx, out, &out_len) == 1 &&
         out_len == t->digest_size;
}

static gboolean
hash_block (ImprintVerityTree *t, const void *block, size_t len, guint8 *out)
{
  return hash_block_ctx (t, t->ctx, block, len, out);
}

/* Where the expected hash of block @idx of level @level - 1 (or of data
 * block @idx when @level is 0) lives. */
static const guint8 *
entry (ImprintVerityTree *t, unsigned level, guint64 idx)
{
  guint64 block = idx >> t->hash_per_block_bits;
  guint64 slot = idx & (((guint64) 1 << t->hash_per_block_bits) - 1);
  size_t stride = t->sb.hash_block_size >> t->hash_per_block_bits;

  return t->bytes + t->level_offset[level] + block * t->sb.hash_block_size + slot * stride;
}

static gboolean
check_spare (ImprintVerityTree *t, unsigned level, guint64 blocks_below, GError **error)
{
  guint64 nblocks = level_blocks (&t->sb, t->hash_per_block_bits, level);
  size_t stride = t->sb.hash_block_size >> t->hash_per_block_bits;
  guint64 slots = nblocks << t->hash_per_block_bits;

  /* Padding after each digest and the unused slots of the last block must
   * be zero, as veritysetup verify insists. */
  for (guint64 i = 0; i < slots; i++)
    {
      const guint8 *e = entry (t, level, i);
      size_t from = i < blocks_below ? t->digest_size : 0;
      for (size_t k = from; k < stride; k++)
        if (e[k] != 0)
          {
            g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                         _("The verity hash partition is corrupt: spare area of level %u is not zero"),
                         level);
            return FALSE;
          }
    }
  /* Bytes after the last slot of a block when the stride does not fill it. */
  size_t used = ((size_t) 1 << t->hash_per_block_bits) * stride;
  for (guint64 b = 0; b < nblocks && used < t->sb.hash_block_size; b++)
    {
      const guint8 *blk = t->bytes + t->level_offset[level] + b * t->sb.hash_block_size;
      for (size_t k = used; k < t->sb.hash_block_size; k++)
        if (blk[k] != 0)
          {
            g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                         _("The verity hash partition is corrupt: spare area of level %u is not zero"),
                         level);
            return FALSE;
          }
    }
  return TRUE;
}

/* The digest for @sb's algorithm (OpenSSL, or SHA-256 pairwise with the
 * x86 SHA extensions) and the tree's geometry. */
static gboolean
tree_init_hash (ImprintVerityTree *t, const ImprintVeritySuperblock *sb, GError **error)
{
  t->sb = *sb;
  t->md = EVP_MD_fetch (NULL, sb->algorithm, NULL);
  t->ctx = EVP_MD_CTX_new ();
  if (t->md == NULL || t->ctx == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Cannot set up hash algorithm \"%s\""), sb->algorithm);
      return FALSE;
    }
  t->digest_size = EVP_MD_get_size (t->md);
  geometry (sb, t->digest_size, &t->hash_per_block_bits, &t->levels);
  t->x2 = g_ascii_strcasecmp (sb->algorithm, "sha256") == 0 && imprint_sha256_x2_available () &&
          g_getenv ("IMPRINT_VERITY_NO_X2") == NULL; /* benchmark knob */
  if (t->x2)
    imprint_sha256_prefix_init (&t->prefix, sb->salt, sb->salt_size);
  return TRUE;
}

/* Our own copy of the tree (the caller's bytes may change under us), and
 * where each level starts in it: kernel order, the top level first. */
static gboolean
tree_copy (ImprintVerityTree *t, const void *hash_partition, size_t size, GError **error)
{
  const ImprintVeritySuperblock *sb = &t->sb;
  guint64 end = imprint_verity_tree_end (sb), pos;

  if (size < end)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity hash partition is too small for its tree (%" PRIu64
                     " bytes needed, %zu present)"), end, size);
      return FALSE;
    }
  t->bytes = imprint_buffer_alloc (end);
  if (t->bytes == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("Out of memory"));
      return FALSE;
    }
  memcpy (t->bytes, hash_partition, end);
  t->size = end;

  pos = hash_area_offset (sb);
  for (int i = (int) t->levels - 1; i >= 0; i--)
    {
      t->level_offset[i] = pos;
      pos += level_blocks (sb, t->hash_per_block_bits, i) * sb->hash_block_size;
    }
  return TRUE;
}

/* Every block of level @i against its entry one level up, pairwise where
 * the SHA extensions allow (a tree of 512-byte blocks has hundreds of
 * thousands). */
static gboolean
tree_check_level (ImprintVerityTree *t, int i, GError **error)
{
  const ImprintVeritySuperblock *sb = &t->sb;
  guint64 n = level_blocks (sb, t->hash_per_block_bits, i);
  guint8 digest[IMPRINT_VERITY_MAX_DIGEST];

  for (guint64 b = 0; b < n; b++)
    {
      const guint8 *blk = t->bytes + t->level_offset[i] + b * sb->hash_block_size;
      guint8 next[IMPRINT_VERITY_MAX_DIGEST];
      gboolean pair = t->x2 && b + 1 < n;

      if (pair)
        imprint_sha256_x2 (&t->prefix, blk, blk + sb->hash_block_size, sb->hash_block_size,
                           digest, next);
      else if (!hash_block (t, blk, sb->hash_block_size, digest))
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("Hashing failed"));
          return FALSE;
        }
      for (int k = 0; k < 1 + pair; k++)
        if (memcmp (k == 0 ? digest : next, entry (t, i + 1, b + k), t->digest_size) != 0)
          {
            g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                         _("The verity hash partition is corrupt: block %" PRIu64
                           " of level %d does not match its hash"), b + k, i);
            return FALSE;
          }
      b += pair;
    }
  return check_spare (t, i + 1, n, error);
}

ImprintVerityTree *
imprint_verity_tree_new (const ImprintVeritySuperblock *sb,
                         const void *hash_partition, size_t size,
                         const guint8 *root_hash, size_t root_hash_size,
                         GError **error)
{
  g_autoptr(ImprintVerityTree) t = g_new0 (ImprintVerityTree, 1);
  guint8 digest[IMPRINT_VERITY_MAX_DIGEST];

  if (!tree_init_hash (t, sb, error))
    return NULL;
  if (root_hash_size != t->digest_size)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The root hash has %zu bytes, but %s needs %u"),
                   root_hash_size, sb->algorithm, t->digest_size);
      return NULL;
    }
  memcpy (t->root_hash, root_hash, root_hash_size);
  if (!tree_copy (t, hash_partition, size, error))
    return NULL;

  /* Zero data blocks (the unused end of a partition, holes of an image
   * file) all have this hash: they are checked against the tree without
   * hashing each. */
  {
    g_autofree guint8 *zero = g_malloc0 (sb->data_block_size);
    if (!hash_block (t, zero, sb->data_block_size, t->zero_hash))
      goto hash_failed;
  }

  if (t->levels == 0)
    return g_steal_pointer (&t);

  /* Top level block against the root hash, then every lower level. */
  if (!hash_block (t, t->bytes + t->level_offset[t->levels - 1], sb->hash_block_size, digest))
    goto hash_failed;
  if (memcmp (digest, t->root_hash, t->digest_size) != 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity hash tree does not match the root hash"));
      return NULL;
    }
  for (int i = (int) t->levels - 2; i >= 0; i--)
    if (!tree_check_level (t, i, error))
      return NULL;
  if (!check_spare (t, 0, sb->data_blocks, error))
    return NULL;

  return g_steal_pointer (&t);

hash_failed:
  g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("Hashing failed"));
  return NULL;
}

void
imprint_verity_tree_free (ImprintVerityTree *t)
{
  if (t == NULL)
    return;
  EVP_MD_CTX_free (t->ctx);
  EVP_MD_free (t->md);
  imprint_buffer_free (t->bytes, t->size);
  g_free (t);
}

static gboolean
is_zero (const guint8 *p, size_t n)
{
  /* Overlapping compare: p[0] == 0 and every byte equals the one before. */
  return p[0] == 0 && memcmp (p, p + 1, n - 1) == 0;
}

static void
corrupt_block (guint64 blk, guint32 bs, GError **error)
{
  g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
               _("The system partition is corrupt: data block %" PRIu64
                 " (at byte %" PRIu64 ") does not match its verity hash"),
               blk, blk * bs);
}

static gboolean
check_block (ImprintVerityTree *t, guint64 blk, const guint8 *actual, GError **error)
{
  const guint8 *expected = t->levels == 0 ? t->root_hash : entry (t, 0, blk);

  if (memcmp (actual, expected, t->digest_size) == 0)
    return TRUE;
  corrupt_block (blk, t->sb.data_block_size, error);
  return FALSE;
}

/* One block hashed alone (OpenSSL) and checked. */
static gboolean
check_single (ImprintVerityTree *t, EVP_MD_CTX *ctx, const guint8 *p, guint64 blk, GError **error)
{
  guint8 digest[IMPRINT_VERITY_MAX_DIGEST];

  if (!hash_block_ctx (t, ctx, p, t->sb.data_block_size, digest))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("Hashing failed"));
      return FALSE;
    }
  return check_block (t, blk, digest, error);
}

gboolean
imprint_verity_tree_verify_zero (ImprintVerityTree *t, guint64 offset, guint64 len, GError **error)
{
  guint32 bs = t->sb.data_block_size;
  guint64 count = 0;

  g_return_val_if_fail (offset % bs == 0, FALSE);

  guint64 blk = offset / bs;
  for (; len >= bs && blk < t->sb.data_blocks; blk++, len -= bs)
    {
      if (!check_block (t, blk, t->zero_hash, error))
        return FALSE;
      count++;
    }
  if (len > 0 && blk < t->sb.data_blocks)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Verity data must be checked in whole blocks"));
      return FALSE;
    }
  __atomic_fetch_add (&t->verified_blocks, count, __ATOMIC_RELAXED);
  return TRUE;
}

gboolean
imprint_verity_tree_verify_data (ImprintVerityTree *t, guint64 offset,
                                 const void *buf, size_t len, GError **error)
{
  const guint8 *p = buf;
  guint32 bs = t->sb.data_block_size;
  guint8 digest[IMPRINT_VERITY_MAX_DIGEST];
  EVP_MD_CTX *ctx;
  guint64 count = 0;
  gboolean ok = FALSE;

  g_return_val_if_fail (offset % bs == 0, FALSE);

  /* A context per call, so disjoint ranges can be checked in parallel. */
  ctx = EVP_MD_CTX_new ();
  if (ctx == NULL)
    goto hash_failed;

  guint64 blk = offset / bs;
  const guint8 *pending = NULL;   /* a block waiting for a partner (x2) */
  guint64 pending_blk = 0;
  for (; len >= bs && blk < t->sb.data_blocks; blk++, p += bs, len -= bs)
    {
      /* A zero block has a known hash; finding out that a block is not
       * zero usually takes a byte or two. */
      if (is_zero (p, bs))
        {
          if (pending != NULL && !check_single (t, ctx, pending, pending_blk, error))
            goto out;
          count += pending != NULL;
          pending = NULL;
          if (!check_block (t, blk, t->zero_hash, error))
            goto out;
          count++;
          continue;
        }
      if (t->x2 && pending == NULL)
        {
          pending = p;
          pending_blk = blk;
          continue;
        }
      if (t->x2)
        {
          guint8 other[IMPRINT_VERITY_MAX_DIGEST];
          imprint_sha256_x2 (&t->prefix, pending, p, bs, other, digest);
          pending = NULL;
          if (!check_block (t, pending_blk, other, error))
            goto out;
          count++;
        }
      else if (!hash_block_ctx (t, ctx, p, bs, digest))
        goto hash_failed;
      if (!check_block (t, blk, digest, error))
        goto out;
      count++;
    }
  if (pending != NULL)
    {
      if (!check_single (t, ctx, pending, pending_blk, error))
        goto out;
      count++;
    }
  if (len > 0 && blk < t->sb.data_blocks)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Verity data must be checked in whole blocks"));
      goto out;
    }
  __atomic_fetch_add (&t->verified_blocks, count, __ATOMIC_RELAXED);
  ok = TRUE;
  goto out;

hash_failed:
  g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("Hashing failed"));
out:
  EVP_MD_CTX_free (ctx);
  return ok;
}

guint32
imprint_verity_tree_block_size (ImprintVerityTree *t)
{
  return t->sb.data_block_size;
}

void
imprint_verity_tree_reset (ImprintVerityTree *t)
{
  __atomic_store_n (&t->verified_blocks, 0, __ATOMIC_RELAXED);
}

gboolean
imprint_verity_tree_complete (ImprintVerityTree *t)
{
  return __atomic_load_n (&t->verified_blocks, __ATOMIC_RELAXED) == t->sb.data_blocks;
}

const guint8 *
imprint_verity_tree_bytes (ImprintVerityTree *t, size_t *ret_size)
{
  *ret_size = t->size;
  return t->bytes;
}
