/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "disk-usable.h"

#define MIB (G_GUINT64_CONSTANT (1024) * 1024)
#define GIB (MIB * 1024)

static ImprintDiskFacts
plain (const char *name)
{
  ImprintDiskFacts f = { .kernel_name = name, .size = 32 * GIB };
  return f;
}

static void
test_reasons_none (void)
{
  ImprintDiskFacts f = plain ("sda");
  const char *empty[] = { NULL };

  g_assert_cmpint (imprint_disk_compute_reasons (&f), ==, 0);
  f.mountpoints = empty;
  f.holders = empty;
  f.min_size = 8 * GIB;
  g_assert_cmpint (imprint_disk_compute_reasons (&f), ==, 0);
  /* Files have no kernel name and are never "loop". */
  f.kernel_name = NULL;
  g_assert_cmpint (imprint_disk_compute_reasons (&f), ==, 0);
}

static void
test_reasons_each (void)
{
  const char *mps[] = { "/", "/boot/efi", NULL };
  const char *holders[] = { "dm-0", NULL };
  ImprintDiskFacts f;

  f = plain ("vda"); f.live = TRUE;
  g_assert_cmpint (imprint_disk_compute_reasons (&f), ==, IMPRINT_DISK_REASON_LIVE_MEDIUM);
  f = plain ("sda"); f.mountpoints = mps;
  g_assert_cmpint (imprint_disk_compute_reasons (&f), ==, IMPRINT_DISK_REASON_MOUNTED);
  f = plain ("sda"); f.holders = holders;
  g_assert_cmpint (imprint_disk_compute_reasons (&f), ==, IMPRINT_DISK_REASON_IN_USE);
  f = plain ("sda"); f.swap = TRUE;
  g_assert_cmpint (imprint_disk_compute_reasons (&f), ==, IMPRINT_DISK_REASON_IN_USE);
  f = plain ("sdb"); f.read_only = TRUE;
  g_assert_cmpint (imprint_disk_compute_reasons (&f), ==, IMPRINT_DISK_REASON_READ_ONLY);
  f = plain ("sdb"); f.min_size = 64 * GIB;
  g_assert_cmpint (imprint_disk_compute_reasons (&f), ==, IMPRINT_DISK_REASON_TOO_SMALL);
  f = plain ("zram0");
  g_assert_cmpint (imprint_disk_compute_reasons (&f), ==, IMPRINT_DISK_REASON_ZRAM);
  f = plain ("loop3");
  g_assert_cmpint (imprint_disk_compute_reasons (&f), ==, IMPRINT_DISK_REASON_LOOP);
  f.include_loop = TRUE;
  g_assert_cmpint (imprint_disk_compute_reasons (&f), ==, 0);
  /* No medium: not also "too small". */
  f = plain ("sdc"); f.size = 0; f.min_size = GIB;
  g_assert_cmpint (imprint_disk_compute_reasons (&f), ==, IMPRINT_DISK_REASON_NO_MEDIA);
}

static void
test_reasons_words (void)
{
  const char *mps[] = { "/", "/boot/efi", NULL };
  g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) codes = g_ptr_array_new_with_free_func (g_free);
  ImprintDiskFacts f = plain ("loop0");
  ImprintDiskReasons r;

  f.live = TRUE;
  f.mountpoints = mps;
  f.swap = TRUE;
  f.read_only = TRUE;
  f.min_size = 64 * GIB;
  r = imprint_disk_compute_reasons (&f);
  imprint_disk_reasons_describe (r, &f, words, codes);

  g_assert_cmpuint (words->len, ==, codes->len);
  g_assert_cmpuint (codes->len, ==, 6);
  g_assert_cmpstr (codes->pdata[0], ==, "live-medium");
  g_assert_cmpstr (codes->pdata[1], ==, "mounted");
  g_assert_cmpstr (codes->pdata[2], ==, "in-use");
  g_assert_cmpstr (codes->pdata[3], ==, "read-only");
  g_assert_cmpstr (codes->pdata[4], ==, "too-small");
  g_assert_cmpstr (codes->pdata[5], ==, "loop");
  g_assert_cmpstr (words->pdata[1], ==, "In use: mounted at /, /boot/efi");
  g_assert_cmpstr (words->pdata[2], ==, "In use as swap space");
  g_assert_cmpstr (words->pdata[4], ==, "Too small: the system needs 68.7\302\240GB"); /* g_format_size: no-break space */
}

static void
test_free_regions (void)
{
  ImprintDiskRegion r[] = {
    { 17408, 1031168 },            /* GPT gap before 1 MiB: nothing aligned fits */
    { 101 * MIB, 50 * MIB },       /* aligned already */
    { 200 * MIB + 512, 3 * MIB },  /* shrinks to [201 MiB, 203 MiB) */
    { 300 * MIB + 1, MIB + 10 },   /* less than 1 MiB once aligned */
    { 400 * MIB, 0 },
    { 500 * MIB, 2 * MIB - 33 * 512 }, /* end of a GPT disk: backup table */
  };
  gsize n = imprint_disk_align_free_regions (r, G_N_ELEMENTS (r), MIB, MIB);

  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpuint (r[0].start, ==, 101 * MIB);
  g_assert_cmpuint (r[0].size, ==, 50 * MIB);
  g_assert_cmpuint (r[1].start, ==, 201 * MIB);
  g_assert_cmpuint (r[1].size, ==, 2 * MIB);
  g_assert_cmpuint (r[2].start, ==, 500 * MIB);
  g_assert_cmpuint (r[2].size, ==, MIB);
}

static void
test_free_regions_edges (void)
{
  ImprintDiskRegion r[] = { { G_MAXUINT64 - 10, 5 }, { 0, G_MAXUINT64 } };
  gsize n = imprint_disk_align_free_regions (r, G_N_ELEMENTS (r), 4096, 4096);

  /* No overflow; the second one shrinks to a 4096 multiple. */
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (r[0].start, ==, 0);
  g_assert_cmpuint (r[0].size % 4096, ==, 0);
  g_assert_cmpuint (imprint_disk_align_free_regions (r, 0, MIB, MIB), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/disk/usable/none", test_reasons_none);
  g_test_add_func ("/disk/usable/each", test_reasons_each);
  g_test_add_func ("/disk/usable/words", test_reasons_words);
  g_test_add_func ("/disk/free/align", test_free_regions);
  g_test_add_func ("/disk/free/edges", test_free_regions_edges);
  return g_test_run ();
}
