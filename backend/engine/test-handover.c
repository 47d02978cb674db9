/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the handover's parsers (handover.h): the dm-verity table
 * it rewrites and the mountinfo it reads. Both come from the kernel, and
 * are still read as if they were hostile: bounded, strict. */
#include "config.h"

#include <errno.h>
#include <sys/sysmacros.h>

#include "handover-private.h"

#define HASH "4c2a5f0e1b6f3e8f7f2c2a1b0d9e8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a392817"
#define SALT "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"

static void
test_repoint (void)
{
  g_autofree char *out = NULL;
  dev_t d = 0, h = 0;

  g_assert_cmpint (imprint_verity_params_repoint ("1 8:2 8:3 4096 4096 262144 1 sha256 " HASH " " SALT,
                                                  makedev (254, 2), makedev (254, 3), &d, &h, &out), ==, 0);
  g_assert_cmpstr (out, ==, "1 254:2 254:3 4096 4096 262144 1 sha256 " HASH " " SALT);
  g_assert_cmpuint (d, ==, makedev (8, 2));
  g_assert_cmpuint (h, ==, makedev (8, 3));
  g_clear_pointer (&out, g_free);

  /* Options are kept as they are. */
  g_assert_cmpint (imprint_verity_params_repoint ("1 8:2 8:3 4096 4096 10 1 sha256 " HASH " - 2 ignore_zero_blocks panic_on_corruption",
                                                  makedev (7, 1), makedev (7, 2), NULL, NULL, &out), ==, 0);
  g_assert_cmpstr (out, ==, "1 7:1 7:2 4096 4096 10 1 sha256 " HASH " - 2 ignore_zero_blocks panic_on_corruption");
}

static void
test_repoint_refused (void)
{
  static const char *const bad[] = {
    "", "1", "verity", "2 8:2 8:3 4096 4096 10 1 sha256 " HASH " -",
    "1 8:2x 8:3 4096 4096 10 1 sha256 " HASH " -",
    "1 8:2 8:3 4096 4096 -10 1 sha256 " HASH " -",
    "1 8:2 8:3 4096 4096 10 1 sha256 " HASH " - 3 ignore_zero_blocks",
    "1 8:2 8:3 4096 4096 10 1 sha256 " HASH " - x",
  };
  g_autofree char *huge = g_strnfill (8192, '1');
  char *out = (char *) "untouched";

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_cmpint (imprint_verity_params_repoint (bad[i], 1, 2, NULL, NULL, &out), ==, -EINVAL);
  g_assert_cmpint (imprint_verity_params_repoint (huge, 1, 2, NULL, NULL, &out), ==, -EINVAL);
  g_assert_cmpint (imprint_verity_params_repoint (NULL, 1, 2, NULL, NULL, &out), ==, -EINVAL);
  /* A signature or a third device: the reload cannot carry them over. */
  g_assert_cmpint (imprint_verity_params_repoint ("1 8:2 8:3 4096 4096 10 1 sha256 " HASH " - 2 root_hash_sig_key_desc x",
                                                  1, 2, NULL, NULL, &out), ==, -EOPNOTSUPP);
  g_assert_cmpint (imprint_verity_params_repoint ("1 8:2 8:3 4096 4096 10 1 sha256 " HASH " - 8 use_fec_from_device 8:4 fec_roots 2 fec_blocks 10 fec_start 10",
                                                  1, 2, NULL, NULL, &out), ==, -EOPNOTSUPP);
  g_assert_cmpstr (out, ==, "untouched");
}

static char *
fake_disk_of (dev_t dev)
{
  if (major (dev) == 8 && minor (dev) < 16)
    return g_strdup ("sda");
  if (major (dev) == 254)
    return g_strdup ("vda");
  return NULL;
}

static void
test_mountinfo (void)
{
  const char *mi =
    "22 1 0:30 / / rw,relatime shared:1 - btrfs /dev/zram0 rw\n"
    "23 22 253:0 / /usr ro shared:2 - erofs /dev/mapper/usr ro\n"
    "24 22 8:1 / /efi rw shared:3 - vfat /dev/sda1 rw\n"
    "25 22 8:4 / /media/my\\040stick rw shared:4 - ext4 /dev/sda4 rw\n"
    "26 22 254:1 / /mnt rw shared:5 - ext4 /dev/vda1 rw\n"
    "garbage line\n"
    "27 22 8:x / /bad rw - ext4 /dev/sdz rw\n";
  g_autoptr(GPtrArray) m = imprint_mountinfo_on_disk (mi, "sda", fake_disk_of);

  g_assert_cmpuint (m->len, ==, 2);
  g_assert_cmpstr (m->pdata[0], ==, "/efi");
  g_assert_cmpstr (m->pdata[1], ==, "/media/my stick");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/handover/verity-repoint", test_repoint);
  g_test_add_func ("/handover/verity-repoint-refused", test_repoint_refused);
  g_test_add_func ("/handover/mountinfo", test_mountinfo);
  return g_test_run ();
}
