/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "disk-types.h"

#include <glib/gi18n.h>
#include <strings.h>

/* GUIDs from the UAPI Discoverable Partitions Specification and the
 * well-known Microsoft/Apple/firmware types. Names are short and technical
 * (they are shown next to the GUID in the detailed view); the friendly
 * description is the "contents" string instead. */
typedef struct {
  const char *guid;
  const char *name;
  ImprintPartRole role;
} GptType;

static const GptType gpt_types[] = {
  { "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", N_("EFI System"), IMPRINT_PART_ROLE_ESP },
  { "bc13c2ff-59e6-4262-a352-b275fd6f7172", N_("Linux extended boot (XBOOTLDR)"), IMPRINT_PART_ROLE_XBOOTLDR },
  { "21686148-6449-6e6f-744e-656564454649", N_("BIOS boot"), IMPRINT_PART_ROLE_BIOS_BOOT },

  { "e3c9e316-0b5c-4db8-817d-f92df00215ae", N_("Microsoft reserved"), IMPRINT_PART_ROLE_MS_RESERVED },
  { "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", N_("Microsoft basic data"), IMPRINT_PART_ROLE_MS_DATA },
  { "de94bba4-06d1-4d40-a16a-bfd50179d6ac", N_("Windows recovery"), IMPRINT_PART_ROLE_MS_RECOVERY },
  { "5808c8aa-7e8f-42e0-85d2-e1e90434cfb3", N_("Microsoft LDM metadata"), IMPRINT_PART_ROLE_MS_OTHER },
  { "af9b60a0-1431-4f62-bc68-3311714a69ad", N_("Microsoft LDM data"), IMPRINT_PART_ROLE_MS_OTHER },
  { "e75caf8f-f680-4cee-afa3-b001e56efc2d", N_("Microsoft Storage Spaces"), IMPRINT_PART_ROLE_MS_OTHER },

  { "0fc63daf-8483-4772-8e79-3d69d8477de4", N_("Linux filesystem"), IMPRINT_PART_ROLE_LINUX_DATA },
  { "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", N_("Linux swap"), IMPRINT_PART_ROLE_LINUX_SWAP },
  { "933ac7e1-2eb4-4f13-b844-0e14e2aef915", N_("Linux home"), IMPRINT_PART_ROLE_LINUX_DATA },
  { "773f91ef-66d4-49b5-bd83-d683bf40ad16", N_("Linux user home"), IMPRINT_PART_ROLE_LINUX_DATA },
  { "3b8f8425-20e0-4f3b-907f-1a25a76f98e8", N_("Linux server data (srv)"), IMPRINT_PART_ROLE_LINUX_DATA },
  { "4d21b016-b534-45c2-a9fb-5c16e091fd2d", N_("Linux variable data (var)"), IMPRINT_PART_ROLE_LINUX_DATA },
  { "7ec6f557-3bc5-4aca-b293-16ef5df639d1", N_("Linux temporary data (var/tmp)"), IMPRINT_PART_ROLE_LINUX_DATA },
  { "ca7d7ccb-63ed-4c53-861c-1742536059cc", N_("Linux LUKS"), IMPRINT_PART_ROLE_LINUX_LUKS },
  { "7ffec5c9-2d00-49b7-8941-3ea10a5586b7", N_("Linux plain dm-crypt"), IMPRINT_PART_ROLE_LINUX_LUKS },
  { "e6d6d379-f507-44c2-a23c-238f2a3df928", N_("Linux LVM"), IMPRINT_PART_ROLE_LINUX_LVM },
  { "a19d880f-05fc-4d3b-a006-743f0f84911e", N_("Linux RAID"), IMPRINT_PART_ROLE_LINUX_RAID },
  { "8da63339-0007-60c0-c436-083ac8230908", N_("Linux reserved"), IMPRINT_PART_ROLE_LINUX_DATA },

  { "4f68bce3-e8cd-4db1-96e7-fbcaf984b709", N_("Linux root (x86-64)"), IMPRINT_PART_ROLE_LINUX_DATA },
  { "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5", N_("Linux root verity (x86-64)"), IMPRINT_PART_ROLE_LINUX_VERITY },
  { "41092b05-9fc8-4523-994f-2def0408b176", N_("Linux root verity signature (x86-64)"), IMPRINT_PART_ROLE_LINUX_VERITY },
  { "8484680c-9521-48c6-9c11-b0720656f69e", N_("Linux /usr (x86-64)"), IMPRINT_PART_ROLE_LINUX_DATA },
  { "77ff5f63-e7b6-4633-acf4-1565b864c0e6", N_("Linux /usr verity (x86-64)"), IMPRINT_PART_ROLE_LINUX_VERITY },
  { "e7bb33fb-06cf-4e81-8273-e543b413e2e2", N_("Linux /usr verity signature (x86-64)"), IMPRINT_PART_ROLE_LINUX_VERITY },

  { "b921b045-1df0-41c3-af44-4c6f280d3fae", N_("Linux root (ARM64)"), IMPRINT_PART_ROLE_LINUX_DATA },
  { "df3300ce-d69f-4c92-978c-9bfb0f38d820", N_("Linux root verity (ARM64)"), IMPRINT_PART_ROLE_LINUX_VERITY },
  { "6db69de6-29f4-4758-a7a5-962190f00ce3", N_("Linux root verity signature (ARM64)"), IMPRINT_PART_ROLE_LINUX_VERITY },
  { "b0e01050-ee5f-4390-949a-9101b17104e9", N_("Linux /usr (ARM64)"), IMPRINT_PART_ROLE_LINUX_DATA },
  { "6e11a4e7-fbca-4ded-b9e9-e1a512bb664e", N_("Linux /usr verity (ARM64)"), IMPRINT_PART_ROLE_LINUX_VERITY },
  { "c23ce4ff-44bd-4b00-b2d4-b41b3419e02a", N_("Linux /usr verity signature (ARM64)"), IMPRINT_PART_ROLE_LINUX_VERITY },

  { "44479540-f297-41b2-9af7-d131d5f0458a", N_("Linux root (x86)"), IMPRINT_PART_ROLE_LINUX_DATA },
  { "75250d76-8cc6-458e-bd66-bd47cc81a812", N_("Linux /usr (x86)"), IMPRINT_PART_ROLE_LINUX_DATA },

  { "48465300-0000-11aa-aa11-00306543ecac", N_("Apple HFS/HFS+"), IMPRINT_PART_ROLE_APPLE },
  { "7c3457ef-0000-11aa-aa11-00306543ecac", N_("Apple APFS"), IMPRINT_PART_ROLE_APPLE },
  { "426f6f74-0000-11aa-aa11-00306543ecac", N_("Apple boot"), IMPRINT_PART_ROLE_APPLE },
};

typedef struct {
  guint id;
  const char *name;
  ImprintPartRole role;
} MbrType;

static const MbrType mbr_types[] = {
  { 0x00, N_("Empty"), IMPRINT_PART_ROLE_EMPTY },
  { 0x01, N_("FAT12"), IMPRINT_PART_ROLE_OTHER },
  { 0x04, N_("FAT16 <32M"), IMPRINT_PART_ROLE_OTHER },
  { 0x05, N_("Extended"), IMPRINT_PART_ROLE_EXTENDED },
  { 0x06, N_("FAT16"), IMPRINT_PART_ROLE_OTHER },
  { 0x07, N_("HPFS/NTFS/exFAT"), IMPRINT_PART_ROLE_MS_DATA },
  { 0x0b, N_("W95 FAT32"), IMPRINT_PART_ROLE_OTHER },
  { 0x0c, N_("W95 FAT32 (LBA)"), IMPRINT_PART_ROLE_OTHER },
  { 0x0e, N_("W95 FAT16 (LBA)"), IMPRINT_PART_ROLE_OTHER },
  { 0x0f, N_("W95 extended (LBA)"), IMPRINT_PART_ROLE_EXTENDED },
  { 0x11, N_("Hidden FAT12"), IMPRINT_PART_ROLE_OTHER },
  { 0x17, N_("Hidden HPFS/NTFS"), IMPRINT_PART_ROLE_MS_RECOVERY },
  { 0x1b, N_("Hidden W95 FAT32"), IMPRINT_PART_ROLE_OTHER },
  { 0x1c, N_("Hidden W95 FAT32 (LBA)"), IMPRINT_PART_ROLE_OTHER },
  { 0x27, N_("Windows recovery (hidden NTFS)"), IMPRINT_PART_ROLE_MS_RECOVERY },
  { 0x42, N_("Windows dynamic (LDM)"), IMPRINT_PART_ROLE_MS_OTHER },
  { 0x82, N_("Linux swap"), IMPRINT_PART_ROLE_LINUX_SWAP },
  { 0x83, N_("Linux"), IMPRINT_PART_ROLE_LINUX_DATA },
  { 0x85, N_("Linux extended"), IMPRINT_PART_ROLE_EXTENDED },
  { 0x8e, N_("Linux LVM"), IMPRINT_PART_ROLE_LINUX_LVM },
  { 0xa5, N_("FreeBSD"), IMPRINT_PART_ROLE_OTHER },
  { 0xa6, N_("OpenBSD"), IMPRINT_PART_ROLE_OTHER },
  { 0xa8, N_("Darwin UFS"), IMPRINT_PART_ROLE_APPLE },
  { 0xab, N_("Darwin boot"), IMPRINT_PART_ROLE_APPLE },
  { 0xaf, N_("HFS/HFS+"), IMPRINT_PART_ROLE_APPLE },
  { 0xe8, N_("Linux LUKS"), IMPRINT_PART_ROLE_LINUX_LUKS },
  { 0xea, N_("Linux extended boot"), IMPRINT_PART_ROLE_XBOOTLDR },
  { 0xee, N_("GPT protective"), IMPRINT_PART_ROLE_OTHER },
  { 0xef, N_("EFI System"), IMPRINT_PART_ROLE_ESP },
  { 0xfd, N_("Linux RAID autodetect"), IMPRINT_PART_ROLE_LINUX_RAID },
};

static const GptType *
gpt_type_find (const char *guid)
{
  if (guid == NULL)
    return NULL;
  for (size_t i = 0; i < G_N_ELEMENTS (gpt_types); i++)
    if (strcasecmp (gpt_types[i].guid, guid) == 0)
      return &gpt_types[i];
  return NULL;
}

const char *
imprint_disk_gpt_type_name (const char *guid)
{
  const GptType *t = gpt_type_find (guid);
  return t ? t->name : NULL;
}

ImprintPartRole
imprint_disk_gpt_type_role (const char *guid)
{
  const GptType *t = gpt_type_find (guid);
  return t ? t->role : IMPRINT_PART_ROLE_OTHER;
}

static const MbrType *
mbr_type_find (guint id)
{
  for (size_t i = 0; i < G_N_ELEMENTS (mbr_types); i++)
    if (mbr_types[i].id == id)
      return &mbr_types[i];
  return NULL;
}

const char *
imprint_disk_mbr_type_name (guint id)
{
  const MbrType *t = mbr_type_find (id);
  return t ? t->name : NULL;
}

ImprintPartRole
imprint_disk_mbr_type_role (guint id)
{
  const MbrType *t = mbr_type_find (id);
  return t ? t->role : IMPRINT_PART_ROLE_OTHER;
}
