/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What is on a partition or a disk, in words people recognise. Pure: the
 * caller gathers the partition roles and filesystem types. */

#include <glib.h>

#include "disk-types.h"

typedef enum {
  IMPRINT_CONTENT_UNFORMATTED = 0,
  IMPRINT_CONTENT_ESP,
  IMPRINT_CONTENT_BOOT,             /* XBOOTLDR, BIOS boot */
  IMPRINT_CONTENT_MS_RESERVED,
  IMPRINT_CONTENT_WINDOWS_RECOVERY,
  IMPRINT_CONTENT_WINDOWS_BITLOCKER,
  IMPRINT_CONTENT_WINDOWS,
  IMPRINT_CONTENT_LINUX,
  IMPRINT_CONTENT_LINUX_VERITY,
  IMPRINT_CONTENT_SWAP,
  IMPRINT_CONTENT_LUKS,
  IMPRINT_CONTENT_MACOS,
  IMPRINT_CONTENT_EXTENDED,
  IMPRINT_CONTENT_DATA,             /* a known filesystem that says nothing about an OS */
  IMPRINT_CONTENT_UNKNOWN,          /* an unknown signature */
} ImprintContentKind;

/* Internal fstype marker: blkid found more than one signature. */
#define IMPRINT_DISK_FSTYPE_AMBIGUOUS "ambiguous"

typedef struct {
  ImprintPartRole role;
  const char *fstype;   /* blkid TYPE, NULL or "" when none */
} ImprintPartContents;

ImprintContentKind imprint_disk_classify_partition (ImprintPartRole role, const char *fstype);

/* Translated words for one partition, e.g. "Windows (BitLocker)". */
char *imprint_disk_partition_contents (ImprintPartRole role, const char *fstype);

typedef enum {
  IMPRINT_TABLE_NONE = 0,
  IMPRINT_TABLE_PRESENT,
  IMPRINT_TABLE_UNREADABLE,  /* a table signature whose entries could not be read */
  IMPRINT_TABLE_NO_ACCESS,   /* the disk could not be opened at all */
} ImprintTableState;

/* Translated whole-disk summary, e.g. "Windows and Linux", "Empty disk".
 * @whole_fstype: signature found on the whole disk when there is no table.
 * @zeroed: the start of the disk reads as zeros (only used without table). */
char *imprint_disk_contents_summary (guint64 size,
                                     ImprintTableState table,
                                     const char *whole_fstype,
                                     gboolean zeroed,
                                     const ImprintPartContents *parts,
                                     gsize n_parts);
