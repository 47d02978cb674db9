/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* _cleanup_ for the util-linux libraries (libfdisk, libblkid): one
 * definition for every file that reads a partition table or probes a
 * device. */

#include <blkid.h>
#include <libfdisk.h>

#include "macros.h"

DEFINE_TRIVIAL_CLEANUP_FUNC (blkid_probe, blkid_free_probe)
DEFINE_TRIVIAL_CLEANUP_FUNC (struct fdisk_context *, fdisk_unref_context)
DEFINE_TRIVIAL_CLEANUP_FUNC (struct fdisk_table *, fdisk_unref_table)
DEFINE_TRIVIAL_CLEANUP_FUNC (struct fdisk_iter *, fdisk_free_iter)
