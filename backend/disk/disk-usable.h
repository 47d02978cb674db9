/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Whether a disk can be installed onto, and the free regions worth
 * offering. Pure: the caller gathers the facts. */

#include <glib.h>

typedef enum {
  IMPRINT_DISK_REASON_LIVE_MEDIUM = 1 << 0,
  IMPRINT_DISK_REASON_MOUNTED     = 1 << 1,
  IMPRINT_DISK_REASON_IN_USE      = 1 << 2,
  IMPRINT_DISK_REASON_READ_ONLY   = 1 << 3,
  IMPRINT_DISK_REASON_TOO_SMALL   = 1 << 4,
  IMPRINT_DISK_REASON_ZRAM        = 1 << 5,
  IMPRINT_DISK_REASON_LOOP        = 1 << 6,
  IMPRINT_DISK_REASON_NO_MEDIA    = 1 << 7,
} ImprintDiskReasons;

typedef struct {
  const char *kernel_name;          /* "sda", "loop0", "zram0"; NULL for image files */
  guint64 size;
  gboolean read_only;
  gboolean live;                    /* backs the running system */
  const char * const *mountpoints;  /* of the disk and its partitions */
  const char * const *holders;      /* kernel devices stacked on it (dm-0, md0) */
  gboolean swap;                    /* it or a partition is active swap */
  gboolean include_loop;
  guint64 min_size;                 /* 0: no size check */
} ImprintDiskFacts;

ImprintDiskReasons imprint_disk_compute_reasons (const ImprintDiskFacts *facts);

/* Fills two parallel lists: translated words and machine codes, in the
 * fixed order of the flags. */
void imprint_disk_reasons_describe (ImprintDiskReasons reasons,
                                    const ImprintDiskFacts *facts,
                                    GPtrArray *ret_words,
                                    GPtrArray *ret_codes);

const char *imprint_disk_reason_code (ImprintDiskReasons reason);

typedef struct {
  guint64 start;
  guint64 size;
} ImprintDiskRegion;

/* Shrinks each region inward to @grain boundaries and drops those smaller
 * than @min_size afterwards. Compacts @regions in place and returns how
 * many remain. */
gsize imprint_disk_align_free_regions (ImprintDiskRegion *regions,
                                       gsize n_regions,
                                       guint64 grain,
                                       guint64 min_size);
