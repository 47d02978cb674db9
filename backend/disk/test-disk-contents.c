/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "disk-contents.h"

#define ESP   "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
#define MSR   "e3c9e316-0b5c-4db8-817d-f92df00215ae"
#define BDATA "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7"
#define WRE   "de94bba4-06d1-4d40-a16a-bfd50179d6ac"
#define LINUX "0fc63daf-8483-4772-8e79-3d69d8477de4"
#define SWAP  "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f"
#define USRV  "77ff5f63-e7b6-4633-acf4-1565b864c0e6"

static void
check_part (const char *guid, const char *fs, const char *expected)
{
  g_autofree char *w = imprint_disk_partition_contents (imprint_disk_gpt_type_role (guid), fs);
  g_assert_cmpstr (w, ==, expected);
}

static void
test_partition_words (void)
{
  check_part (ESP, "vfat", "EFI system partition");
  check_part (ESP, NULL, "EFI system partition");
  check_part (MSR, NULL, "Microsoft reserved");
  check_part (BDATA, "ntfs", "Windows");
  check_part (BDATA, "BitLocker", "Windows (BitLocker)");
  check_part (WRE, "ntfs", "Windows recovery");
  check_part (BDATA, "vfat", "Data (FAT)");
  check_part (BDATA, "exfat", "Data (exFAT)");
  check_part (BDATA, NULL, "Unformatted");
  check_part (BDATA, "", "Unformatted");
  check_part (LINUX, "ext4", "Linux");
  check_part (LINUX, "btrfs", "Linux");
  check_part (LINUX, "erofs", "Linux");
  check_part (LINUX, "squashfs", "Linux");
  check_part (LINUX, "crypto_LUKS", "Encrypted (LUKS)");
  check_part (SWAP, "swap", "Swap");
  check_part (LINUX, NULL, "Unformatted");
  check_part (USRV, NULL, "Linux (integrity data)");
  check_part (USRV, "DM_verity_hash", "Linux (integrity data)");
  /* The filesystem wins over a misleading type. */
  check_part (LINUX, "ntfs", "Windows");
  check_part (BDATA, "ext4", "Linux");
  check_part (LINUX, "zfs_member", "Other data (zfs_member)");
  check_part (LINUX, "apfs", "macOS");
  check_part (LINUX, IMPRINT_DISK_FSTYPE_AMBIGUOUS, "Unrecognised data");
}

static char *
summary (const ImprintPartContents *parts, gsize n)
{
  return imprint_disk_contents_summary (1 << 30, IMPRINT_TABLE_PRESENT, NULL, FALSE, parts, n);
}

#define P(guid, fs) { imprint_disk_gpt_type_role (guid), fs }

static void
test_summary (void)
{
  const ImprintPartContents windows[] = { P (ESP, "vfat"), P (MSR, NULL), P (BDATA, "ntfs"), P (WRE, "ntfs") };
  const ImprintPartContents bitlocker[] = { P (ESP, "vfat"), P (MSR, NULL), P (BDATA, "BitLocker"), P (WRE, "ntfs") };
  const ImprintPartContents linux_[] = { P (ESP, "vfat"), P (LINUX, "ext4"), P (SWAP, "swap") };
  const ImprintPartContents dual[] = { P (ESP, "vfat"), P (MSR, NULL), P (BDATA, "ntfs"), P (LINUX, "ext4") };
  const ImprintPartContents three[] = { P (BDATA, "BitLocker"), P (BDATA, "ntfs"), P (LINUX, "ext4"), P (LINUX, "crypto_LUKS") };
  const ImprintPartContents esp_only[] = { P (ESP, "vfat") };
  const ImprintPartContents helpers[] = { P (ESP, "vfat"), P (SWAP, "swap") };
  const ImprintPartContents raw[] = { P (LINUX, NULL), P (BDATA, NULL) };
  const ImprintPartContents data[] = { P (BDATA, "exfat"), P (LINUX, NULL) };
  g_autofree char *s1 = summary (windows, G_N_ELEMENTS (windows));
  g_autofree char *s2 = summary (bitlocker, G_N_ELEMENTS (bitlocker));
  g_autofree char *s3 = summary (linux_, G_N_ELEMENTS (linux_));
  g_autofree char *s4 = summary (dual, G_N_ELEMENTS (dual));
  g_autofree char *s5 = summary (three, G_N_ELEMENTS (three));
  g_autofree char *s6 = summary (esp_only, G_N_ELEMENTS (esp_only));
  g_autofree char *s7 = summary (helpers, G_N_ELEMENTS (helpers));
  g_autofree char *s8 = summary (raw, G_N_ELEMENTS (raw));
  g_autofree char *s9 = summary (data, G_N_ELEMENTS (data));
  g_autofree char *s10 = summary (NULL, 0);

  g_assert_cmpstr (s1, ==, "Windows");
  g_assert_cmpstr (s2, ==, "Windows (BitLocker)");
  g_assert_cmpstr (s3, ==, "Linux");
  g_assert_cmpstr (s4, ==, "Windows and Linux");
  g_assert_cmpstr (s5, ==, "Windows (BitLocker), Linux and Encrypted (LUKS)");
  g_assert_cmpstr (s6, ==, "EFI system partition");
  g_assert_cmpstr (s7, ==, "EFI system partition and Swap");
  /* Never "empty" when partitions exist. */
  g_assert_cmpstr (s8, ==, "Unformatted partitions");
  g_assert_cmpstr (s9, ==, "Data (exFAT)");
  g_assert_cmpstr (s10, ==, "Empty disk");
}

static void
test_summary_whole_disk (void)
{
  g_autofree char *nomedia = imprint_disk_contents_summary (0, IMPRINT_TABLE_NONE, NULL, TRUE, NULL, 0);
  g_autofree char *zero = imprint_disk_contents_summary (1 << 30, IMPRINT_TABLE_NONE, NULL, TRUE, NULL, 0);
  g_autofree char *junk = imprint_disk_contents_summary (1 << 30, IMPRINT_TABLE_NONE, NULL, FALSE, NULL, 0);
  g_autofree char *fs = imprint_disk_contents_summary (1 << 30, IMPRINT_TABLE_NONE, "ext4", FALSE, NULL, 0);
  g_autofree char *amb = imprint_disk_contents_summary (1 << 30, IMPRINT_TABLE_NONE, IMPRINT_DISK_FSTYPE_AMBIGUOUS, FALSE, NULL, 0);
  g_autofree char *bad = imprint_disk_contents_summary (1 << 30, IMPRINT_TABLE_UNREADABLE, NULL, TRUE, NULL, 0);

  g_assert_cmpstr (nomedia, ==, "No medium");
  g_assert_cmpstr (zero, ==, "Empty disk");
  g_assert_cmpstr (junk, ==, "No partition table, unknown data");
  g_assert_cmpstr (fs, ==, "Linux (no partition table)");
  g_autofree char *noaccess = imprint_disk_contents_summary (1 << 30, IMPRINT_TABLE_NO_ACCESS, NULL, TRUE, NULL, 0);

  g_assert_cmpstr (amb, ==, "Unrecognised data (no partition table)");
  g_assert_cmpstr (bad, ==, "Unreadable partition table");
  g_assert_cmpstr (noaccess, ==, "Unknown: the disk cannot be read");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/disk/contents/partition", test_partition_words);
  g_test_add_func ("/disk/contents/summary", test_summary);
  g_test_add_func ("/disk/contents/whole-disk", test_summary_whole_disk);
  return g_test_run ();
}
