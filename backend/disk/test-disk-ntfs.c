/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "ntfs-facts.h"

#define MiB (G_GUINT64_CONSTANT (1024) * 1024)

/* What ntfsresize v2022.10.3 prints (-P) for a clean 300 MiB volume. */
static const char CLEAN[] =
  "ntfsresize v2022.10.3 (libntfs-3g)\n"
  "Device name        : /proc/self/fd/3\n"
  "NTFS volume version: 3.1\n"
  "Cluster size       : 4096 bytes\n"
  "Current volume size: 314569216 bytes (315 MB)\n"
  "Current device size: 314572800 bytes (315 MB)\n"
  "Checking filesystem consistency ...\n"
  "Accounting clusters ...\n"
  "Space in use       : 3 MB (0.6%)\n"
  "Collecting resizing constraints ...\n"
  "You might resize at 2043904 bytes or 3 MB (freeing 312 MB).\n"
  "Please make a test run using both the -n and -s options before real resizing!\n";

static const char DIRTY[] =
  "ntfsresize v2022.10.3 (libntfs-3g)\n"
  "ERROR: Volume is scheduled for check.\n"
  "Run chkdsk /f and please try again, or see option -f.\n";

static const char BROKEN[] =
  "ntfsresize v2022.10.3 (libntfs-3g)\n"
  "Cluster size       : 4096 bytes\n"
  "Current volume size: 314569216 bytes (315 MB)\n"
  "Checking filesystem consistency ...\n"
  "Cluster 77 is referenced multiple times!\n"
  "ERROR: Filesystem check failed! Totally 1 cluster accounting mismatches.\n";

static void
test_clean (void)
{
  ImprintNtfsInfo i;

  g_assert_true (imprint_ntfs_parse_info (CLEAN, strlen (CLEAN), &i));
  g_assert_cmpuint (i.cluster_size, ==, 4096);
  g_assert_cmpuint (i.volume_size, ==, 314569216);
  g_assert_cmpuint (i.used, ==, 3000000);
  g_assert_cmpuint (i.min_size, ==, 2043904);
  g_assert_false (i.dirty);
  g_assert_false (i.errors);
  /* min + 64 MiB, rounded up to MiB */
  g_assert_cmpuint (imprint_ntfs_floor_size (&i), ==, 66 * MiB);
  g_assert_cmpuint (imprint_ntfs_refusals (&i, FALSE, FALSE, 300 * MiB, 100 * MiB), ==, 0);
  g_assert_cmpuint (imprint_ntfs_refusals (&i, FALSE, FALSE, 300 * MiB, 250 * MiB), ==,
                    IMPRINT_NTFS_REFUSE_TOO_FULL);
  g_assert_cmpuint (imprint_ntfs_refusals (&i, FALSE, TRUE, 300 * MiB, 0), ==,
                    IMPRINT_NTFS_REFUSE_HIBERNATED);
  g_assert_cmpuint (imprint_ntfs_refusals (&i, TRUE, TRUE, 300 * MiB, 0), ==,
                    IMPRINT_NTFS_REFUSE_BITLOCKER);
}

static void
test_dirty_broken (void)
{
  ImprintNtfsInfo i;

  g_assert_false (imprint_ntfs_parse_info (DIRTY, strlen (DIRTY), &i));
  g_assert_true (i.dirty);
  g_assert_false (i.errors);
  g_assert_cmpuint (imprint_ntfs_refusals (&i, FALSE, FALSE, 300 * MiB, 0), ==, IMPRINT_NTFS_REFUSE_DIRTY);
  g_assert_false (imprint_ntfs_parse_info (BROKEN, strlen (BROKEN), &i));
  g_assert_true (i.errors);
  g_assert_cmpuint (imprint_ntfs_refusals (&i, FALSE, TRUE, 300 * MiB, 0), ==,
                    IMPRINT_NTFS_REFUSE_HIBERNATED | IMPRINT_NTFS_REFUSE_CHECK_ERRORS);
  g_assert_cmpuint (imprint_ntfs_refusals (NULL, FALSE, FALSE, 300 * MiB, 0), ==,
                    IMPRINT_NTFS_REFUSE_CHECK_ERRORS);
}

/* Hostile output: huge numbers, a minimum above the volume, NULs, no
 * newline, a progress bar's carriage returns. Never complete, never a
 * wrapped number. */
static void
test_hostile (void)
{
  ImprintNtfsInfo i;
  const char overflow[] = "Cluster size       : 4096 bytes\n"
                          "Current volume size: 99999999999999999999999 bytes\n"
                          "You might resize at 1 bytes\n";
  const char above[] = "Cluster size       : 4096 bytes\n"
                       "Current volume size: 1000 bytes\n"
                       "You might resize at 2000 bytes\n";
  const char used_overflow[] = "Space in use       : 18446744073709551615 MB\n";
  const char nul[] = "Cluster size       : 4096 bytes\nCurrent volume size: 8192\0 bytes\n"
                     "You might resize at 4096 bytes\n";
  const char cr[] = "  0.00 percent completed\r100.00 percent completed\rCluster size       : 512 bytes\n"
                    "Current volume size: 4096 bytes\nYou might resize at 4096 bytes";
  g_autofree char *longline = g_strnfill (1 << 20, 'x');

  g_assert_false (imprint_ntfs_parse_info (overflow, strlen (overflow), &i));
  g_assert_cmpuint (i.volume_size, ==, 0);
  g_assert_false (imprint_ntfs_parse_info (above, strlen (above), &i));
  g_assert_false (imprint_ntfs_parse_info (used_overflow, strlen (used_overflow), &i));
  g_assert_true (i.errors);
  g_assert_false (imprint_ntfs_parse_info (nul, sizeof nul - 1, &i));
  g_assert_true (imprint_ntfs_parse_info (cr, strlen (cr), &i));
  g_assert_cmpuint (i.cluster_size, ==, 512);
  g_assert_false (imprint_ntfs_parse_info (longline, strlen (longline), &i));
  g_assert_false (imprint_ntfs_parse_info (NULL, 0, &i));
  g_assert_cmpuint (imprint_ntfs_floor_size (&i), ==, 0);
}

static void
test_hiberfile (void)
{
  g_assert_true (imprint_ntfs_hiberfile_hibernated ((const guint8 *) "HIBRxxxx", 8));
  g_assert_true (imprint_ntfs_hiberfile_hibernated ((const guint8 *) "hibr", 4));
  g_assert_false (imprint_ntfs_hiberfile_hibernated ((const guint8 *) "wake", 4));
  g_assert_false (imprint_ntfs_hiberfile_hibernated ((const guint8 *) "\0\0\0\0", 4));
  g_assert_false (imprint_ntfs_hiberfile_hibernated ((const guint8 *) "HIB", 3));
  g_assert_false (imprint_ntfs_hiberfile_hibernated (NULL, 0));
}

static void
test_sentences (void)
{
  g_autoptr(GPtrArray) codes = g_ptr_array_new ();
  g_autoptr(GPtrArray) words = g_ptr_array_new ();
  const char *expect[] = { "bitlocker", "hibernated", "dirty", "check-errors", "too-full" };

  imprint_ntfs_refusals_describe (0x1f, codes, words);
  g_assert_cmpuint (codes->len, ==, G_N_ELEMENTS (expect));
  for (guint i = 0; i < codes->len; i++)
    {
      g_assert_cmpstr (codes->pdata[i], ==, expect[i]);
      g_assert_cmpuint (strlen (words->pdata[i]), >, 40);
    }
  g_assert_nonnull (strstr (words->pdata[1], "Fast Startup"));
  g_assert_nonnull (strstr (words->pdata[2], "chkdsk"));
  g_assert_nonnull (strstr (words->pdata[0], "BitLocker"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ntfs/clean", test_clean);
  g_test_add_func ("/ntfs/dirty-broken", test_dirty_broken);
  g_test_add_func ("/ntfs/hostile", test_hostile);
  g_test_add_func ("/ntfs/hiberfile", test_hiberfile);
  g_test_add_func ("/ntfs/sentences", test_sentences);
  return g_test_run ();
}
