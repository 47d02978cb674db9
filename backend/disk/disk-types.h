/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Partition type knowledge: human names of GPT type GUIDs and MBR ids, and
 * what role a type plays (so the contents can be described in words even
 * when a partition carries no recognisable filesystem). Pure: no I/O. */

#include <glib.h>

typedef enum {
  IMPRINT_PART_ROLE_OTHER = 0,
  IMPRINT_PART_ROLE_ESP,
  IMPRINT_PART_ROLE_XBOOTLDR,
  IMPRINT_PART_ROLE_BIOS_BOOT,
  IMPRINT_PART_ROLE_MS_RESERVED,
  IMPRINT_PART_ROLE_MS_DATA,
  IMPRINT_PART_ROLE_MS_RECOVERY,
  IMPRINT_PART_ROLE_MS_OTHER,       /* LDM, Storage Spaces */
  IMPRINT_PART_ROLE_LINUX_DATA,     /* generic Linux filesystem, home, srv, var, root, usr */
  IMPRINT_PART_ROLE_LINUX_VERITY,   /* verity hash data or signature */
  IMPRINT_PART_ROLE_LINUX_SWAP,
  IMPRINT_PART_ROLE_LINUX_LUKS,
  IMPRINT_PART_ROLE_LINUX_LVM,
  IMPRINT_PART_ROLE_LINUX_RAID,
  IMPRINT_PART_ROLE_APPLE,
  IMPRINT_PART_ROLE_EXTENDED,       /* MBR extended container */
  IMPRINT_PART_ROLE_EMPTY,          /* MBR id 0 */
} ImprintPartRole;

/* @guid: any case. Returns the untranslated name (mark with N_) or NULL. */
const char *imprint_disk_gpt_type_name (const char *guid);
ImprintPartRole imprint_disk_gpt_type_role (const char *guid);

const char *imprint_disk_mbr_type_name (guint id);
ImprintPartRole imprint_disk_mbr_type_role (guint id);
