/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

/* The plan leaving the engine: as PlanInstall's reply, and as the
 * partition table written to the target. */
#include <errno.h>
#include <glib/gi18n.h>
#include <libfdisk.h>

#include "imprint-error.h"
#include "macros.h"
#include "plan.h"
#include "plan-private.h"

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
    case IMPRINT_DEFINITIONS_CALLER:         return "caller-directory";
    case IMPRINT_DEFINITIONS_RUNNING_SYSTEM: return "running-system";
    case IMPRINT_DEFINITIONS_SOURCE_IMAGE:   return "source-image";
    }
  return "caller-directory";
}

GVariant *
imprint_plan_to_variant (const ImprintPlan *plan, const ImprintSource *src)
{
  GVariantBuilder b, parts, erased;

  g_variant_builder_init (&parts, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < plan->partitions->len; i++)
    {
      ImprintPlanPartition *p = plan->partitions->pdata[i];
      GVariantBuilder e;
      g_variant_builder_init (&e, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&e, "{sv}", "number", g_variant_new_uint32 (p->number));
      g_variant_builder_add (&e, "{sv}", "type", g_variant_new_string (p->type));
      g_variant_builder_add (&e, "{sv}", "type-name", g_variant_new_string (p->type_name));
      g_variant_builder_add (&e, "{sv}", "label",
                             g_variant_new_string (p->final_label ? p->final_label : p->label));
      g_variant_builder_add (&e, "{sv}", "uuid", g_variant_new_string (p->uuid));
      g_variant_builder_add (&e, "{sv}", "start", g_variant_new_uint64 (p->start));
      g_variant_builder_add (&e, "{sv}", "size", g_variant_new_uint64 (p->size));
      g_variant_builder_add (&e, "{sv}", "source", g_variant_new_string (p->source ? p->source : ""));
      g_variant_builder_add (&e, "{sv}", "action",
                             g_variant_new_string (imprint_plan_action_to_string (p->action)));
      g_variant_builder_add_value (&parts, g_variant_builder_end (&e));
    }
  g_variant_builder_init (&erased, G_VARIANT_TYPE_STRING_ARRAY);
  for (guint i = 0; i < plan->erased->len; i++)
    g_variant_builder_add (&erased, "s", (const char *) plan->erased->pdata[i]);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "partitions", g_variant_builder_end (&parts));
  g_variant_builder_add (&b, "{sv}", "erased", g_variant_builder_end (&erased));
  g_variant_builder_add (&b, "{sv}", "summary", g_variant_new_string (plan->summary ? plan->summary : ""));
  g_variant_builder_add (&b, "{sv}", "mode",
                         g_variant_new_string (plan->mode == IMPRINT_INSTALL_MODE_ERASE ? "erase" : "free-space"));
  g_variant_builder_add (&b, "{sv}", "target", g_variant_new_string (plan->target_display ? plan->target_display : plan->target));
  g_variant_builder_add (&b, "{sv}", "target-size", g_variant_new_uint64 (plan->target_size));
  g_variant_builder_add (&b, "{sv}", "defer-data-partitions", g_variant_new_boolean (plan->defer_data_partitions));
  g_variant_builder_add (&b, "{sv}", "definitions-source",
                         g_variant_new_string (imprint_definitions_source_to_string (plan->definitions_source)));
  g_variant_builder_add (&b, "{sv}", "definitions-directory",
                         g_variant_new_string (plan->definitions_dir ? plan->definitions_dir : ""));
  if (src)
    {
      g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string (src->name));
      g_variant_builder_add (&b, "{sv}", "version", g_variant_new_string (src->version));
    }
  return g_variant_builder_end (&b);
}

static void
fdisk_unref_contextp (struct fdisk_context **c) { if (*c) fdisk_unref_context (*c); }

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
      ImprintPlanPartition *p = plan->partitions->pdata[i];
      struct fdisk_partition *pa;
      struct fdisk_parttype *t;

      if (p->content == IMPRINT_CONTENT_REPART || p->action == IMPRINT_PLAN_DELETE ||
          (p->action == IMPRINT_PLAN_KEEP && !fresh))
        continue;
      pa = fdisk_new_partition ();
      t = fdisk_label_get_parttype_from_string (lb, p->type);
      if (pa == NULL || t == NULL)
        {
          if (pa)
            fdisk_unref_partition (pa);
          r = -EINVAL;
          goto fail;
        }
      fdisk_partition_set_partno (pa, p->number - 1);
      fdisk_partition_set_start (pa, p->start / ss);
      fdisk_partition_set_size (pa, p->size / ss);
      fdisk_partition_set_type (pa, t);
      fdisk_partition_set_uuid (pa, p->uuid);
      fdisk_partition_set_name (pa, p->label);
      r = fdisk_add_partition (cxt, pa, NULL);
      fdisk_unref_partition (pa);
      fdisk_unref_parttype (t);
      if (r < 0)
        goto fail;
      if (p->attrs)
        {
          r = fdisk_gpt_set_partition_attrs (cxt, p->number - 1, p->attrs);
          if (r < 0)
            goto fail;
        }
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
