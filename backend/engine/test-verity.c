/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the userspace dm-verity: a tree built here the way the
 * kernel lays it out must verify; any flipped bit must not. Also checks
 * the EFI load option encoding. Cross-checks against veritysetup live in
 * tests/engine (they need the tool). */
#include "config.h"

#include <openssl/evp.h>
#include <string.h>

#include <fcntl.h>
#include <glib/gstdio.h>

#include "buffer.h"
#include "copy.h"
#include "efi-boot.h"
#include "imprint-error.h"
#include "sha256-x2.h"
#include "verity.h"

/* Builds superblock + tree with 512-byte blocks, 16 entries per block. */
static guint8 *
build (const guint8 *data, guint64 nblocks, guint32 bs, const guint8 *salt, guint16 salt_size,
       guint8 *root, size_t *ret_size, ImprintVeritySuperblock *sb)
{
  unsigned hpb = bs / 32, levels = 0;
  guint64 counts[16];
  guint64 n = nblocks;
  while (n > 1 || levels == 0)
    {
      n = (n + hpb - 1) / hpb;
      counts[levels++] = n;
      if (n == 1)
        break;
    }
  guint64 total = 0;
  for (unsigned i = 0; i < levels; i++)
    total += counts[i];
  size_t size = bs + total * bs;
  guint8 *out = g_malloc0 (size);

  memset (sb, 0, sizeof (*sb));
  memcpy (out, "verity\0\0", 8);
  guint32 one = GUINT32_TO_LE (1);
  memcpy (out + 8, &one, 4);
  memcpy (out + 12, &one, 4);
  memcpy (out + 32, "sha256", 6);
  guint32 b = GUINT32_TO_LE (bs);
  memcpy (out + 64, &b, 4);
  memcpy (out + 68, &b, 4);
  guint64 nb = GUINT64_TO_LE (nblocks);
  memcpy (out + 72, &nb, 8);
  guint16 ss = GUINT16_TO_LE (salt_size);
  memcpy (out + 80, &ss, 2);
  memcpy (out + 88, salt, salt_size);
  g_assert_true (imprint_verity_superblock_parse (out, size, sb, NULL));

  /* Level offsets: top first. */
  guint64 off[16];
  guint64 pos = bs;
  for (int i = (int) levels - 1; i >= 0; i--)
    {
      off[i] = pos;
      pos += counts[i] * bs;
    }
  const guint8 *below = data;
  guint64 below_n = nblocks;
  for (unsigned l = 0; l < levels; l++)
    {
      for (guint64 k = 0; k < below_n; k++)
        {
          unsigned len = 0;
          EVP_MD_CTX *c = EVP_MD_CTX_new ();
          EVP_DigestInit_ex (c, EVP_sha256 (), NULL);
          EVP_DigestUpdate (c, salt, salt_size);
          EVP_DigestUpdate (c, below + k * bs, bs);
          EVP_DigestFinal_ex (c, out + off[l] + k * 32, &len);
          EVP_MD_CTX_free (c);
        }
      below = out + off[l];
      below_n = counts[l];
    }
  unsigned len = 0;
  EVP_MD_CTX *c = EVP_MD_CTX_new ();
  EVP_DigestInit_ex (c, EVP_sha256 (), NULL);
  EVP_DigestUpdate (c, salt, salt_size);
  EVP_DigestUpdate (c, out + off[levels - 1], bs);
  EVP_DigestFinal_ex (c, root, &len);
  EVP_MD_CTX_free (c);
  *ret_size = size;
  return out;
}

static void
test_roundtrip (void)
{
  const guint32 bs = 512;
  const guint64 nblocks = 300; /* three levels with 16 per block */
  g_autofree guint8 *data = g_malloc (nblocks * bs);
  guint8 salt[32], root[32];
  ImprintVeritySuperblock sb;
  size_t size;
  g_autoptr(GError) error = NULL;

  for (guint64 i = 0; i < nblocks * bs; i++)
    data[i] = (guint8) g_random_int ();
  for (int i = 0; i < 32; i++)
    salt[i] = (guint8) i;
  g_autofree guint8 *hp = build (data, nblocks, bs, salt, 32, root, &size, &sb);

  g_assert_cmpuint (imprint_verity_tree_end (&sb), ==, size);
  g_autoptr(ImprintVerityTree) t = imprint_verity_tree_new (&sb, hp, size, root, 32, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  /* Uneven chunks that stay block aligned. */
  g_assert_true (imprint_verity_tree_verify_data (t, 0, data, 7 * bs, &error));
  g_assert_true (imprint_verity_tree_verify_data (t, 7 * bs, data + 7 * bs, (nblocks - 7) * bs, &error));
  g_assert_no_error (error);
  g_assert_true (imprint_verity_tree_complete (t));

  /* A flipped bit in the data. */
  imprint_verity_tree_reset (t);
  data[123 * bs + 5] ^= 0x10;
  g_assert_false (imprint_verity_tree_verify_data (t, 0, data, nblocks * bs, &error));
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID);
  g_assert_nonnull (strstr (error->message, "block 123"));
  g_clear_error (&error);
  data[123 * bs + 5] ^= 0x10;

  /* A flipped bit anywhere in the tree, or the wrong root. */
  for (size_t at = bs; at < size; at += 997)
    {
      hp[at] ^= 1;
      ImprintVerityTree *bad = imprint_verity_tree_new (&sb, hp, size, root, 32, &error);
      g_assert_null (bad);
      g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID);
      g_clear_error (&error);
      hp[at] ^= 1;
    }
  root[0] ^= 1;
  g_assert_null (imprint_verity_tree_new (&sb, hp, size, root, 32, &error));
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID);
  g_clear_error (&error);

  /* Truncated hash partition. */
  root[0] ^= 1;
  g_assert_null (imprint_verity_tree_new (&sb, hp, size - 1, root, 32, &error));
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID);
}

static void
test_superblock_invalid (void)
{
  guint8 buf[512] = { 0 };
  ImprintVeritySuperblock sb;
  g_autoptr(GError) error = NULL;

  g_assert_false (imprint_verity_superblock_parse (buf, sizeof (buf), &sb, &error));
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID);
  g_clear_error (&error);
  memcpy (buf, "verity\0\0", 8);
  buf[8] = 1; buf[12] = 1;
  memcpy (buf + 32, "sha256", 6);
  buf[65] = 0x02; buf[69] = 0x03; /* 512 and 768: not a power of two */
  buf[72] = 1;
  g_assert_false (imprint_verity_superblock_parse (buf, sizeof (buf), &sb, &error));
  g_assert_nonnull (strstr (error->message, "block sizes"));
}

static void
test_efi_load_option (void)
{
  g_autoptr(GBytes) b = imprint_efi_load_option_new ("Imprint", 1, 2048, 131072,
                                                     "a45abb82-d080-466c-a7a2-0300133bb3fc",
                                                     "\\EFI\\systemd\\systemd-bootx64.efi");
  gsize n;
  const guint8 *d = g_bytes_get_data (b, &n);
  /* Attributes ACTIVE, then FilePathListLength. */
  g_assert_cmpuint (d[0], ==, 1);
  guint16 fpl = d[4] | d[5] << 8;
  /* "Imprint" + NUL in UTF-16 = 16 bytes. */
  const guint8 *dp = d + 6 + 16;
  g_assert_cmpuint (n, ==, 6 + 16 + fpl);
  g_assert_cmpuint (dp[0], ==, 4);
  g_assert_cmpuint (dp[1], ==, 1);
  g_assert_cmpuint (dp[2], ==, 42);
  g_assert_cmpuint (dp[4], ==, 1);            /* partition number */
  g_assert_cmpuint (dp[8] | dp[9] << 8, ==, 2048);
  /* GUID mixed endian: a45abb82 -> 82 bb 5a a4. */
  g_assert_cmpuint (dp[24], ==, 0x82);
  g_assert_cmpuint (dp[27], ==, 0xa4);
  g_assert_cmpuint (dp[40], ==, 2);
  g_assert_cmpuint (dp[41], ==, 2);
  g_assert_cmpuint (dp[42], ==, 4);
  g_assert_cmpuint (dp[43], ==, 4);
  g_assert_cmpuint (dp[fpl - 4], ==, 0x7f);
  g_assert_cmpuint (dp[fpl - 3], ==, 0xff);

  /* Register twice into a fake efivars directory: one entry, first in
   * BootOrder, existing order kept behind it. */
  g_autofree char *dir = g_dir_make_tmp ("imprint-efivars-XXXXXX", NULL);
  g_autofree char *bo = g_build_filename (dir, "BootOrder-8be4df61-93ca-11d2-aa0d-00e098032b8c", NULL);
  const guint8 order[] = { 7, 0, 0, 0, 0, 0, 3, 0 }; /* attrs, 0003 */
  g_assert_true (g_file_set_contents (bo, (const char *) order, sizeof (order), NULL));
  g_autoptr(GError) error = NULL;
  guint16 num1 = 0xffff, num2 = 0xfffe;
  g_assert_true (imprint_efi_register_boot_entry (dir, b, &num1, &error));
  g_assert_no_error (error);
  g_assert_true (imprint_efi_register_boot_entry (dir, b, &num2, &error));
  g_assert_cmpuint (num1, ==, num2);
  g_autofree char *c = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (bo, &c, &len, NULL));
  g_assert_cmpuint (len, ==, 8);
  g_assert_cmpuint ((guint8) c[4], ==, num1);
  g_assert_cmpuint ((guint8) c[6], ==, 3);
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", dir);
  g_assert_cmpint (system (rm), ==, 0);
}

/* A data file of @nblocks 512-byte blocks and its verified tree. */
typedef struct {
  char *path;
  int fd;
  guint8 *data;
  size_t size;
  ImprintVerityTree *tree;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer user_data)
{
  const guint64 nblocks = 12288; /* 6 MiB */
  guint8 salt[32] = { 1, 2, 3 }, root[32];
  ImprintVeritySuperblock sb;
  size_t hsize;

  f->size = nblocks * 512;
  f->data = g_malloc (f->size);
  for (size_t i = 0; i < f->size; i++)
    f->data[i] = (guint8) g_random_int ();
  g_autofree guint8 *hp = build (f->data, nblocks, 512, salt, 32, root, &hsize, &sb);
  f->tree = imprint_verity_tree_new (&sb, hp, hsize, root, 32, NULL);
  g_assert_nonnull (f->tree);
  f->fd = g_file_open_tmp ("imprint-copy-XXXXXX", &f->path, NULL);
  g_assert_cmpint (f->fd, >=, 0);
  g_assert_cmpint (pwrite (f->fd, f->data, f->size, 0), ==, (ssize_t) f->size);
}

static void
fixture_teardown (Fixture *f, gconstpointer user_data)
{
  close (f->fd);
  g_unlink (f->path);
  g_free (f->path);
  g_free (f->data);
  imprint_verity_tree_free (f->tree);
}

static int
tmp_target (char **path)
{
  int fd = g_file_open_tmp ("imprint-copy-target-XXXXXX", path, NULL);
  g_assert_cmpint (fd, >=, 0);
  return fd;
}

static void
test_copy_verified (Fixture *f, gconstpointer user_data)
{
  g_autofree char *tpath = NULL;
  int tfd = tmp_target (&tpath);
  g_autoptr(GError) error = NULL;
  ImprintProgress progress = { .total = f->size };
  ImprintCopyJob job = {
    .src_fd = f->fd, .dst_fd = tfd, .dst_offset = 4096, .length = f->size, .what = "test",
    .verify_tree = f->tree, .buffer_size = 1024 * 1024, .n_buffers = 3,
  };

  g_assert_true (imprint_copy (&job, &progress, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (progress.done, ==, f->size);
  g_assert_true (imprint_verity_tree_complete (f->tree));
  g_autofree guint8 *back = g_malloc (f->size);
  g_assert_cmpint (pread (tfd, back, f->size, 4096), ==, (ssize_t) f->size);
  g_assert_cmpmem (back, f->size, f->data, f->size);
  close (tfd);
  g_unlink (tpath);
}

static void
test_copy_corrupt (Fixture *f, gconstpointer user_data)
{
  g_autofree char *tpath = NULL;
  int tfd = tmp_target (&tpath);
  g_autoptr(GError) error = NULL;
  guint8 b = f->data[5 * 1024 * 1024 + 3] ^ 0x40;
  ImprintCopyJob job = {
    .src_fd = f->fd, .dst_fd = tfd, .length = f->size, .what = "test",
    .verify_tree = f->tree, .buffer_size = 1024 * 1024,
  };

  g_assert_cmpint (pwrite (f->fd, &b, 1, 5 * 1024 * 1024 + 3), ==, 1);
  imprint_verity_tree_reset (f->tree);
  g_assert_false (imprint_copy (&job, NULL, &error));
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID);
  /* The bad buffer never reached the target. */
  struct stat st;
  g_assert_cmpint (fstat (tfd, &st), ==, 0);
  g_assert_cmpint (st.st_size, <=, 5 * 1024 * 1024);
  close (tfd);
  g_unlink (tpath);
}

static void
cancel_on_progress (const char *step, guint64 done, guint64 total, gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

static void
test_copy_cancel (Fixture *f, gconstpointer user_data)
{
  g_autofree char *tpath = NULL;
  int tfd = tmp_target (&tpath);
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) c = g_cancellable_new ();
  ImprintProgress progress = { .func = cancel_on_progress, .user_data = c, .cancellable = c };
  ImprintCopyJob job = {
    .src_fd = f->fd, .dst_fd = tfd, .length = f->size, .what = "test",
    .verify_tree = f->tree, .buffer_size = 1024 * 1024,
  };

  imprint_verity_tree_reset (f->tree);
  g_assert_false (imprint_copy (&job, &progress, &error));
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED);
  g_assert_cmpuint (progress.done, ==, 1024 * 1024);
  close (tfd);
  g_unlink (tpath);
}

static void
test_copy_truncated_source (Fixture *f, gconstpointer user_data)
{
  g_autofree char *tpath = NULL;
  int tfd = tmp_target (&tpath);
  g_autoptr(GError) error = NULL;
  ImprintCopyJob job = {
    .src_fd = f->fd, .dst_fd = tfd, .length = f->size + 65536, .what = "test",
  };

  g_assert_false (imprint_copy (&job, NULL, &error));
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID);
  g_assert_nonnull (strstr (error->message, "truncated"));
  close (tfd);
  g_unlink (tpath);
}

/* expect_is_source: the verified bytes are written as they are (the
 * source's copy of them is not read, but for the last partial 4 KiB
 * block), the rest comes from the source. */
static void
test_copy_expect_is_source (Fixture *f, gconstpointer user_data)
{
  g_autofree char *tpath = NULL;
  int tfd = tmp_target (&tpath);
  g_autoptr(GError) error = NULL;
  const size_t known = 1024 * 1024 + 512;
  guint8 *expect = imprint_buffer_alloc (known);
  ImprintCopyJob job = {
    .src_fd = f->fd, .dst_fd = tfd, .length = f->size, .what = "test",
    .expect = expect, .expect_size = known, .expect_is_source = TRUE,
    .buffer_size = 512 * 1024,
  };

  /* Up to the last 4 KiB boundary they differ from the source, to show
   * it is not read there; the partial block after it is read (direct,
   * aligned) and compared, so there they are the source's bytes. */
  for (size_t i = 0; i < known; i++)
    expect[i] = i < (known & ~(size_t) 4095) ? (guint8) (i * 7 + 1) : f->data[i];
  g_assert_true (imprint_copy (&job, NULL, &error));
  g_assert_no_error (error);
  g_autofree guint8 *back = g_malloc (f->size);
  g_assert_cmpint (pread (tfd, back, f->size, 0), ==, (ssize_t) f->size);
  g_assert_cmpmem (back, known, expect, known);
  g_assert_cmpmem (back + known, f->size - known, f->data + known, f->size - known);
  imprint_buffer_free (expect, known);
  close (tfd);
  g_unlink (tpath);
}

static void
test_copy_no_space (Fixture *f, gconstpointer user_data)
{
  g_autoptr(GError) error = NULL;
  int full = open ("/dev/full", O_WRONLY | O_CLOEXEC);
  ImprintCopyJob job = {
    .src_fd = f->fd, .dst_fd = full, .length = f->size, .what = "test",
    .verify_tree = f->tree,
  };

  if (full < 0)
    {
      g_test_skip ("/dev/full is not available");
      return;
    }
  imprint_verity_tree_reset (f->tree);
  g_assert_false (imprint_copy (&job, NULL, &error));
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NO_SPACE);
  close (full);
}

static void
sha256_ref (const guint8 *salt, size_t salt_len, const guint8 *m, size_t len, guint8 *out)
{
  unsigned n = 0;
  EVP_MD_CTX *c = EVP_MD_CTX_new ();
  EVP_DigestInit_ex (c, EVP_sha256 (), NULL);
  EVP_DigestUpdate (c, salt, salt_len);
  EVP_DigestUpdate (c, m, len);
  EVP_DigestFinal_ex (c, out, &n);
  EVP_MD_CTX_free (c);
}

/* The pairwise SHA-256 equals OpenSSL's for every salt length (both sides
 * of the 64-byte chunk edges) and message length. */
static void
test_sha256_x2 (void)
{
  guint8 salt[300], a[4200], b[4200], oa[32], ob[32], ra[32], rb[32];

  if (!imprint_sha256_x2_available ())
    {
      g_test_skip ("this CPU has no SHA extensions");
      return;
    }
  for (int i = 0; i < 3000; i++)
    {
      size_t sl = i < 300 ? (size_t) i : (size_t) g_random_int_range (0, 300);
      size_t len = i % 4 == 0 ? 4096u : i % 4 == 1 ? 512u : (size_t) g_random_int_range (0, 4200);
      ImprintSha256Prefix pre;

      for (size_t k = 0; k < sl; k++)
        salt[k] = (guint8) g_random_int ();
      for (size_t k = 0; k < len; k++)
        {
          a[k] = (guint8) g_random_int ();
          b[k] = (guint8) g_random_int ();
        }
      imprint_sha256_prefix_init (&pre, salt, sl);
      imprint_sha256_x2 (&pre, a, b, len, oa, ob);
      sha256_ref (salt, sl, a, len, ra);
      sha256_ref (salt, sl, b, len, rb);
      g_assert_cmpmem (oa, 32, ra, 32);
      g_assert_cmpmem (ob, 32, rb, 32);
    }
}

/* Blocks checked in pairs, with zero blocks in between and an odd one
 * left over: a flipped byte in any block names exactly that block. */
static void
test_verify_pairs (void)
{
  const guint32 bs = 512;
  const guint64 nblocks = 9;
  const gboolean zero[9] = { 0, 1, 0, 0, 0, 1, 1, 0, 0 };
  g_autofree guint8 *data = g_malloc0 (nblocks * bs);
  guint8 salt[32] = { 5 }, root[32];
  ImprintVeritySuperblock sb;
  size_t size;
  g_autoptr(GError) error = NULL;

  for (guint64 i = 0; i < nblocks; i++)
    if (!zero[i])
      for (guint32 k = 0; k < bs; k++)
        data[i * bs + k] = (guint8) g_random_int_range (1, 256);
  g_autofree guint8 *hp = build (data, nblocks, bs, salt, 32, root, &size, &sb);
  g_autoptr(ImprintVerityTree) t = imprint_verity_tree_new (&sb, hp, size, root, 32, &error);
  g_assert_no_error (error);
  g_assert_true (imprint_verity_tree_verify_data (t, 0, data, nblocks * bs, &error));
  g_assert_true (imprint_verity_tree_complete (t));

  for (guint64 i = 0; i < nblocks; i++)
    {
      g_autofree char *want = g_strdup_printf ("data block %" G_GUINT64_FORMAT " ", i);
      imprint_verity_tree_reset (t);
      data[i * bs + 17] ^= 0x20;
      g_assert_false (imprint_verity_tree_verify_data (t, 0, data, nblocks * bs, &error));
      g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID);
      g_assert_nonnull (strstr (error->message, want));
      g_clear_error (&error);
      data[i * bs + 17] ^= 0x20;
    }
}

/* A sparse source: a 2 MiB hole in the middle of 6 MiB. */
static int
sparse_source (const guint8 *data, size_t size, char **path)
{
  int fd = g_file_open_tmp ("imprint-copy-sparse-XXXXXX", path, NULL);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pwrite (fd, data, 2 * 1024 * 1024, 0), ==, 2 * 1024 * 1024);
  g_assert_cmpint (pwrite (fd, data + 4 * 1024 * 1024, size - 4 * 1024 * 1024, 4 * 1024 * 1024),
                   ==, (ssize_t) (size - 4 * 1024 * 1024));
  return fd;
}

static void
test_copy_sparse (void)
{
  const guint64 nblocks = 12288;
  const size_t size = nblocks * 512;
  guint8 salt[32] = { 9 }, root[32];
  ImprintVeritySuperblock sb;
  size_t hsize;
  g_autofree guint8 *data = g_malloc0 (size);
  g_autofree char *spath = NULL, *tpath = NULL;
  g_autoptr(GError) error = NULL;
  struct stat st;

  for (size_t i = 0; i < size; i++)
    if (i < 2 * 1024 * 1024 || i >= 4 * 1024 * 1024)
      data[i] = (guint8) g_random_int ();
  /* A zero block among the data too (read, found zero, not hashed). */
  memset (data + 512 * 100, 0, 512);
  g_autofree guint8 *hp = build (data, nblocks, 512, salt, 32, root, &hsize, &sb);
  g_autoptr(ImprintVerityTree) tree = imprint_verity_tree_new (&sb, hp, hsize, root, 32, &error);
  g_assert_no_error (error);
  int sfd = sparse_source (data, size, &spath);
  int tfd = tmp_target (&tpath);
  g_assert_cmpint (pwrite (tfd, "old", 3, 3 * 1024 * 1024), ==, 3); /* to be zeroed */
  ImprintProgress progress = { 0 };
  ImprintCopyJob job = {
    .src_fd = sfd, .dst_fd = tfd, .length = size, .what = "test",
    .verify_tree = tree, .buffer_size = 1024 * 1024, .n_buffers = 3,
  };

  g_assert_true (imprint_copy (&job, &progress, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (progress.done, ==, size);
  g_assert_true (imprint_verity_tree_complete (tree));
  g_autofree guint8 *back = g_malloc (size);
  g_assert_cmpint (pread (tfd, back, size, 0), ==, (ssize_t) size);
  g_assert_cmpmem (back, size, data, size);
  /* The hole stayed a hole on the (file) target. */
  g_assert_cmpint (fstat (tfd, &st), ==, 0);
  g_test_message ("target: %" G_GINT64_FORMAT " of %zu bytes allocated", (gint64) st.st_blocks * 512, size);
  if (lseek (sfd, 2 * 1024 * 1024, SEEK_DATA) == 4 * 1024 * 1024)
    g_assert_cmpint (st.st_blocks * 512, <=, (blkcnt_t) (size - 2 * 1024 * 1024)); /* holes work here */

  /* A tree that expects data where the source has a hole: refused. */
  data[3 * 1024 * 1024 + 7] = 1;
  g_free (hp);
  hp = build (data, nblocks, 512, salt, 32, root, &hsize, &sb);
  g_autoptr(ImprintVerityTree) other = imprint_verity_tree_new (&sb, hp, hsize, root, 32, &error);
  g_assert_no_error (error);
  job.verify_tree = other;
  g_assert_false (imprint_copy (&job, NULL, &error));
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID);
  g_assert_nonnull (strstr (error->message, "block 6144 "));
  g_clear_error (&error);

  /* Expected bytes (the verity partition case) that are not zero where
   * the source has a hole: refused. */
  job.verify_tree = NULL;
  job.expect = data;
  job.expect_size = size;
  g_assert_false (imprint_copy (&job, NULL, &error));
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID);

  close (sfd);
  close (tfd);
  g_unlink (spath);
  g_unlink (tpath);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/verity/roundtrip", test_roundtrip);
  g_test_add_func ("/verity/superblock-invalid", test_superblock_invalid);
  g_test_add_func ("/efi/load-option", test_efi_load_option);
  g_test_add ("/copy/verified", Fixture, NULL, fixture_setup, test_copy_verified, fixture_teardown);
  g_test_add ("/copy/corrupt", Fixture, NULL, fixture_setup, test_copy_corrupt, fixture_teardown);
  g_test_add ("/copy/cancel", Fixture, NULL, fixture_setup, test_copy_cancel, fixture_teardown);
  g_test_add ("/copy/truncated-source", Fixture, NULL, fixture_setup, test_copy_truncated_source, fixture_teardown);
  g_test_add_func ("/copy/sparse", test_copy_sparse);
  g_test_add ("/copy/expect-is-source", Fixture, NULL, fixture_setup, test_copy_expect_is_source, fixture_teardown);
  g_test_add_func ("/verity/sha256-x2", test_sha256_x2);
  g_test_add_func ("/verity/pairs", test_verify_pairs);
  g_test_add ("/copy/no-space", Fixture, NULL, fixture_setup, test_copy_no_space, fixture_teardown);
  return g_test_run ();
}
