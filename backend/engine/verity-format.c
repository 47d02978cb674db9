/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The dm-verity on-disk format as bytes: the superblock (read from a
 * source image: every field checked before it is used) and hex digests. */

#include "config.h"

#include <inttypes.h>

#include <endian.h>
#include <glib/gi18n.h>
#include <openssl/evp.h>
#include <string.h>

#include "imprint-error.h"
#include "verity.h"

static gboolean
is_pow2_in (uint32_t v, uint32_t lo, uint32_t hi)
{
  return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

gboolean
imprint_verity_superblock_parse (const void *buf, size_t size,
                                 ImprintVeritySuperblock *ret, GError **error)
{
  const guint8 *p = buf;
  ImprintVeritySuperblock sb = { 0 };
  uint32_t u32;
  uint64_t u64;
  uint16_t u16;

  if (size < IMPRINT_VERITY_SUPERBLOCK_SIZE || memcmp (p, "verity\0\0", 8) != 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity partition has no verity superblock"));
      return FALSE;
    }

  memcpy (&u32, p + 8, 4);  sb.version = le32toh (u32);
  memcpy (&u32, p + 12, 4); sb.hash_type = le32toh (u32);
  memcpy (sb.uuid, p + 16, 16);
  memcpy (sb.algorithm, p + 32, 32);
  sb.algorithm[32] = 0;
  memcpy (&u32, p + 64, 4); sb.data_block_size = le32toh (u32);
  memcpy (&u32, p + 68, 4); sb.hash_block_size = le32toh (u32);
  memcpy (&u64, p + 72, 8); sb.data_blocks = le64toh (u64);
  memcpy (&u16, p + 80, 2); sb.salt_size = le16toh (u16);

  if (sb.version != 1)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("Unsupported verity superblock version %u"), sb.version);
      return FALSE;
    }
  if (sb.hash_type != 1)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("Unsupported verity hash type %u (only type 1 is used by systemd)"),
                   sb.hash_type);
      return FALSE;
    }
  if (!is_pow2_in (sb.data_block_size, 512, 1024 * 1024) ||
      !is_pow2_in (sb.hash_block_size, 512, 1024 * 1024))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("Invalid verity block sizes (data %u, hash %u bytes)"),
                   sb.data_block_size, sb.hash_block_size);
      return FALSE;
    }
  if (sb.data_blocks == 0 || sb.data_blocks > (G_MAXUINT64 / sb.data_block_size))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("Invalid verity data block count %" PRIu64),
                   (guint64) sb.data_blocks);
      return FALSE;
    }
  if (sb.salt_size > sizeof (sb.salt))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("Invalid verity salt size %u"), sb.salt_size);
      return FALSE;
    }
  memcpy (sb.salt, p + 88, sb.salt_size);

  const EVP_MD *md = EVP_get_digestbyname (sb.algorithm);
  if (md == NULL || EVP_MD_get_size (md) <= 0 || EVP_MD_get_size (md) > IMPRINT_VERITY_MAX_DIGEST ||
      (uint32_t) EVP_MD_get_size (md) * 2 > sb.hash_block_size)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("Unsupported verity hash algorithm \"%s\""), sb.algorithm);
      return FALSE;
    }

  *ret = sb;
  return TRUE;
}

gssize
imprint_verity_unhex (const char *hex, guint8 *buf, size_t size)
{
  size_t n = strlen (hex);

  if (n == 0 || n % 2 != 0 || n / 2 > size)
    return -1;
  for (size_t i = 0; i < n / 2; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        return -1;
      buf[i] = (guint8) (hi << 4 | lo);
    }
  return (gssize) (n / 2);
}

char *
imprint_verity_hex (const guint8 *buf, size_t size)
{
  char *s = g_malloc (size * 2 + 1);
  for (size_t i = 0; i < size; i++)
    g_snprintf (s + 2 * i, 3, "%02x", buf[i]);
  s[size * 2] = 0;
  return s;
}
