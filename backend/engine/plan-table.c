/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

/* The plan leaving the engine: as PlanInstall's reply, and as the
 * partition table written to the target. */
#include <errno.h>
#include <glib/gi18n.h>

#include "cleanup-util-linux.h"
#include "imprint-error.h"
#include "imprint-names.h"
#include "imprint-plan-words.h"
#include "imprint-request.h"
#include "macros.h"
#include "plan.h"
#include "plan-private.h"
#include "source-once.h"

const char *
imprint_plan_action_to_string (ImprintPlanAction a)
{
  switch (a)
    {
    case IMPRINT_PLAN_CREATE: return "create";
    case IMPRINT_PLAN_KEEP:   return "keep";
    case IMPRINT_PLAN_DELETE: return "delete";
    }
  return "keep";
}

const char *
imprint_definitions_source_to_string (ImprintDefinitionsSource source)
{
  switch (source)
    {
    case IMPRINT_DEFINITIONS_CALLER:         return IMPRINT_DEFINITIONS_FROM_CALLER;
    case IMPRINT_DEFINITIONS_RUNNING_SYSTEM: return IMPRINT_DEFINITIONS_FROM_RUNNING;
    case IMPRINT_DEFINITIONS_SOURCE_IMAGE:   return IMPRINT_DEFINITIONS_FROM_IMAGE;
    }
  return IMPRINT_DEFINITIONS_FROM_CALLER;
}

static const char *
content_name (ImprintPlanContent c)
{
  switch (c)
    {
    case IMPRINT_CONTENT_NONE:           return IMPRINT_CONTENT_NAME_NONE;
    case IMPRINT_CONTENT_EXISTING:       return IMPRINT_CONTENT_NAME_EXISTING;
    case IMPRINT_CONTENT_ESP:            return IMPRINT_CONTENT_NAME_ESP;
    case IMPRINT_CONTENT_ESP_FILES:      return IMPRINT_CONTENT_NAME_BOOT_FILES;
    case IMPRINT_CONTENT_XBOOTLDR:       return IMPRINT_CONTENT_NAME_XBOOTLDR;
    case IMPRINT_CONTENT_USR:            return IMPRINT_CONTENT_NAME_USR;
    case IMPRINT_CONTENT_USR_VERITY:     return IMPRINT_CONTENT_NAME_USR_VERITY;
    case IMPRINT_CONTENT_USR_VERITY_SIG: return IMPRINT_CONTENT_NAME_USR_VERITY_SIG;
    case IMPRINT_CONTENT_REPART:         return IMPRINT_CONTENT_NAME_REPART;
    }
  return IMPRINT_CONTENT_NAME_EXISTING;
}

static void
partition_info (ImprintPlanPartitionInfo *out, const ImprintPlanPartition *p)
{
  out->number = p->number;
  out->type = g_strdup (p->type);
  out->type_name = g_strdup (p->type_name);
  out->label = g_strdup (p->final_label ? p->final_label : p->label);
  out->uuid = g_strdup (p->uuid);
  out->start = p->start;
  out->size = p->size;
  out->action = g_strdup (imprint_plan_action_to_string (p->action));
  out->content = g_strdup (content_name (p->content));
  out->definition = g_strdup (p->definition);
  out->adds_boot_loader = (p->boot_files & IMPRINT_BOOT_FILES_LOADER) != 0;
  out->adds_kernels = (p->boot_files & IMPRINT_BOOT_FILES_KERNELS) != 0;
  out->leftover = p->leftover;
}

/* Facts only: the words of the older keys (summary, erased, source) come
 * from imprint-plan-words.h, as the faces' own do. */
GVariant *
imprint_plan_to_variant (const ImprintPlan *plan, const ImprintSource *src)
{
  g_auto(ImprintPlanInfo) info;

  imprint_plan_info_init (&info);
  for (guint i = 0; i < plan->partitions->len; i++)
    {
      ImprintPlanPartitionInfo *pi = imprint_plan_info_add_partition (&info);
      partition_info (pi, plan->partitions->pdata[i]);
      if (plan->shrink == plan->partitions->pdata[i])
        pi->shrink_from = plan->shrink_from;
    }
  for (guint i = 0; i < plan->erased->len; i++)
    partition_info (imprint_plan_info_add_erased (&info), plan->erased->pdata[i]);
  info.mode = plan->mode == IMPRINT_INSTALL_MODE_ERASE ? IMPRINT_REQUEST_MODE_ERASE
                                                        : IMPRINT_REQUEST_MODE_FREE_SPACE;
  info.target = g_strdup (plan->target_display ? plan->target_display : plan->target);
  info.target_size = plan->target_size;
  info.defer_data_partitions = plan->defer_data_partitions;
  info.source_read_twice = src != NULL && imprint_source_read_twice (plan, src);
  info.definitions_source = g_strdup (imprint_definitions_source_to_string (plan->definitions_source));
  info.definitions_directory = g_strdup (plan->definitions_display ? plan->definitions_display
                                        : plan->definitions_dir ? plan->definitions_dir : "");
  if (src)
    {
      info.name = g_strdup (src->name);
      info.version = g_strdup (src->version);
    }
  imprint_plan_words_fill (&info);
  return imprint_plan_info_to_variant (&info);
}

static gboolean write_table (const ImprintPlan *plan, int fd, const char *path, GError **error);

gboolean
imprint_plan_write_table (const ImprintPlan *plan, const char *path, GError **error)
{
  return write_table (plan, -1, path, error);
}

gboolean
imprint_plan_write_table_fd (const ImprintPlan *plan, int fd, const char *path, GError **error)
{
  return write_table (plan, fd, path, error);
}

/* One planned partition into the table being written. */
static int
add_table_partition (struct fdisk_context *cxt, struct fdisk_label *lb, guint32 ss,
                     const ImprintPlanPartition *p)
{
  struct fdisk_partition *pa = fdisk_new_partition ();
  struct fdisk_parttype *t = fdisk_label_get_parttype_from_string (lb, p->type);
  int r = -EINVAL;

  if (pa != NULL && t != NULL)
    {
      fdisk_partition_set_partno (pa, p->number - 1);
      fdisk_partition_set_start (pa, p->start / ss);
      fdisk_partition_set_size (pa, p->size / ss);
      fdisk_partition_set_type (pa, t);
      fdisk_partition_set_uuid (pa, p->uuid);
      fdisk_partition_set_name (pa, p->label);
      r = fdisk_add_partition (cxt, pa, NULL);
    }
  if (pa != NULL)
    fdisk_unref_partition (pa);
  if (t != NULL)
    fdisk_unref_parttype (t);
  if (r >= 0 && p->attrs)
    r = fdisk_gpt_set_partition_attrs (cxt, p->number - 1, p->attrs);
  return r;
}

static gboolean
write_table (const ImprintPlan *plan, int fd, const char *path, GError **error)
{
  _cleanup_(fdisk_unref_contextp) struct fdisk_context *cxt = fdisk_new_context ();
  struct fdisk_label *lb;
  int r;

  if (cxt == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("Out of memory"));
      return FALSE;
    }
  /* Through the job's own fd: the disk stays locked and exclusively open
   * while its table is written (libfdisk does not close it). */
  r = fd >= 0 ? fdisk_assign_device_by_fd (cxt, fd, path, 0) : fdisk_assign_device (cxt, path, 0);
  if (r < 0)
    goto fail;

  /* A scratch file for the dry run gets the whole planned table, kept
   * partitions included, on a fresh label. */
  gboolean fresh = plan->mode == IMPRINT_INSTALL_MODE_ERASE || g_strcmp0 (path, plan->target) != 0;

  if (fresh)
    {
      /* Wipe old signatures where the new label goes, so nothing takes the
       * old table for the real one. */
      fdisk_enable_wipe (cxt, 1);
      r = fdisk_create_disklabel (cxt, "gpt");
      if (r < 0)
        goto fail;
      r = fdisk_set_disklabel_id_from_string (cxt, plan->disk_uuid);
      if (r < 0)
        goto fail;
    }
  else if (!fdisk_is_labeltype (cxt, FDISK_DISKLABEL_GPT))
    {
      r = -EMEDIUMTYPE;
      goto fail;
    }
  lb = fdisk_get_label (cxt, NULL);
  guint32 ss = fdisk_get_sector_size (cxt);

  for (guint i = 0; i < plan->partitions->len; i++)
    {
      ImprintPlanPartition *p = plan->partitions->pdata[i];
      if (p->action == IMPRINT_PLAN_DELETE && !fresh)
        {
          r = fdisk_delete_partition (cxt, p->number - 1);
          if (r < 0)
            goto fail;
        }
    }
  for (guint i = 0; i < plan->partitions->len; i++)
    {
      const ImprintPlanPartition *p = plan->partitions->pdata[i];

      if (p->content == IMPRINT_CONTENT_REPART || p->action == IMPRINT_PLAN_DELETE ||
          (p->action == IMPRINT_PLAN_KEEP && !fresh))
        continue;
      r = add_table_partition (cxt, lb, ss, p);
      if (r < 0)
        goto fail;
    }

  r = fdisk_write_disklabel (cxt);
  if (r < 0)
    goto fail;
  if (plan->target_is_block && g_strcmp0 (path, plan->target) == 0)
    (void) fdisk_reread_partition_table (cxt);
  r = fdisk_deassign_device (cxt, 0);
  if (r < 0)
    goto fail;
  return TRUE;

fail:
  g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
               _("Writing the partition table to %s failed: %s"), path, g_strerror (-r));
  return FALSE;
}
