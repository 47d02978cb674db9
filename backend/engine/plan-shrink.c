/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

/* Free-space mode making room beside Windows: the plan of shrinking one
 * kept NTFS partition. Only looks (read-only loop device, ntfsresize
 * --info --no-action); install-shrink.c does it. */
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "imprint-error.h"
#include "ntfs-probe.h"
#include "plan.h"
#include "plan-private.h"

#define GPT_MICROSOFT_BASIC_DATA "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7"

static ImprintPlanPartition *
find_kept (ImprintPlan *plan, guint number)
{
  for (guint i = 0; i < plan->partitions->len; i++)
    {
      ImprintPlanPartition *p = plan->partitions->pdata[i];
      if (p->number == number && p->action == IMPRINT_PLAN_KEEP)
        return p;
    }
  return NULL;
}

/* BitLocker's OEM id at byte 3 (blkid's test too): ntfsresize would only
 * say it is not NTFS. */
static gboolean
is_bitlocker (int fd, guint64 start)
{
  char id[8];

  return pread (fd, id, sizeof id, (off_t) start + 3) == (ssize_t) sizeof id &&
         memcmp (id, "-FVE-FS-", sizeof id) == 0;
}

static gboolean
refuse (ImprintPlan *plan, guint number, ImprintNtfsRefusals r, GError **error)
{
  g_autoptr(GPtrArray) words = g_ptr_array_new ();
  g_autoptr(GString) all = g_string_new (NULL);

  imprint_ntfs_refusals_describe (r, NULL, words);
  for (guint i = 0; i < words->len; i++)
    g_string_append_printf (all, "%s%s", i ? " " : "", (const char *) words->pdata[i]);
  g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
               _("Windows on partition %u of %s cannot be shrunk; nothing was changed. %s"), number,
               plan->target_display, all->str);
  return FALSE;
}

gboolean
imprint_plan_shrink (ImprintPlan *plan, int fd, const ImprintPlanOptions *o, GError **error)
{
  g_autoptr(GError) local = NULL;
  ImprintPlanPartition *p;
  ImprintNtfsProbe probe;
  ImprintNtfsRefusals r;
  guint64 end, new_size, floor;

  if (o == NULL || o->shrink_partition == 0)
    return TRUE;
  p = find_kept (plan, o->shrink_partition);
  /* Already that size: a rerun after the shrink (the job stopped later). */
  if (p != NULL && g_uint64_checked_add (&end, p->start, o->shrink_size) &&
      ALIGN_DOWN (end, MiB) == p->start + p->size)
    return TRUE;
  if (p == NULL || !g_str_equal (p->type, GPT_MICROSOFT_BASIC_DATA))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("%s has no Windows data partition %u to shrink"), plan->target_display,
                   o->shrink_partition);
      return FALSE;
    }
  /* The new end on a MiB boundary, from the caller's size, checked. */
  if (o->shrink_size == 0 || o->shrink_size >= p->size ||
      !g_uint64_checked_add (&end, p->start, o->shrink_size) || ALIGN_DOWN (end, MiB) <= p->start)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Partition %u of %s is %" G_GUINT64_FORMAT " bytes; the new size must be "
                     "smaller and not zero"), o->shrink_partition, plan->target_display, p->size);
      return FALSE;
    }
  new_size = ALIGN_DOWN (end, MiB) - p->start;

  if (is_bitlocker (fd, p->start))
    return refuse (plan, p->number, IMPRINT_NTFS_REFUSE_BITLOCKER, error);
  if (!imprint_ntfs_probe_region (fd, p->start, p->size, &probe, NULL, &local))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_UNAVAILABLE,
                   _("Cannot look at Windows on partition %u of %s: %s"), p->number,
                   plan->target_display, local->message);
      return FALSE;
    }
  r = imprint_ntfs_refusals (&probe.info, FALSE, probe.hibernated, p->size, p->size - new_size);
  if (r != 0)
    return refuse (plan, p->number, r, error);
  floor = imprint_ntfs_floor_size (&probe.info);
  if (new_size < floor)
    {
      g_autofree char *f = g_format_size (floor);
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NO_SPACE,
                   _("Windows on partition %u of %s cannot be made smaller than %s; nothing was "
                     "changed"), p->number, plan->target_display, f);
      return FALSE;
    }
  plan->shrink = p;
  plan->shrink_from = p->size;
  plan->shrink_used = probe.info.used;
  p->size = new_size;
  return TRUE;
}
