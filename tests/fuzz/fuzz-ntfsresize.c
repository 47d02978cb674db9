/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ntfsresize's output about a volume anyone may have written
 * (backend/disk/ntfs-facts.c). */
#include "fuzz.h"
#include "ntfs-facts.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  ImprintNtfsInfo info;

  /* Raw bytes, NULs included: the parser takes a length. */
  imprint_ntfs_parse_info ((const char *) data, size, &info);
  if (info.complete && (info.min_size > info.volume_size || info.cluster_size == 0))
    abort ();
  (void) imprint_ntfs_floor_size (&info);
  (void) imprint_ntfs_refusals (&info, FALSE, imprint_ntfs_hiberfile_hibernated (data, size),
                                info.volume_size, size);
  return 0;
}
