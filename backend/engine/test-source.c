/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the source image checks that hostile images meet: sector
 * to byte conversion, partition layout, signature JSON, verity tree size. */
#include "config.h"

#include <string.h>

#include "imprint-error.h"
#include "lba.h"
#include "source.h"
#include "verity.h"

static void
test_lba (void)
{
  guint64 off = 1, size = 1;

  g_assert_true (imprint_lba_range_to_bytes (2048, 8, 512, &off, &size));
  g_assert_cmpuint (off, ==, 2048 * 512);
  g_assert_cmpuint (size, ==, 4096);
  /* Issue 13, finding 7: LBA 2^55 + X wrapped to X * 512. */
  off = size = 7;
  g_assert_false (imprint_lba_range_to_bytes ((G_GUINT64_CONSTANT (1) << 55) + 2048, 8, 512, &off, &size));
  g_assert_cmpuint (off, ==, 7);   /* untouched on failure */
  g_assert_cmpuint (size, ==, 7);
  g_assert_false (imprint_lba_range_to_bytes (2048, (G_GUINT64_CONSTANT (1) << 55) + 8, 512, &off, &size));
  /* An end before the start, as libfdisk's end - start + 1 wraps it. */
  g_assert_false (imprint_lba_range_to_bytes (200000, (guint64) 1000 - 200000 + 1, 512, &off, &size));
  /* Start and size fit, their sum does not. */
  g_assert_false (imprint_lba_range_to_bytes (G_MAXUINT64 / 4096 - 1, G_MAXUINT64 / 4096 - 1, 4096, &off, &size));
  g_assert_false (imprint_lba_range_to_bytes (2048, 0, 512, &off, &size));
  g_assert_false (imprint_lba_range_to_bytes (2048, 8, 0, &off, &size));
}

static ImprintPartition *
part (guint partno, guint64 offset, guint64 size)
{
  ImprintPartition *p = g_new0 (ImprintPartition, 1);
  p->partno = partno;
  p->offset = offset;
  p->size = size;
  p->label = g_strdup ("x");
  return p;
}

static void
test_layout (void)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func ((GDestroyNotify) imprint_partition_free);
  g_autoptr(GError) error = NULL;

  /* Listed out of order, touching but not overlapping. */
  g_ptr_array_add (parts, part (1, 8192, 4096));
  g_ptr_array_add (parts, part (0, 4096, 4096));
  g_assert_true (imprint_partitions_check_layout (parts, 12288, "img", &error));
  g_assert_no_error (error);
  /* Past the end by one byte. */
  g_assert_false (imprint_partitions_check_layout (parts, 12287, "img", &error));
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID);
  g_clear_error (&error);
  /* Overlapping by one byte. */
  g_ptr_array_add (parts, part (2, 12287, 1));
  g_assert_false (imprint_partitions_check_layout (parts, 1 << 20, "img", &error));
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID);
  g_assert_nonnull (strstr (error->message, "overlap"));
  g_clear_error (&error);
  g_ptr_array_remove_index (parts, 2);
  /* Wrapping end, and empty. */
  g_ptr_array_add (parts, part (3, G_MAXUINT64 - 100, 4096));
  g_assert_false (imprint_partitions_check_layout (parts, G_MAXUINT64, "img", &error));
  g_clear_error (&error);
  g_ptr_array_remove_index (parts, 2);
  g_ptr_array_add (parts, part (4, 65536, 0));
  g_assert_false (imprint_partitions_check_layout (parts, 1 << 20, "img", &error));
  g_clear_error (&error);
}

#define RH "0123456789abcdef0123456789abcdef0123456789ABCDEF0123456789abcdef"

static void
test_signature_json (void)
{
  g_autofree char *json = NULL, *rh = NULL, *sig = NULL, *fp = NULL;
  g_autoptr(GError) error = NULL;
  char buf[512] = { 0 };
  g_autofree char *deep = NULL;
  const char *bad[] = {
    "", "[]", "\"x\"", "{", "{\"rootHash\":\"" RH "\"}",
    "{\"rootHash\":1,\"signature\":\"x\"}",
    "{\"rootHash\":[\"" RH "\"],\"signature\":\"x\"}",
    "{\"rootHash\":\"" RH "\",\"signature\":{}}",
    "{\"rootHash\":\"abc\",\"signature\":\"x\"}",
    "{\"rootHash\":\"\xff" RH "\",\"signature\":\"x\"}",
  };

  strcpy (buf, "{\"rootHash\":\"" RH "\",\"signature\":\"MA==\",\"certificateFingerprint\":7}");
  g_assert_true (imprint_signature_json_parse (buf, sizeof buf, &json, &rh, &sig, &fp, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (json, ==, buf);
  g_assert_cmpstr (rh, ==, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  g_assert_cmpstr (sig, ==, "MA==");
  g_assert_null (fp);   /* not a string: absent */

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (imprint_signature_json_parse (bad[i], strlen (bad[i]) + 1, NULL, NULL, NULL, NULL, &error));
      g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID);
      g_clear_error (&error);
    }

  /* Issue 13, finding 3: deep nesting refused, not parsed (json-glib
   * overflowed its stack on megabytes of it). */
  deep = g_malloc (IMPRINT_SIGNATURE_MAX_JSON);
  memset (deep, '[', IMPRINT_SIGNATURE_MAX_JSON - 1);
  deep[IMPRINT_SIGNATURE_MAX_JSON - 1] = 0;
  g_assert_false (imprint_signature_json_parse (deep, IMPRINT_SIGNATURE_MAX_JSON, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID);
  g_clear_error (&error);
  /* JSON that does not end within the cap (no NUL padding in it). */
  memset (deep, ' ', IMPRINT_SIGNATURE_MAX_JSON);
  g_assert_false (imprint_signature_json_parse (deep, IMPRINT_SIGNATURE_MAX_JSON, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID);
}

static void
test_verity_tree_end_overflow (void)
{
  ImprintVeritySuperblock sb = { .version = 1, .hash_type = 1, .algorithm = "sha256",
                                 .data_block_size = 512, .hash_block_size = 512 };

  sb.data_blocks = 8;
  g_assert_cmpuint (imprint_verity_tree_end (&sb), ==, 1024);
  g_assert_cmpuint (imprint_verity_data_size (&sb), ==, 4096);
  /* As many blocks as the parser lets through: the sizes saturate or are
   * exact, never wrapped to something small. */
  sb.data_blocks = G_MAXUINT64 / 512;
  g_assert_cmpuint (imprint_verity_tree_end (&sb), >, G_MAXUINT64 / 32);
  sb.data_blocks = G_MAXUINT64;
  g_assert_cmpuint (imprint_verity_data_size (&sb), ==, G_MAXUINT64);
  sb.hash_block_size = 1024 * 1024;
  sb.data_blocks = G_MAXUINT64 / 512;
  g_assert_cmpuint (imprint_verity_tree_end (&sb), >, G_MAXUINT64 / 32);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/source/lba", test_lba);
  g_test_add_func ("/source/layout", test_layout);
  g_test_add_func ("/source/signature-json", test_signature_json);
  g_test_add_func ("/verity/tree-end-overflow", test_verity_tree_end_overflow);
  return g_test_run ();
}
