/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The GPT side of a source or target: the architecture's partition type
 * UUIDs and their names, reading a partition table with libfdisk, and the
 * layout checks every table from an image passes before its offsets are
 * used. */

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <libfdisk.h>

#include "imprint-error.h"
#include "lba.h"
#include "macros.h"
#include "plan-private.h"
#include "source-private.h"
#include "cleanup-util-linux.h"

static const ImprintArchTypes arch_types[] = {
  { "x86-64",
    "4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "8484680c-9521-48c6-9c11-b0720656f69e",
    "77ff5f63-e7b6-4633-acf4-1565b864c0e6", "e7bb33fb-06cf-4e81-8273-e543b413e2e2" },
  { "arm64",
    "b921b045-1df0-41c3-af44-4c6f280d3fae", "b0e01050-ee5f-4390-949a-9101b17104e9",
    "6e11a4e7-fbca-4ded-b9e9-e1a512bb664e", "c23ce4ff-44bd-4b00-b2d4-b41b3419e02a" },
};

const ImprintArchTypes *
imprint_native_arch (void)
{
#if defined(__x86_64__)
  return &arch_types[0];
#elif defined(__aarch64__)
  return &arch_types[1];
#else
  return NULL;
#endif
}

const char *imprint_gpt_type_usr_native (void)            { return imprint_native_arch () ? imprint_native_arch ()->usr : NULL; }
const char *imprint_gpt_type_usr_verity_native (void)     { return imprint_native_arch () ? imprint_native_arch ()->usr_verity : NULL; }
const char *imprint_gpt_type_usr_verity_sig_native (void) { return imprint_native_arch () ? imprint_native_arch ()->usr_verity_sig : NULL; }
const char *imprint_gpt_type_root_native (void)           { return imprint_native_arch () ? imprint_native_arch ()->root : NULL; }

const char *
imprint_gpt_type_name (const char *type)
{
  static const struct { const char *uuid, *name; } fixed[] = {
    { IMPRINT_GPT_ESP, "esp" },
    { IMPRINT_GPT_XBOOTLDR, "xbootldr" },
    { "933ac7e1-2eb4-4f13-b844-0e14e2aef915", "home" },
    { "3b8f8425-20e0-4f3b-907f-1a25a76f98e8", "srv" },
    { "4d21b016-b534-45c2-a9fb-5c16e091fd2d", "var" },
    { "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", "swap" },
    { "e3c9e316-0b5c-4db8-817d-f92df00215ae", "microsoft-reserved" },
    { "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "microsoft-basic-data" },
    { "de94bba4-06d1-4d40-a16a-bfd50179d6ac", "windows-recovery" },
    { "0fc63daf-8483-4772-8e79-3d69d8477de4", "linux-generic" },
  };

  if (type == NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (fixed); i++)
    if (g_ascii_strcasecmp (type, fixed[i].uuid) == 0)
      return fixed[i].name;
  /* Names as systemd-repart spells them. */
  static const char *const names[][4] = {
    { "root-x86-64", "usr-x86-64", "usr-x86-64-verity", "usr-x86-64-verity-sig" },
    { "root-arm64", "usr-arm64", "usr-arm64-verity", "usr-arm64-verity-sig" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (arch_types); i++)
    {
      const char *u[4] = { arch_types[i].root, arch_types[i].usr,
                           arch_types[i].usr_verity, arch_types[i].usr_verity_sig };
      for (int k = 0; k < 4; k++)
        if (g_ascii_strcasecmp (type, u[k]) == 0)
          return names[i][k];
    }
  return NULL;
}

/* The table as libfdisk reads it from @cxt. Partitions whose sectors do
 * not convert to bytes (empty, end before start, beyond 64 bits) make the
 * whole table invalid: the rest of the code trusts offset + size. */
static int
read_gpt_cxt (struct fdisk_context *cxt, const char *name, guint32 *ret_sector_size,
              char **ret_disk_uuid, GPtrArray **ret_parts, GError **error)
{
  _cleanup_(fdisk_unref_tablep) struct fdisk_table *tb = NULL;
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func ((GDestroyNotify) imprint_partition_free);
  char *id = NULL;
  int r;

  if (!fdisk_is_labeltype (cxt, FDISK_DISKLABEL_GPT))
    {
      /* Not an error for the caller that only wants to know. */
      if (ret_sector_size)
        *ret_sector_size = fdisk_get_sector_size (cxt);
      if (ret_disk_uuid)
        *ret_disk_uuid = NULL;
      if (ret_parts)
        *ret_parts = NULL;
      return 0;
    }
  r = fdisk_get_partitions (cxt, &tb);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("Cannot read the partition table of %s: %s"), name, g_strerror (-r));
      return r;
    }
  guint32 ss = fdisk_get_sector_size (cxt);
  for (size_t i = 0; i < fdisk_table_get_nents (tb); i++)
    {
      struct fdisk_partition *pa = fdisk_table_get_partition (tb, i);
      struct fdisk_parttype *pt;
      ImprintPartition *p;
      uint64_t attrs = 0;

      if (!fdisk_partition_is_used (pa))
        continue;
      p = g_new0 (ImprintPartition, 1);
      g_ptr_array_add (parts, p);
      p->partno = (guint) fdisk_partition_get_partno (pa);
      pt = fdisk_partition_get_type (pa);
      p->type = g_ascii_strdown (pt ? fdisk_parttype_get_string (pt) : "", -1);
      p->uuid = g_ascii_strdown (fdisk_partition_get_uuid (pa) ?: "", -1);
      p->label = g_strdup (fdisk_partition_get_name (pa) ?: "");
      /* libfdisk gives size = end - start + 1: an end before the start
       * wraps to a huge size, caught by the overflow check. */
      if (!fdisk_partition_has_start (pa) || !fdisk_partition_has_size (pa) ||
          !imprint_lba_range_to_bytes (fdisk_partition_get_start (pa), fdisk_partition_get_size (pa),
                                       ss, &p->offset, &p->size))
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                       _("Partition %u of %s has an invalid start or size"), p->partno + 1, name);
          return -EBADMSG;
        }
      if (fdisk_gpt_get_partition_attrs (cxt, p->partno, &attrs) == 0)
        p->attrs = attrs;
    }
  if (fdisk_get_disklabel_id (cxt, &id) < 0)
    id = NULL;

  if (ret_sector_size)
    *ret_sector_size = ss;
  if (ret_disk_uuid)
    *ret_disk_uuid = id ? g_ascii_strdown (id, -1) : NULL;
  free (id);
  if (ret_parts)
    *ret_parts = g_steal_pointer (&parts);
  return 1;
}

int
imprint_read_gpt (const char *path, guint32 *ret_sector_size, char **ret_disk_uuid,
                  GPtrArray **ret_parts, GError **error)
{
  _cleanup_(fdisk_unref_contextp) struct fdisk_context *cxt = NULL;
  int r;

  cxt = fdisk_new_context ();
  if (cxt == NULL)
    return -ENOMEM;
  r = fdisk_assign_device (cxt, path, 1);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Cannot open %s: %s"), path, g_strerror (-r));
      return r;
    }
  return read_gpt_cxt (cxt, path, ret_sector_size, ret_disk_uuid, ret_parts, error);
}

int
imprint_read_gpt_fd (int fd, const char *name, guint32 *ret_sector_size, char **ret_disk_uuid,
                     GPtrArray **ret_parts, GError **error)
{
  _cleanup_(fdisk_unref_contextp) struct fdisk_context *cxt = NULL;
  int r;

  cxt = fdisk_new_context ();
  if (cxt == NULL)
    return -ENOMEM;
  /* libfdisk does not own (or close) an fd it is given. */
  r = fdisk_assign_device_by_fd (cxt, fd, name, 1);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Cannot open %s: %s"), name, g_strerror (-r));
      return r;
    }
  return read_gpt_cxt (cxt, name, ret_sector_size, ret_disk_uuid, ret_parts, error);
}

static int
cmp_partition_offset (gconstpointer a, gconstpointer b)
{
  const ImprintPartition *p = *(ImprintPartition *const *) a, *q = *(ImprintPartition *const *) b;
  return p->offset < q->offset ? -1 : p->offset > q->offset;
}

gboolean
imprint_partitions_check_layout (GPtrArray *parts, guint64 device_size, const char *name,
                                 GError **error)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();

  for (guint i = 0; i < parts->len; i++)
    {
      ImprintPartition *p = parts->pdata[i];
      guint64 end;

      /* read_gpt_cxt() made sure this does not wrap; checked again since
       * callers may build the array themselves. */
      if (p->size == 0 || !g_uint64_checked_add (&end, p->offset, p->size) || end > device_size)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                       _("The source is truncated or invalid: partition %u (%s) lies outside the "
                         "%" PRIu64 " bytes of %s"),
                       p->partno + 1, p->label && p->label[0] ? p->label : _("unnamed"),
                       device_size, name);
          return FALSE;
        }
      g_ptr_array_add (sorted, p);
    }
  g_ptr_array_sort (sorted, cmp_partition_offset);
  for (guint i = 1; i < sorted->len; i++)
    {
      const ImprintPartition *prev = sorted->pdata[i - 1], *p = sorted->pdata[i];
      if (prev->offset + prev->size > p->offset)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                       _("Partitions %u and %u of %s overlap"), prev->partno + 1, p->partno + 1, name);
          return FALSE;
        }
    }
  return TRUE;
}
