/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

/* Free-space mode: the existing GPT stays, partitions left over from an
 * interrupted run of the same source are reclaimed, an existing ESP gets
 * the boot files (or, when full, a new or existing XBOOTLDR the kernel
 * images), and the slots go into the largest gap. */
#include <glib/gi18n.h>
#include <libfdisk.h>

#include "imprint-error.h"
#include "plan.h"
#include "plan-private.h"
#include "repart-definition.h"

static gint
cmp_by_start (gconstpointer a, gconstpointer b)
{
  const ImprintPlanPartition *x = *(ImprintPlanPartition **) a, *y = *(ImprintPlanPartition **) b;
  return x->start < y->start ? -1 : x->start > y->start;
}

/* Space after the last kept partition is all one gap; so are holes. */
typedef struct { guint64 start, end; } Gap;

static Gap
largest_gap (ImprintPlan *plan, guint64 first, guint64 last)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  Gap best = { 0, 0 };
  guint64 cursor = ALIGN_UP (first, MiB);

  for (guint i = 0; i < plan->partitions->len; i++)
    {
      ImprintPlanPartition *p = plan->partitions->pdata[i];
      if (p->action == IMPRINT_PLAN_KEEP)
        g_ptr_array_add (sorted, p);
    }
  g_ptr_array_sort (sorted, cmp_by_start);
  for (guint i = 0; i <= sorted->len; i++)
    {
      /* Only starts need alignment: a partition systemd-repart placed on
       * its 4 KiB grain (the root after slot B's 16 KiB signature) still
       * ends the gap where it starts. */
      guint64 end = i < sorted->len ? ((ImprintPlanPartition *) sorted->pdata[i])->start
                                    : ALIGN_DOWN (last, MiB);
      if (end > cursor && end - cursor > best.end - best.start)
        {
          best.start = cursor;
          best.end = end;
        }
      if (i < sorted->len)
        {
          ImprintPlanPartition *p = sorted->pdata[i];
          cursor = MAX (cursor, ALIGN_UP (p->start + p->size, MiB));
        }
    }
  return best;
}

/* What a previous, interrupted run of an image-based install left behind:
 * slots of our architecture that are empty or carry the source's UUIDs.
 * Free-space mode reclaims them, so a rerun works. */
static gboolean
is_leftover_slot (const ImprintPartition *p, ImprintSource *src)
{
  const char *types[] = { imprint_gpt_type_usr_native (), imprint_gpt_type_usr_verity_native (),
                          imprint_gpt_type_usr_verity_sig_native () };
  gboolean ours = FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    if (types[i] && g_str_equal (p->type, types[i]))
      ours = TRUE;
  if (!ours)
    return FALSE;
  g_autofree char *bu = imprint_plan_b_slot_uuid (src, "usr");
  g_autofree char *bv = imprint_plan_b_slot_uuid (src, "usr-verity");
  g_autofree char *bs = imprint_plan_b_slot_uuid (src, "usr-verity-sig");
  /* Only slots this source's install makes: another system's "_empty"
   * slots are not ours to take. */
  return g_str_equal (p->uuid, bu) || g_str_equal (p->uuid, bv) || g_str_equal (p->uuid, bs) ||
         g_str_equal (p->uuid, src->usr.uuid) ||
         g_str_equal (p->uuid, src->usr_verity.uuid) ||
         g_str_equal (p->uuid, src->usr_verity_sig.uuid);
}

/* What the existing table holds, kept or (leftovers) deleted. */
typedef struct {
  ImprintPartition *esp_old, *xb_old;
  ImprintPlanPartition *xb_plan;
  guint64 first, last;     /* usable bytes */
  Gap gap;
  guint64 need;
} FreeSpace;

static void
add_existing (ImprintPlan *plan, ImprintSource *src, GPtrArray *old, FreeSpace *fs)
{
  for (guint i = 0; i < old->len; i++)
    {
      ImprintPartition *o = old->pdata[i];
      gboolean leftover = is_leftover_slot (o, src);
      ImprintPlanPartition *p =
        imprint_plan_add_partition (plan, o->type, o->label, o->uuid, o->offset, o->size,
                                    leftover ? IMPRINT_PLAN_DELETE : IMPRINT_PLAN_KEEP,
                                    IMPRINT_CONTENT_EXISTING);
      p->number = o->partno + 1;
      p->attrs = o->attrs;
      p->leftover = leftover;
      if (leftover)
        imprint_plan_add_erased (plan, o);
      if (fs->xb_old == NULL && g_str_equal (o->type, IMPRINT_GPT_XBOOTLDR))
        {
          fs->xb_old = o;
          fs->xb_plan = p;
        }
      if (fs->esp_old == NULL && g_str_equal (o->type, IMPRINT_GPT_ESP))
        {
          fs->esp_old = o;
          plan->esp = p;
        }
    }
}

/* First/last usable bytes as the existing header says. */
static void
usable_range (ImprintPlan *plan, guint32 ss, FreeSpace *fs)
{
  struct fdisk_context *cxt = fdisk_new_context ();
  guint64 last_lba;

  /* The header's LBAs are the disk's word: checked, never wrapped. */
  if (!(cxt && fdisk_assign_device (cxt, plan->target, 1) == 0 &&
        g_uint64_checked_add (&last_lba, fdisk_get_last_lba (cxt), 1) &&
        g_uint64_checked_mul (&fs->first, fdisk_get_first_lba (cxt), ss) &&
        g_uint64_checked_mul (&fs->last, last_lba, ss) &&
        fs->first <= fs->last && fs->last <= plan->target_size))
    {
      fs->first = MiB;
      fs->last = plan->target_size - 33 * (guint64) ss;
    }
  if (cxt)
    fdisk_unref_context (cxt);
}

/* SizeMinBytes= of the image's first definition for @gpt_type (the ESP,
 * XBOOTLDR); 0 when there is none. */
static guint64
definition_min (const ImprintPlan *plan, const char *gpt_type)
{
  for (guint i = 0; plan->definitions != NULL && i < plan->definitions->len; i++)
    {
      const ImprintRepartDefinition *d = plan->definitions->pdata[i];
      const char *uuid = imprint_gpt_type_uuid_from_name (d->type);

      if (d->type != NULL && g_ascii_strcasecmp (uuid ? uuid : d->type, gpt_type) == 0)
        return d->size_min;
    }
  return 0;
}

/* systemd-repart never shrinks, and it refuses to run at all when a
 * partition it has a definition for is below that definition's
 * SizeMinBytes= and cannot grow in place ("Can't fit requested partitions",
 * systemd 257). A kept ESP (Windows makes 100 MiB ones) under the image's
 * minimum would make repart fail on every boot of the installed system and
 * every factory reset: refuse the plan instead, saying why. */
static gboolean
check_kept_boot_partition (const ImprintPlan *plan, const ImprintPartition *kept, GError **error)
{
  guint64 min = definition_min (plan, kept->type);
  g_autofree char *need = NULL, *has = NULL;

  if (min <= kept->size)
    return TRUE;
  need = g_format_size (min);
  has = g_format_size (kept->size);
  if (g_str_equal (kept->type, IMPRINT_GPT_ESP))
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                 _("The system’s partition definitions ask for an EFI System Partition of at least %s, but "
                   "the one on %s has %s and cannot grow: the installed system could not run its partitioning "
                   "or a factory reset. Erase the disk instead, or make that partition larger first"),
                 need, plan->target_display, has);
  else
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                 _("The system’s partition definitions ask for a boot partition (XBOOTLDR) of at least %s, "
                   "but the one on %s has %s and cannot grow: the installed system could not run its "
                   "partitioning or a factory reset. Erase the disk instead, or make that partition larger "
                   "first"),
                 need, plan->target_display, has);
  return FALSE;
}

/* The ESP is full: systemd-boot goes there, the kernel images to an
 * XBOOTLDR (the one there, or a new one when the gap has room). */
static void
use_xbootldr (ImprintPlan *plan, ImprintSource *src, FreeSpace *fs, guint64 src_used, guint64 esp_files)
{
  /* At least what the image's own definition asks for: repart on the
   * installed system would otherwise refuse to run. */
  guint64 xb = ALIGN_UP (MAX (MAX (src_used * 3, 256 * MiB), definition_min (plan, IMPRINT_GPT_XBOOTLDR)), MiB);
  guint64 xb_free = 0;

  plan->esp->boot_files = IMPRINT_BOOT_FILES_LOADER;
  if (fs->xb_old && imprint_vfat_usage (plan->target, fs->xb_old->offset, NULL, &xb_free, NULL) &&
      xb_free >= esp_files)
    {
      /* An XBOOTLDR is there already (ours from a previous run, or another
       * system's): the UKIs go into it. */
      fs->xb_plan->boot_files = IMPRINT_BOOT_FILES_KERNELS;
      fs->xb_plan->content = IMPRINT_CONTENT_ESP_FILES;
      plan->xbootldr = fs->xb_plan;
      xb = 0;
    }
  fs->need += xb;
  if (xb > 0 && fs->gap.end - fs->gap.start >= fs->need)
    {
      ImprintPlanPartition *x = imprint_plan_add_partition (plan, IMPRINT_GPT_XBOOTLDR, "XBOOTLDR", NULL,
                                                            fs->gap.start, xb, IMPRINT_PLAN_CREATE,
                                                            IMPRINT_CONTENT_XBOOTLDR);
      x->number = imprint_plan_next_number (plan);
      plan->xbootldr = x;
      fs->gap.start += xb;
    }
}

/* Boot files into the existing ESP when they fit. */
static gboolean
reuse_esp (ImprintPlan *plan, ImprintSource *src, FreeSpace *fs, GError **error)
{
  g_autoptr(GError) local = NULL;
  guint64 esp_free = 0, src_used = 0, esp_files;

  if (!imprint_vfat_usage (src->path, src->esp.offset, &src_used, NULL, error))
    return FALSE;
  if (!imprint_vfat_usage (plan->target, fs->esp_old->offset, NULL, &esp_free, &local))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                   _("The existing EFI System Partition cannot be read: %s"), local->message);
      return FALSE;
    }
  /* Room for everything plus slack for FAT cluster rounding. */
  esp_files = src_used + src_used / 10 + MiB;
  plan->esp_files_size = esp_files;
  plan->esp->content = IMPRINT_CONTENT_ESP_FILES;
  if (esp_free >= esp_files)
    plan->esp->boot_files = IMPRINT_BOOT_FILES_LOADER | IMPRINT_BOOT_FILES_KERNELS;
  else
    /* The boot loader alone is small; the UKIs go to XBOOTLDR. */
    use_xbootldr (plan, src, fs, src_used, esp_files);
  return TRUE;
}

static void
add_esp (ImprintPlan *plan, ImprintSource *src, FreeSpace *fs)
{
  guint64 esp_sz = ALIGN_UP (src->esp.size, MiB);

  fs->need += esp_sz;
  if (fs->gap.end - fs->gap.start >= fs->need)
    {
      ImprintPlanPartition *e = imprint_plan_add_partition (plan, IMPRINT_GPT_ESP, src->esp.label,
                                                            src->esp.uuid, fs->gap.start, esp_sz,
                                                            IMPRINT_PLAN_CREATE, IMPRINT_CONTENT_ESP);
      e->number = imprint_plan_next_number (plan);
      e->attrs = src->esp.attrs;
      plan->esp = e;
      fs->gap.start += esp_sz;
    }
}

gboolean
imprint_plan_free_space (ImprintPlan *plan, ImprintSource *src, const ImprintSlotSizes *sizes,
                         const ImprintPlanOptions *o, int fd, GError **error)
{
  g_autoptr(GPtrArray) old = NULL;
  FreeSpace fs = { 0 };
  guint32 ss = 512;
  guint64 cursor;
  int r;

  r = imprint_read_gpt (plan->target, &ss, &plan->disk_uuid, &old, error);
  if (r < 0)
    return FALSE;
  if (r == 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                   _("The target %s has no GPT partition table; installing beside other systems "
                     "needs one (erase the disk instead)"), plan->target_display);
      return FALSE;
    }
  plan->sector_size = ss;
  add_existing (plan, src, old, &fs);
  if ((fs.esp_old && !check_kept_boot_partition (plan, fs.esp_old, error)) ||
      (fs.xb_old && !check_kept_boot_partition (plan, fs.xb_old, error)))
    return FALSE;
  /* Before the gaps are measured: the room the shrink makes is one. */
  if (!imprint_plan_shrink (plan, fd, o, error))
    return FALSE;
  usable_range (plan, ss, &fs);
  fs.gap = largest_gap (plan, fs.first, fs.last);
  fs.need = imprint_plan_slots_size (sizes);
  if (fs.esp_old)
    {
      if (!reuse_esp (plan, src, &fs, error))
        return FALSE;
    }
  else
    add_esp (plan, src, &fs);
  if (fs.gap.end - fs.gap.start < fs.need)
    return imprint_plan_too_small (plan, fs.need, fs.gap.end - fs.gap.start, error);
  cursor = fs.gap.start;
  imprint_plan_add_slots (plan, src, sizes, &cursor);
  return TRUE;
}
