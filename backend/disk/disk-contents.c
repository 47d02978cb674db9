/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "disk-contents.h"

#include <glib/gi18n.h>
#include <string.h>

static gboolean
strv_has (const char * const *v, const char *s)
{
  return s != NULL && g_strv_contains (v, s);
}

static const char * const linux_fs[] = {
  "ext2", "ext3", "ext4", "ext4dev", "btrfs", "xfs", "f2fs", "jfs", "reiserfs",
  "bcachefs", "erofs", "squashfs", "nilfs2", "LVM2_member", "DM_verity_hash",
  NULL
};

static const char * const macos_fs[] = { "apfs", "hfs", "hfsplus", NULL };

ImprintContentKind
imprint_disk_classify_partition (ImprintPartRole role, const char *fstype)
{
  gboolean has_fs = fstype != NULL && fstype[0] != '\0';

  if (role == IMPRINT_PART_ROLE_EXTENDED)
    return IMPRINT_CONTENT_EXTENDED;

  /* The filesystem says more than the type: a partition typed "basic data"
   * can hold ext4, a "Linux filesystem" one BitLocker. Only a few types
   * override what the filesystem would suggest. */
  if (has_fs)
    {
      if (g_str_equal (fstype, "BitLocker"))
        return IMPRINT_CONTENT_WINDOWS_BITLOCKER;
      if (g_str_equal (fstype, "ntfs"))
        return role == IMPRINT_PART_ROLE_MS_RECOVERY ? IMPRINT_CONTENT_WINDOWS_RECOVERY
                                                     : IMPRINT_CONTENT_WINDOWS;
      if (g_str_equal (fstype, "vfat"))
        {
          if (role == IMPRINT_PART_ROLE_ESP)
            return IMPRINT_CONTENT_ESP;
          if (role == IMPRINT_PART_ROLE_XBOOTLDR || role == IMPRINT_PART_ROLE_BIOS_BOOT)
            return IMPRINT_CONTENT_BOOT;
          return IMPRINT_CONTENT_DATA;
        }
      if (g_str_equal (fstype, "crypto_LUKS"))
        return IMPRINT_CONTENT_LUKS;
      if (g_str_equal (fstype, "swap"))
        return IMPRINT_CONTENT_SWAP;
      if (g_str_equal (fstype, "DM_verity_hash"))
        return IMPRINT_CONTENT_LINUX_VERITY;
      if (strv_has (linux_fs, fstype))
        return role == IMPRINT_PART_ROLE_XBOOTLDR ? IMPRINT_CONTENT_BOOT : IMPRINT_CONTENT_LINUX;
      if (strv_has (macos_fs, fstype))
        return IMPRINT_CONTENT_MACOS;
      if (g_str_equal (fstype, "exfat") || g_str_equal (fstype, "udf") ||
          g_str_equal (fstype, "iso9660"))
        return IMPRINT_CONTENT_DATA;
      return IMPRINT_CONTENT_UNKNOWN;
    }

  /* No signature: fall back on the type, but never claim an OS is there. */
  switch (role)
    {
    case IMPRINT_PART_ROLE_ESP:
      return IMPRINT_CONTENT_ESP;
    case IMPRINT_PART_ROLE_XBOOTLDR:
    case IMPRINT_PART_ROLE_BIOS_BOOT:
      return IMPRINT_CONTENT_BOOT;
    case IMPRINT_PART_ROLE_MS_RESERVED:
      return IMPRINT_CONTENT_MS_RESERVED;
    case IMPRINT_PART_ROLE_LINUX_VERITY:
      return IMPRINT_CONTENT_LINUX_VERITY;
    default:
      return IMPRINT_CONTENT_UNFORMATTED;
    }
}

static const char *
kind_words (ImprintContentKind kind)
{
  switch (kind)
    {
    case IMPRINT_CONTENT_UNFORMATTED:       return _("Unformatted");
    case IMPRINT_CONTENT_ESP:               return _("EFI system partition");
    case IMPRINT_CONTENT_BOOT:              return _("Boot partition");
    case IMPRINT_CONTENT_MS_RESERVED:       return _("Microsoft reserved");
    case IMPRINT_CONTENT_WINDOWS_RECOVERY:  return _("Windows recovery");
    case IMPRINT_CONTENT_WINDOWS_BITLOCKER: return _("Windows (BitLocker)");
    case IMPRINT_CONTENT_WINDOWS:           return _("Windows");
    case IMPRINT_CONTENT_LINUX:             return _("Linux");
    case IMPRINT_CONTENT_LINUX_VERITY:      return _("Linux (integrity data)");
    case IMPRINT_CONTENT_SWAP:              return _("Swap");
    case IMPRINT_CONTENT_LUKS:              return _("Encrypted (LUKS)");
    case IMPRINT_CONTENT_MACOS:             return _("macOS");
    case IMPRINT_CONTENT_EXTENDED:          return _("Extended partition");
    case IMPRINT_CONTENT_DATA:
    case IMPRINT_CONTENT_UNKNOWN:
      break;
    }
  return NULL;
}

static const char *
fs_display_name (const char *fstype)
{
  if (g_str_equal (fstype, "vfat"))
    return "FAT";
  if (g_str_equal (fstype, "exfat"))
    return "exFAT";
  if (g_str_equal (fstype, "iso9660"))
    return "ISO 9660";
  if (g_str_equal (fstype, "udf"))
    return "UDF";
  return fstype;
}

char *
imprint_disk_partition_contents (ImprintPartRole role, const char *fstype)
{
  ImprintContentKind kind = imprint_disk_classify_partition (role, fstype);
  const char *words = kind_words (kind);

  if (words != NULL)
    return g_strdup (words);
  if (g_str_equal (fstype, IMPRINT_DISK_FSTYPE_AMBIGUOUS))
    /* Conflicting signatures: something is there, we cannot say what. */
    return g_strdup (_("Unrecognised data"));
  if (kind == IMPRINT_CONTENT_DATA)
    /* TRANSLATORS: %s is a filesystem name such as FAT or exFAT */
    return g_strdup_printf (_("Data (%s)"), fs_display_name (fstype));
  /* TRANSLATORS: %s is a signature type blkid reported, e.g. "zfs_member" */
  return g_strdup_printf (_("Other data (%s)"), fstype);
}

/* Order in which the summary names things: operating systems first, then
 * the data people may care about. Helpers (ESP, MSR, swap, recovery, boot,
 * verity) only appear when nothing else is there. */
static const ImprintContentKind main_order[] = {
  IMPRINT_CONTENT_WINDOWS_BITLOCKER,
  IMPRINT_CONTENT_WINDOWS,
  IMPRINT_CONTENT_LINUX,
  IMPRINT_CONTENT_MACOS,
  IMPRINT_CONTENT_LUKS,
  IMPRINT_CONTENT_DATA,
  IMPRINT_CONTENT_UNKNOWN,
};

static const ImprintContentKind helper_order[] = {
  IMPRINT_CONTENT_ESP,
  IMPRINT_CONTENT_BOOT,
  IMPRINT_CONTENT_WINDOWS_RECOVERY,
  IMPRINT_CONTENT_MS_RESERVED,
  IMPRINT_CONTENT_LINUX_VERITY,
  IMPRINT_CONTENT_SWAP,
};

static char *
join_words (GPtrArray *words)
{
  g_autofree char *acc = NULL;

  g_assert (words->len > 0);
  if (words->len == 1)
    return g_strdup (words->pdata[0]);

  /* "A, B, C and D": build from the front, the last pair with "and". */
  acc = g_strdup (words->pdata[0]);
  for (guint i = 1; i + 1 < words->len; i++)
    {
      /* TRANSLATORS: joins items of a list but the last, "Windows, Linux" */
      char *n = g_strdup_printf (_("%s, %s"), acc, (const char *) words->pdata[i]);
      g_free (acc);
      acc = n;
    }
  /* TRANSLATORS: joins the last item of a list, "Windows and Linux" */
  return g_strdup_printf (_("%s and %s"), acc, (const char *) words->pdata[words->len - 1]);
}

static void
add_unique (GPtrArray *words, char *w)
{
  for (guint i = 0; i < words->len; i++)
    if (g_str_equal (words->pdata[i], w))
      {
        g_free (w);
        return;
      }
  g_ptr_array_add (words, w);
}

static gboolean
collect (GPtrArray *words, const ImprintContentKind *order, gsize n_order,
         const ImprintPartContents *parts, gsize n_parts)
{
  gboolean bitlocker = FALSE;

  for (gsize i = 0; i < n_parts; i++)
    if (imprint_disk_classify_partition (parts[i].role, parts[i].fstype) == IMPRINT_CONTENT_WINDOWS_BITLOCKER)
      bitlocker = TRUE;

  for (gsize o = 0; o < n_order; o++)
    for (gsize i = 0; i < n_parts; i++)
      {
        ImprintContentKind k = imprint_disk_classify_partition (parts[i].role, parts[i].fstype);
        if (k != order[o])
          continue;
        /* "Windows (BitLocker)" already says Windows. */
        if (k == IMPRINT_CONTENT_WINDOWS && bitlocker)
          continue;
        add_unique (words, imprint_disk_partition_contents (parts[i].role, parts[i].fstype));
      }
  return words->len > 0;
}

char *
imprint_disk_contents_summary (guint64 size,
                               ImprintTableState table,
                               const char *whole_fstype,
                               gboolean zeroed,
                               const ImprintPartContents *parts,
                               gsize n_parts)
{
  g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func (g_free);

  if (size == 0)
    return g_strdup (_("No medium"));

  if (table == IMPRINT_TABLE_UNREADABLE)
    /* Never call such a disk empty: its partitions may hold anything. */
    return g_strdup (_("Unreadable partition table"));
  if (table == IMPRINT_TABLE_NO_ACCESS)
    return g_strdup (_("Unknown: the disk cannot be read"));

  if (table == IMPRINT_TABLE_NONE)
    {
      if (whole_fstype != NULL && whole_fstype[0] != '\0')
        {
          g_autofree char *w = imprint_disk_partition_contents (IMPRINT_PART_ROLE_OTHER, whole_fstype);
          /* TRANSLATORS: %s says what is on a disk that has no partitions, e.g. "Linux" */
          return g_strdup_printf (_("%s (no partition table)"), w);
        }
      /* Only zeros where every table and most filesystems would start:
       * nothing a person would miss. Anything else is unknown data. */
      if (zeroed)
        return g_strdup (_("Empty disk"));
      return g_strdup (_("No partition table, unknown data"));
    }

  if (n_parts == 0)
    return g_strdup (_("Empty disk"));

  if (collect (words, main_order, G_N_ELEMENTS (main_order), parts, n_parts))
    return join_words (words);
  if (collect (words, helper_order, G_N_ELEMENTS (helper_order), parts, n_parts))
    return join_words (words);

  /* Only unformatted (or extended) partitions: say so, not "empty". */
  return g_strdup (_("Unformatted partitions"));
}
