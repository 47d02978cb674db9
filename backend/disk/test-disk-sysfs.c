/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "disk-private.h"

static void
test_transport (void)
{
  g_assert_cmpstr (imprint_disk_guess_transport ("loop3", "/sys/devices/virtual/block/loop3"), ==, "loop");
  g_assert_cmpstr (imprint_disk_guess_transport ("vda", "/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda"), ==, "virtio");
  g_assert_cmpstr (imprint_disk_guess_transport ("nvme0n1", "/sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1"), ==, "nvme");
  g_assert_cmpstr (imprint_disk_guess_transport ("sda", "/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda"), ==, "sata");
  /* A SATA disk in a USB enclosure is a USB disk. */
  g_assert_cmpstr (imprint_disk_guess_transport ("sdb", "/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host4/target4:0:0/4:0:0:0/block/sdb"), ==, "usb");
  g_assert_cmpstr (imprint_disk_guess_transport ("sdc", "/sys/devices/pci0000:00/0000:00:03.0/virtio2/host2/target2:0:0/2:0:0:0/block/sdc"), ==, "scsi");
  g_assert_cmpstr (imprint_disk_guess_transport ("mmcblk0", "/sys/devices/platform/soc/fe340000.mmc/mmc_host/mmc0/mmc0:0001/block/mmcblk0"), ==, "mmc");
  g_assert_cmpstr (imprint_disk_guess_transport ("zram0", "/sys/devices/virtual/block/zram0"), ==, "unknown");
}

static void
test_id_sanitize (void)
{
  g_autofree char *a = imprint_disk_id_sanitize ("Samsung SSD 970 EVO Plus 1TB_S4EWNX0R");
  g_autofree char *b = imprint_disk_id_sanitize ("  odd/name\twith $chars  ");
  g_autofree char *c = imprint_disk_id_sanitize ("eui.0025388b91b2a1c4");

  g_assert_cmpstr (a, ==, "Samsung_SSD_970_EVO_Plus_1TB_S4EWNX0R");
  g_assert_cmpstr (b, ==, "odd_name_with_chars");
  g_assert_cmpstr (c, ==, "eui.0025388b91b2a1c4");
}

static void
test_vpd_serial (void)
{
  static const guint8 good[] = { 0x00, 0x80, 0x00, 0x0c, ' ', ' ', 'W', 'D', '-', 'W', 'X', '1', '2', '3', ' ', ' ' };
  static const guint8 wrong_page[] = { 0x00, 0x83, 0x00, 0x02, 'A', 'B' };
  static const guint8 binary[] = { 0x00, 0x80, 0x00, 0x02, 0x01, 'B' };
  static const guint8 blank[] = { 0x00, 0x80, 0x00, 0x02, ' ', ' ' };
  static const guint8 truncated[] = { 0x00, 0x80, 0x00, 0x20, 'A', 'B' };
  g_autofree char *s1 = imprint_disk_parse_vpd_serial (good, sizeof good);
  g_autofree char *s2 = imprint_disk_parse_vpd_serial (truncated, sizeof truncated);

  g_assert_cmpstr (s1, ==, "WD-WX123");
  g_assert_cmpstr (s2, ==, "AB");
  g_assert_null (imprint_disk_parse_vpd_serial (wrong_page, sizeof wrong_page));
  g_assert_null (imprint_disk_parse_vpd_serial (binary, sizeof binary));
  g_assert_null (imprint_disk_parse_vpd_serial (blank, sizeof blank));
  g_assert_null (imprint_disk_parse_vpd_serial (good, 3));
}

static void
test_listable (void)
{
  /* Names never listed, whatever sysfs says. */
  g_assert_false (imprint_disk_sysfs_listable ("ram0", "/sys/devices/virtual/block/ram0"));
  g_assert_false (imprint_disk_sysfs_listable ("dm-0", "/sys/devices/virtual/block/dm-0"));
  g_assert_false (imprint_disk_sysfs_listable ("md127", "/sys/devices/virtual/block/md127"));
  g_assert_false (imprint_disk_sysfs_listable ("sr0", "/sys/devices/x/block/sr0"));
  g_assert_false (imprint_disk_sysfs_listable ("mmcblk0boot0", "/sys/devices/x/block/mmcblk0/mmcblk0boot0"));
  g_assert_false (imprint_disk_sysfs_listable (NULL, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/disk/sysfs/transport", test_transport);
  g_test_add_func ("/disk/sysfs/id-sanitize", test_id_sanitize);
  g_test_add_func ("/disk/sysfs/vpd-serial", test_vpd_serial);
  g_test_add_func ("/disk/sysfs/listable", test_listable);
  return g_test_run ();
}
