/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "disk-types.h"

static void
test_gpt_names (void)
{
  g_assert_cmpstr (imprint_disk_gpt_type_name ("c12a7328-f81f-11d2-ba4b-00a0c93ec93b"), ==, "EFI System");
  /* Case does not matter: libfdisk prints upper case, lsblk lower. */
  g_assert_cmpstr (imprint_disk_gpt_type_name ("C12A7328-F81F-11D2-BA4B-00A0C93EC93B"), ==, "EFI System");
  g_assert_cmpstr (imprint_disk_gpt_type_name ("e3c9e316-0b5c-4db8-817d-f92df00215ae"), ==, "Microsoft reserved");
  g_assert_cmpstr (imprint_disk_gpt_type_name ("ebd0a0a2-b9e5-4433-87c0-68b6b72699c7"), ==, "Microsoft basic data");
  g_assert_cmpstr (imprint_disk_gpt_type_name ("de94bba4-06d1-4d40-a16a-bfd50179d6ac"), ==, "Windows recovery");
  g_assert_cmpstr (imprint_disk_gpt_type_name ("0fc63daf-8483-4772-8e79-3d69d8477de4"), ==, "Linux filesystem");
  g_assert_cmpstr (imprint_disk_gpt_type_name ("4f68bce3-e8cd-4db1-96e7-fbcaf984b709"), ==, "Linux root (x86-64)");
  g_assert_cmpstr (imprint_disk_gpt_type_name ("8484680c-9521-48c6-9c11-b0720656f69e"), ==, "Linux /usr (x86-64)");
  g_assert_cmpstr (imprint_disk_gpt_type_name ("77ff5f63-e7b6-4633-acf4-1565b864c0e6"), ==, "Linux /usr verity (x86-64)");
  g_assert_cmpstr (imprint_disk_gpt_type_name ("e7bb33fb-06cf-4e81-8273-e543b413e2e2"), ==, "Linux /usr verity signature (x86-64)");
  g_assert_cmpstr (imprint_disk_gpt_type_name ("b0e01050-ee5f-4390-949a-9101b17104e9"), ==, "Linux /usr (ARM64)");
  g_assert_cmpstr (imprint_disk_gpt_type_name ("c23ce4ff-44bd-4b00-b2d4-b41b3419e02a"), ==, "Linux /usr verity signature (ARM64)");
  g_assert_cmpstr (imprint_disk_gpt_type_name ("0657fd6d-a4ab-43c4-84e5-0933c84b4f4f"), ==, "Linux swap");
  g_assert_cmpstr (imprint_disk_gpt_type_name ("bc13c2ff-59e6-4262-a352-b275fd6f7172"), ==, "Linux extended boot (XBOOTLDR)");
  g_assert_cmpstr (imprint_disk_gpt_type_name ("ca7d7ccb-63ed-4c53-861c-1742536059cc"), ==, "Linux LUKS");
  g_assert_null (imprint_disk_gpt_type_name ("00000000-1111-2222-3333-444444444444"));
  g_assert_null (imprint_disk_gpt_type_name (NULL));
}

static void
test_gpt_roles (void)
{
  g_assert_cmpint (imprint_disk_gpt_type_role ("c12a7328-f81f-11d2-ba4b-00a0c93ec93b"), ==, IMPRINT_PART_ROLE_ESP);
  g_assert_cmpint (imprint_disk_gpt_type_role ("e3c9e316-0b5c-4db8-817d-f92df00215ae"), ==, IMPRINT_PART_ROLE_MS_RESERVED);
  g_assert_cmpint (imprint_disk_gpt_type_role ("2c7357ed-ebd2-46d9-aec1-23d437ec2bf5"), ==, IMPRINT_PART_ROLE_LINUX_VERITY);
  g_assert_cmpint (imprint_disk_gpt_type_role ("6db69de6-29f4-4758-a7a5-962190f00ce3"), ==, IMPRINT_PART_ROLE_LINUX_VERITY);
  g_assert_cmpint (imprint_disk_gpt_type_role ("933ac7e1-2eb4-4f13-b844-0e14e2aef915"), ==, IMPRINT_PART_ROLE_LINUX_DATA);
  g_assert_cmpint (imprint_disk_gpt_type_role ("nonsense"), ==, IMPRINT_PART_ROLE_OTHER);
}

static void
test_mbr (void)
{
  g_assert_cmpstr (imprint_disk_mbr_type_name (0x07), ==, "HPFS/NTFS/exFAT");
  g_assert_cmpstr (imprint_disk_mbr_type_name (0x83), ==, "Linux");
  g_assert_cmpstr (imprint_disk_mbr_type_name (0xef), ==, "EFI System");
  g_assert_cmpstr (imprint_disk_mbr_type_name (0x27), ==, "Windows recovery (hidden NTFS)");
  g_assert_null (imprint_disk_mbr_type_name (0x9a));
  g_assert_cmpint (imprint_disk_mbr_type_role (0x05), ==, IMPRINT_PART_ROLE_EXTENDED);
  g_assert_cmpint (imprint_disk_mbr_type_role (0x0f), ==, IMPRINT_PART_ROLE_EXTENDED);
  g_assert_cmpint (imprint_disk_mbr_type_role (0x82), ==, IMPRINT_PART_ROLE_LINUX_SWAP);
  g_assert_cmpint (imprint_disk_mbr_type_role (0x9a), ==, IMPRINT_PART_ROLE_OTHER);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/disk/types/gpt-names", test_gpt_names);
  g_test_add_func ("/disk/types/gpt-roles", test_gpt_roles);
  g_test_add_func ("/disk/types/mbr", test_mbr);
  return g_test_run ();
}
