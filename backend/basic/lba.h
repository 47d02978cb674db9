/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Sector numbers read from a partition table are whatever the disk or image
 * says: LBA 2^55 + X times 512 wraps to X * 512 in 64 bits. Every
 * conversion to bytes goes through here. */

#include <glib.h>

/* Bytes of the @nsect sectors at @lba (of @ss bytes each): FALSE when the
 * range is empty or its start, length or end does not fit in 64 bits.
 * The outputs are set only on success. */
static inline gboolean
imprint_lba_range_to_bytes (guint64 lba, guint64 nsect, guint32 ss,
                            guint64 *ret_offset, guint64 *ret_size)
{
  guint64 offset, size, end;

  if (ss == 0 || nsect == 0 ||
      !g_uint64_checked_mul (&offset, lba, ss) ||
      !g_uint64_checked_mul (&size, nsect, ss) ||
      !g_uint64_checked_add (&end, offset, size))
    return FALSE;
  *ret_offset = offset;
  *ret_size = size;
  return TRUE;
}
