/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

/* The repart.d definitions of the data partitions: which are used (the
 * caller's, the running system's, the source image's), what they say
 * about the slot sizes, and the copy systemd-repart is given. All reading
 * goes through the shared parser (repart-definition.h). */
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "imprint-error.h"
#include "macros.h"
#include "plan.h"
#include "plan-private.h"
#include "repart-definition.h"
#include "usr-definitions.h"

/* "usr", "usr-verity" or "usr-verity-sig" for any usr type spelling. */
static const char *
usr_kind (const char *type)
{
  const char *name;

  if (type == NULL)
    return NULL;
  name = imprint_gpt_type_name (type);
  if (name == NULL)
    name = type;
  if (!g_str_has_prefix (name, "usr"))
    return NULL;
  if (g_str_has_suffix (name, "-verity-sig"))
    return "usr-verity-sig";
  if (g_str_has_suffix (name, "-verity"))
    return "usr-verity";
  return "usr";
}

const char *
imprint_gpt_type_uuid_from_name (const char *name)
{
  static const struct { const char *name; const char *(*uuid) (void); const char *fixed; } map[] = {
    { "esp", NULL, IMPRINT_GPT_ESP },
    { "xbootldr", NULL, IMPRINT_GPT_XBOOTLDR },
    { "home", NULL, "933ac7e1-2eb4-4f13-b844-0e14e2aef915" },
    { "srv", NULL, "3b8f8425-20e0-4f3b-907f-1a25a76f98e8" },
    { "var", NULL, "4d21b016-b534-45c2-a9fb-5c16e091fd2d" },
    { "swap", NULL, "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f" },
    { "linux-generic", NULL, "0fc63daf-8483-4772-8e79-3d69d8477de4" },
  };
  if (name == NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (map); i++)
    if (g_str_equal (name, map[i].name))
      return map[i].fixed;
  const char *native[] = { imprint_gpt_type_root_native (), imprint_gpt_type_usr_native (),
                           imprint_gpt_type_usr_verity_native (), imprint_gpt_type_usr_verity_sig_native () };
  for (gsize i = 0; i < G_N_ELEMENTS (native); i++)
    if (native[i] && g_strcmp0 (imprint_gpt_type_name (native[i]), name) == 0)
      return native[i];
  if (g_str_equal (name, "root"))
    return imprint_gpt_type_root_native ();
  return NULL;
}

/* Partitions Imprint writes itself (copied or created empty). */
static gboolean
is_imprint_type (const char *type)
{
  const char *uuid;

  if (type == NULL)
    return FALSE;
  if (g_str_equal (type, "esp") || g_str_equal (type, "xbootldr") || g_str_has_prefix (type, "usr"))
    return TRUE;
  uuid = imprint_gpt_type_uuid_from_name (type);
  if (uuid == NULL)
    uuid = type;
  return g_str_equal (uuid, IMPRINT_GPT_ESP) || g_str_equal (uuid, IMPRINT_GPT_XBOOTLDR) ||
         g_strcmp0 (uuid, imprint_gpt_type_usr_native ()) == 0 ||
         g_strcmp0 (uuid, imprint_gpt_type_usr_verity_native ()) == 0 ||
         g_strcmp0 (uuid, imprint_gpt_type_usr_verity_sig_native ()) == 0;
}

static gboolean
is_root_type (const char *type)
{
  return type && (g_str_equal (type, "root") || g_strcmp0 (imprint_gpt_type_uuid_from_name (type),
                                                           imprint_gpt_type_root_native ()) == 0 ||
                  g_strcmp0 (type, imprint_gpt_type_root_native ()) == 0);
}


void
imprint_plan_definition_slot_sizes (const ImprintPlan *plan, ImprintSlotSizes *ret)
{
  guint seen_usr = 0, seen_ver = 0, seen_sig = 0;

  memset (ret, 0, sizeof (*ret));
  for (guint i = 0; plan->definitions != NULL && i < plan->definitions->len; i++)
    {
      const ImprintRepartDefinition *d = plan->definitions->pdata[i];
      const char *kind = usr_kind (d->type);
      guint *seen;
      guint64 *out;

      if (kind == NULL)
        continue;
      if (g_str_equal (kind, "usr"))
        seen = &seen_usr, out = &ret->usr;
      else if (g_str_equal (kind, "usr-verity"))
        seen = &seen_ver, out = &ret->verity;
      else
        seen = &seen_sig, out = &ret->sig;
      if (++*seen == 2)
        *out = d->size_min;
    }
}

static gboolean
load_caller_definitions (ImprintPlan *plan, const char *dir, GError **error)
{
  const char *dirs[] = { dir, NULL };
  g_autofree char *bad = NULL;
  gboolean found = FALSE;
  int r;

  r = imprint_repart_load_dirs (dirs, &plan->definitions, &found, &bad);
  if (r >= 0 && !found)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_FOUND,
                   _("The partition definitions directory %s does not exist"), dir);
      return FALSE;
    }
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Cannot read the partition definitions in %s (%s): %s"), dir,
                   bad ? bad : dir, g_strerror (-r));
      return FALSE;
    }
  return TRUE;
}

/* The running system is the source: its /usr (verified by the kernel, its
 * root hash is usrhash=) holds the same definitions the image has. */
static gboolean
load_running_definitions (ImprintPlan *plan, GError **error)
{
  const char *dirs[] = { "/usr/local/lib/repart.d", REPART_DIR, NULL };
  g_autofree char *bad = NULL;
  int r;

  r = imprint_repart_load_dirs (dirs, &plan->definitions, NULL, &bad);
  if (r < 0)
    g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                 _("Cannot read the partition definitions of the running system (%s): %s"),
                 bad ? bad : REPART_DIR, g_strerror (-r));
  return r >= 0;
}

gboolean
imprint_plan_load_definitions (ImprintPlan *plan, ImprintSource *src, const ImprintPlanOptions *o,
                               GError **error)
{
  gboolean ok;

  if (o->definitions_dir != NULL)
    {
      plan->definitions_source = IMPRINT_DEFINITIONS_CALLER;
      plan->definitions_dir = g_strdup (o->definitions_dir);
      plan->definitions_display = g_strdup (o->definitions_display);
      return load_caller_definitions (plan, o->definitions_dir, error);
    }
  /* What systemd-repart reads from /usr on the installed system. */
  plan->definitions_dir = g_strdup (REPART_DIR);
  if (src->is_running)
    {
      plan->definitions_source = IMPRINT_DEFINITIONS_RUNNING_SYSTEM;
      ok = load_running_definitions (plan, error);
    }
  else
    {
      plan->definitions_source = IMPRINT_DEFINITIONS_SOURCE_IMAGE;
      ok = imprint_source_usr_definitions (src, &plan->definitions, error);
    }
  if (ok && plan->definitions->len == 0 && !plan->defer_data_partitions)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_FOUND,
                   _("%s ships no partition definitions (%s); pass a directory of partition "
                     "definitions (repart.d) explicitly"), src->display, REPART_DIR);
      return FALSE;
    }
  return ok;
}

static bool
keep_for_repart (const ImprintRepartDefinition *d, void *userdata)
{
  /* The ESP and the usr slots are on the disk already, copied and
   * verified by Imprint (with sizes of its plan); repart only adds what is
   * left. Unmatched partitions are left alone by repart. */
  return !is_imprint_type (d->type);
}

static bool
strip_for_hook (const ImprintRepartDefinition *d, void *userdata)
{
  return *(const gboolean *) userdata && is_root_type (d->type);
}

static void
remove_tree (const char *dir)
{
  const char *rm[] = { "rm", "-rf", dir, NULL };
  imprint_run (rm, NULL, NULL);
}

/* The whole root definition, for the hook (Label=, MakeDirectories=). */
static char *
write_root_definition (const ImprintPlan *plan, const char *tmp, GError **error)
{
  for (guint i = 0; i < plan->definitions->len; i++)
    {
      const ImprintRepartDefinition *d = plan->definitions->pdata[i];
      g_autofree char *text = NULL;
      g_autofree char *path = NULL;

      if (!is_root_type (d->type))
        continue;
      text = imprint_repart_definition_format (d, NULL);
      path = g_build_filename (tmp, "root-definition", NULL);
      if (!g_file_set_contents (path, text, -1, error))
        return NULL;
      return g_steal_pointer (&path);
    }
  return NULL;
}

char *
imprint_prepare_definitions (const ImprintPlan *plan, gboolean for_hook, char **ret_root_definition,
                             GError **error)
{
  static const char *const omit[] = { "Encrypt", "Format", "MakeDirectories", "CopyFiles", NULL };
  g_autofree char *tmp = NULL;
  g_autofree char *root_def = NULL;
  _cleanup_close_ int dfd = -1;
  int r;

  tmp = g_dir_make_tmp ("imprint-repart-XXXXXX", error);
  if (tmp == NULL)
    return NULL;
  dfd = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  r = dfd < 0 ? -errno : imprint_repart_write_dir (plan->definitions, dfd, keep_for_repart,
                                                   strip_for_hook, omit, &for_hook);
  if (r < 0)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                 _("Cannot write the partition definitions for systemd-repart: %s"), g_strerror (-r));
  if (r >= 0 && for_hook)
    {
      g_autoptr(GError) local = NULL;
      root_def = write_root_definition (plan, tmp, &local);
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          r = -EIO;
        }
    }
  if (r < 0)
    {
      remove_tree (tmp);
      return NULL;
    }
  if (ret_root_definition)
    *ret_root_definition = g_steal_pointer (&root_def);
  return g_steal_pointer (&tmp);
}
