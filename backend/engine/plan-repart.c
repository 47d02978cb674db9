/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

/* Data partitions: systemd-repart's own dry run on a sparse scratch file
 * that carries the planned table, so the plan shows exactly what repart
 * will do on the target. */
#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <unistd.h>

#include "imprint-error.h"
#include "json-bounded.h"
#include "macros.h"
#include "plan.h"
#include "plan-private.h"

/* systemd-repart --json output: a few KiB for real partition tables. */
#define IMPRINT_REPART_MAX_JSON (16u * 1024u * 1024u)

/* One entry of repart's --json plan that it will create. */
static void
add_repart_partition (ImprintPlan *plan, JsonObject *o)
{
  const char *type = json_object_get_string_member_with_default (o, "type", "");
  const char *label = json_object_get_string_member_with_default (o, "label", "");
  const char *uuid = json_object_get_string_member_with_default (o, "uuid", NULL);
  const char *file = json_object_get_string_member_with_default (o, "file", "");
  guint64 offset = (guint64) json_object_get_int_member_with_default (o, "offset", 0);
  guint64 size = (guint64) json_object_get_int_member_with_default (o, "raw_size", 0);
  const char *type_uuid = imprint_gpt_type_uuid_from_name (type);
  ImprintPlanPartition *p;

  p = imprint_plan_add_partition (plan, type_uuid ? type_uuid : type, label,
                                  uuid && !g_str_equal (uuid, "-") ? uuid : NULL, offset, size,
                                  IMPRINT_PLAN_CREATE, IMPRINT_CONTENT_REPART);
  p->definition = g_path_get_basename (file);
  g_free (p->type_name);
  p->type_name = g_strdup (type);
  /* repart numbers them in order after the existing ones. */
  p->number = imprint_plan_next_number (plan);
}

static gboolean
add_repart_plan (ImprintPlan *plan, const char *out, GError **error)
{
  g_autoptr(GError) local = NULL;
  /* Bounded: the labels in it come from the caller's definitions. */
  g_autoptr(JsonNode) root = imprint_json_parse_bounded (out, -1, IMPRINT_REPART_MAX_JSON,
                                                         IMPRINT_JSON_MAX_DEPTH, &local);
  JsonArray *arr;

  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Cannot understand systemd-repart’s plan: %s"), local ? local->message : out);
      return FALSE;
    }
  arr = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonNode *en = json_array_get_element (arr, i);
      if (JSON_NODE_HOLDS_OBJECT (en) &&
          g_str_equal (json_object_get_string_member_with_default (json_node_get_object (en),
                                                                   "activity", ""), "create"))
        add_repart_partition (plan, json_node_get_object (en));
    }
  return TRUE;
}

static gboolean
run_repart_dry (const char *defs, const char *scratch, char **ret_out, GError **error)
{
  g_autofree char *defs_arg = g_strdup_printf ("--definitions=%s", defs);
  const char *argv[] = { "systemd-repart", "--no-pager", "--dry-run=yes", "--json=short",
                         "--empty=refuse", "--seed=random", "--discard=no", defs_arg, scratch, NULL };
  g_autoptr(GError) local = NULL;

  if (imprint_run (argv, ret_out, &local))
    return TRUE;
  if (strstr (local->message, "fit") || strstr (local->message, "space") ||
      strstr (local->message, "No space"))
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NO_SPACE,
                 _("Not enough space on the target for the data partitions: %s"), local->message);
  else
    g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

gboolean
imprint_plan_repart (ImprintPlan *plan, GError **error)
{
  g_autofree char *scratch = NULL;
  g_autofree char *out = NULL;
  g_autofree char *defs = NULL;
  gboolean ok = FALSE;
  _cleanup_close_ int fd = -1;

  if (plan->defer_data_partitions)
    return TRUE;
  /* A sparse file (repart wants a real file with a backing device, so no
   * memfd), in the temporary directory: imprintd's own 0700 one, whose
   * leftovers it removes after a crash (backend/daemon/imprintd-scratch.c). */
  fd = g_file_open_tmp ("imprint-plan-XXXXXX.img", &scratch, error);
  if (fd < 0)
    return FALSE;
  if (ftruncate (fd, (off_t) plan->target_size) < 0)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("Cannot create a scratch file: %s"),
                 g_strerror (errno));
  else if (imprint_plan_write_table (plan, scratch, error) &&
           (defs = imprint_prepare_definitions (plan, FALSE, NULL, error)) != NULL &&
           run_repart_dry (defs, scratch, &out, error))
    ok = add_repart_plan (plan, out, error);

  g_unlink (scratch);
  if (defs)
    {
      const char *rm[] = { "rm", "-rf", defs, NULL };
      imprint_run (rm, NULL, NULL);
    }
  return ok;
}
