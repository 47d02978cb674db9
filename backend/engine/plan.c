/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libfdisk.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "json-bounded.h"
#include "copy.h"
#include "imprint-error.h"
#include "macros.h"
#include "plan.h"
#include "plan-private.h"
#include "target-lock.h"

/* systemd-repart --json output: a few KiB for real partition tables. */
#define IMPRINT_REPART_MAX_JSON (16u * 1024u * 1024u)

#define MiB (1024ull * 1024ull)
#define ALIGN_UP(x, a) (((x) + (a) - 1) / (a) * (a))
#define ALIGN_DOWN(x, a) ((x) / (a) * (a))
/* What systemd-repart makes (and allows) for a verity signature partition. */
#define SIG_SIZE (16ull * 1024ull)

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

static void
plan_partition_free (ImprintPlanPartition *p)
{
  if (p == NULL)
    return;
  g_free (p->type);
  g_free (p->type_name);
  g_free (p->label);
  g_free (p->final_label);
  g_free (p->uuid);
  g_free (p->source);
  g_free (p);
}

void
imprint_plan_free (ImprintPlan *plan)
{
  if (plan == NULL)
    return;
  g_free (plan->target);
  g_free (plan->target_display);
  g_free (plan->disk_uuid);
  g_free (plan->definitions_dir);
  g_clear_pointer (&plan->partitions, g_ptr_array_unref);
  g_clear_pointer (&plan->erased, g_ptr_array_unref);
  g_free (plan->summary);
  g_free (plan);
}

static char *
human_size (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

static ImprintPlanPartition *
add_partition (ImprintPlan *plan, const char *type, const char *label, const char *uuid,
               guint64 start, guint64 size, ImprintPlanAction action,
               ImprintPlanContent content, const char *source)
{
  ImprintPlanPartition *p = g_new0 (ImprintPlanPartition, 1);
  const char *name = imprint_gpt_type_name (type);

  p->type = g_ascii_strdown (type, -1);
  p->type_name = g_strdup (name ? name : p->type);
  p->label = g_strdup (label ? label : "");
  p->uuid = uuid ? g_ascii_strdown (uuid, -1) : g_uuid_string_random ();
  p->start = start;
  p->size = size;
  p->action = action;
  p->content = content;
  p->source = g_strdup (source);
  g_ptr_array_add (plan->partitions, p);
  return p;
}

/* Lowest GPT partition number not used by a kept partition or by one
 * already planned. */
static guint
next_number (ImprintPlan *plan)
{
  for (guint n = 1;; n++)
    {
      gboolean used = FALSE;
      for (guint i = 0; i < plan->partitions->len; i++)
        {
          ImprintPlanPartition *p = plan->partitions->pdata[i];
          if (p->number == n && p->action != IMPRINT_PLAN_DELETE)
            used = TRUE;
        }
      if (!used)
        return n;
    }
}

static gint
cmp_by_start (gconstpointer a, gconstpointer b)
{
  const ImprintPlanPartition *x = *(ImprintPlanPartition **) a, *y = *(ImprintPlanPartition **) b;
  return x->start < y->start ? -1 : x->start > y->start;
}

static gint
cmp_by_number (gconstpointer a, gconstpointer b)
{
  const ImprintPlanPartition *x = *(ImprintPlanPartition **) a, *y = *(ImprintPlanPartition **) b;
  return (gint) x->number - (gint) y->number;
}

/* Runs a command, capturing stdout; stderr goes into the error. */
gboolean
imprint_run (const char *const *argv, char **ret_stdout, GError **error)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) local = NULL;
  int status = 0;
  const char *env[] = { "LC_ALL=C", "MTOOLS_SKIP_CHECK=1", "SYSTEMD_LOG_LEVEL=notice",
                        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL };

  if (!g_spawn_sync (NULL, (char **) argv, (char **) env, G_SPAWN_SEARCH_PATH, NULL, NULL,
                     &out, &err, &status, &local))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_UNAVAILABLE, _("Cannot run %s: %s"),
                   argv[0], local->message);
      return FALSE;
    }
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_strstrip (err);
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("%s failed: %s"), argv[0],
                   err[0] ? err : _("no message"));
      return FALSE;
    }
  if (ret_stdout)
    *ret_stdout = g_steal_pointer (&out);
  return TRUE;
}

/* mdir prints "N bytes" for the listed files and "M bytes free"; numbers
 * carry spaces as thousands separators. */
/* Parses the number in front of " bytes" on a line of mdir's output;
 * mdir writes thousands separated by spaces. */
static gboolean
mdir_number (const char *line, const char *suffix, guint64 *ret)
{
  const char *end = strstr (line, suffix);
  g_autoptr(GString) digits = g_string_new (NULL);
  const char *q;

  if (end == NULL)
    return FALSE;
  for (q = end; q > line && (g_ascii_isdigit (q[-1]) || q[-1] == ' '); q--)
    ;
  for (; q < end; q++)
    if (g_ascii_isdigit (*q))
      g_string_append_c (digits, *q);
  if (digits->len == 0)
    return FALSE;
  *ret = g_ascii_strtoull (digits->str, NULL, 10);
  return TRUE;
}

gboolean
imprint_vfat_usage (const char *image, guint64 offset, guint64 *ret_used, guint64 *ret_free,
                    GError **error)
{
  g_autofree char *spec = g_strdup_printf ("%s@@%" G_GUINT64_FORMAT, image, offset);
  g_autofree char *out = NULL;
  guint64 used = 0, free_ = 0;
  gboolean have = FALSE;

  /* Free space from a plain listing of the root (works on an empty one);
   * used space from a recursive listing (needs files, which a source ESP
   * has). */
  if (ret_free)
    {
      const char *argv[] = { "mdir", "-a", "-i", spec, "::/", NULL };
      if (!imprint_run (argv, &out, error))
        return FALSE;
      g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
      for (char **l = lines; *l; l++)
        if (mdir_number (*l, " bytes free", &free_))
          have = TRUE;
      if (!have)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                       _("Cannot read the free space of the FAT file system at offset %" PRIu64),
                       offset);
          return FALSE;
        }
      g_clear_pointer (&out, g_free);
    }
  if (ret_used)
    {
      const char *argv[] = { "mdir", "-/", "-a", "-i", spec, "::/", NULL };
      if (!imprint_run (argv, &out, error))
        return FALSE;
      g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
      /* "Total files listed:" is followed by "N files   X bytes". */
      for (char **l = lines; *l; l++)
        if (strstr (*l, " files ") && !strstr (*l, "free"))
          mdir_number (*l, " bytes", &used);
    }
  if (ret_used)
    *ret_used = used;
  if (ret_free)
    *ret_free = free_;
  return TRUE;
}

typedef struct {
  guint64 usr, verity, sig;
} SlotSizes;


static guint64
headroom_size (guint64 a, const ImprintPlanOptions *o)
{
  guint pct = o->headroom_percent ? o->headroom_percent : 150;
  guint64 min_headroom = o->min_headroom ? o->min_headroom : 64 * MiB;
  guint64 s = MAX (a / 100 * pct, a + min_headroom);
  return ALIGN_UP (s, MiB);
}

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

/* "100M" and the like; a number too large for 64 bits saturates rather
 * than wrapping to something small. */
static guint64
parse_size (const char *v)
{
  char *end = NULL;
  guint64 n = g_ascii_strtoull (v, &end, 10);
  unsigned shift;

  switch (end ? g_ascii_toupper (*end) : 0)
    {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    default:  shift = 0; break;
    }
  if (n > (G_MAXUINT64 >> shift))
    return G_MAXUINT64;
  return n << shift;
}

guint64
imprint_definition_size_min (const char *contents)
{
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
  guint64 size = 0;

  for (char **l = lines; *l; l++)
    {
      g_autofree char *t = g_strstrip (g_strdup (*l));
      if (g_str_has_prefix (t, "SizeMinBytes="))
        size = parse_size (t + strlen ("SizeMinBytes="));
    }
  return size;
}

static gint
cmp_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* SizeMinBytes= of the second definition of each usr kind (the B slot, in
 * file name order as systemd-repart matches them): when the OS fixes its
 * slot sizes, both slots get them, so any later version fits either. */
static void
definition_slot_sizes (const char *dir, SlotSizes *ret)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  guint seen_usr = 0, seen_ver = 0, seen_sig = 0;

  memset (ret, 0, sizeof (*ret));
  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, ".conf"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, cmp_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *p = g_build_filename (dir, (const char *) names->pdata[i], NULL);
      g_autofree char *c = NULL;
      g_autofree char *type = NULL;
      guint64 size = 0;
      const char *kind;
      guint *seen;
      guint64 *out;

      if (!g_file_get_contents (p, &c, NULL, NULL))
        continue;
      type = imprint_definition_type (c);
      kind = usr_kind (type);
      if (kind == NULL)
        continue;
      size = imprint_definition_size_min (c);
      if (g_str_equal (kind, "usr"))
        seen = &seen_usr, out = &ret->usr;
      else if (g_str_equal (kind, "usr-verity"))
        seen = &seen_ver, out = &ret->verity;
      else
        seen = &seen_sig, out = &ret->sig;
      if (++*seen == 2)
        *out = size;
    }
}

static void
slot_sizes (ImprintSource *src, const ImprintPlan *plan, const ImprintPlanOptions *o, SlotSizes *ret)
{
  SlotSizes def;

  definition_slot_sizes (plan->definitions_dir, &def);
  ret->usr = def.usr ? ALIGN_UP (MAX (def.usr, src->usr.size), MiB) : headroom_size (src->usr.size, o);
  ret->verity = def.verity ? ALIGN_UP (MAX (def.verity, src->usr_verity.size), MiB)
                           : headroom_size (src->usr_verity.size, o);
  /* Exactly what the image has (16 KiB): systemd-repart (257) caps a
   * verity signature partition it has a definition for at 16 KiB, even one
   * that exists, and aborts on a larger one ("Assertion 'left >=
   * p->new_size' failed"), so first boot of an OEM disk would end in
   * emergency mode. The partition after it still starts on a whole MiB
   * (add_slots aligns the cursor). */
  ret->sig = MAX (MAX (def.sig, src->usr_verity_sig.size), SIG_SIZE);
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

/* B slot UUIDs are derived from the root hash, so a rerun recognises the
 * slots its previous run made (sysupdate gives them new UUIDs when it
 * fills them). */
static char *
b_slot_uuid (ImprintSource *src, const char *what)
{
  g_autofree char *in = g_strdup_printf ("imprint-b-slot:%s:%s", what, src->root_hash);
  g_autofree char *h = g_compute_checksum_for_string (G_CHECKSUM_SHA256, in, -1);
  /* Shaped as a random (version 4, RFC 4122 variant) UUID. */
  h[12] = '4';
  h[16] = "89ab"[g_ascii_xdigit_value (h[16]) & 3];
  return g_strdup_printf ("%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
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
  g_autofree char *bu = b_slot_uuid (src, "usr");
  g_autofree char *bv = b_slot_uuid (src, "usr-verity");
  g_autofree char *bs = b_slot_uuid (src, "usr-verity-sig");
  /* Only slots this source's install makes: another system's "_empty"
   * slots are not ours to take. */
  return g_str_equal (p->uuid, bu) || g_str_equal (p->uuid, bv) || g_str_equal (p->uuid, bs) ||
         g_str_equal (p->uuid, src->usr.uuid) ||
         g_str_equal (p->uuid, src->usr_verity.uuid) ||
         g_str_equal (p->uuid, src->usr_verity_sig.uuid);
}

static gboolean
same_file (const char *a, int fd_b)
{
  struct stat sa, sb;
  if (stat (a, &sa) < 0 || fstat (fd_b, &sb) < 0)
    return FALSE;
  if (S_ISBLK (sa.st_mode) && S_ISBLK (sb.st_mode))
    return sa.st_rdev == sb.st_rdev;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void
add_slots (ImprintPlan *plan, ImprintSource *src, const SlotSizes *sz, guint64 *cursor)
{
  guint64 usr_sz = sz->usr;
  guint64 ver_sz = sz->verity;
  guint64 sig_sz = sz->sig;
  g_autofree char *from_usr = g_strdup_printf (_("%s %s system (verified copy)"), src->name, src->version);
  g_autofree char *from_ver = g_strdup_printf (_("%s %s verity hashes (verified copy)"), src->name, src->version);
  g_autofree char *from_sig = g_strdup_printf (_("%s %s verity signature"), src->name, src->version);
  ImprintPlanPartition *p;

  /* A slot: keeps type, UUID and attributes; "_empty" until verified. */
  p = add_partition (plan, src->usr.type, IMPRINT_EMPTY_LABEL, src->usr.uuid, *cursor, usr_sz,
                     IMPRINT_PLAN_CREATE, IMPRINT_CONTENT_USR, from_usr);
  p->final_label = g_strdup (src->usr.label);
  p->attrs = src->usr.attrs;
  p->number = next_number (plan);
  plan->usr_a = p;
  *cursor += usr_sz;
  p = add_partition (plan, src->usr_verity.type, IMPRINT_EMPTY_LABEL, src->usr_verity.uuid, *cursor,
                     ver_sz, IMPRINT_PLAN_CREATE, IMPRINT_CONTENT_USR_VERITY, from_ver);
  p->final_label = g_strdup (src->usr_verity.label);
  p->attrs = src->usr_verity.attrs;
  p->number = next_number (plan);
  plan->verity_a = p;
  *cursor += ver_sz;
  p = add_partition (plan, src->usr_verity_sig.type, IMPRINT_EMPTY_LABEL, src->usr_verity_sig.uuid,
                     *cursor, sig_sz, IMPRINT_PLAN_CREATE, IMPRINT_CONTENT_USR_VERITY_SIG, from_sig);
  p->final_label = g_strdup (src->usr_verity_sig.label);
  p->attrs = src->usr_verity_sig.attrs;
  p->number = next_number (plan);
  plan->sig_a = p;
  *cursor = ALIGN_UP (*cursor + sig_sz, MiB);

  /* B slots: empty, for the next update. */
  g_autofree char *bu = b_slot_uuid (src, "usr");
  g_autofree char *bv = b_slot_uuid (src, "usr-verity");
  g_autofree char *bs = b_slot_uuid (src, "usr-verity-sig");
  p = add_partition (plan, src->usr.type, IMPRINT_EMPTY_LABEL, bu, *cursor, usr_sz,
                     IMPRINT_PLAN_CREATE, IMPRINT_CONTENT_NONE, _("empty slot for updates"));
  p->attrs = src->usr.attrs;
  p->number = next_number (plan);
  plan->usr_b = p;
  *cursor += usr_sz;
  p = add_partition (plan, src->usr_verity.type, IMPRINT_EMPTY_LABEL, bv, *cursor, ver_sz,
                     IMPRINT_PLAN_CREATE, IMPRINT_CONTENT_NONE, _("empty slot for updates"));
  p->attrs = src->usr_verity.attrs;
  p->number = next_number (plan);
  plan->verity_b = p;
  *cursor += ver_sz;
  p = add_partition (plan, src->usr_verity_sig.type, IMPRINT_EMPTY_LABEL, bs, *cursor, sig_sz,
                     IMPRINT_PLAN_CREATE, IMPRINT_CONTENT_NONE, _("empty slot for updates"));
  p->attrs = src->usr_verity_sig.attrs;
  p->number = next_number (plan);
  plan->sig_b = p;
  *cursor = ALIGN_UP (*cursor + sig_sz, MiB);
}

static guint64
slots_size (const SlotSizes *sz)
{
  /* Slot A's signature partition is followed by a gap up to the next MiB
   * (slot B starts aligned); nothing needs to follow slot B's. */
  return 2 * (sz->usr + sz->verity) + ALIGN_UP (sz->sig, MiB) + sz->sig;
}

/* Data partitions: systemd-repart's own dry run on a sparse scratch file
 * that carries the planned table, so the plan shows exactly what repart
 * will do on the target. */
static gboolean
plan_repart (ImprintPlan *plan, GError **error)
{
  g_autofree char *scratch = NULL;
  g_autofree char *out = NULL;
  g_autofree char *defs_arg = NULL;
  g_autofree char *defs = NULL;
  g_autoptr(JsonNode) plan_root = NULL;
  g_autoptr(GError) local = NULL;
  gboolean ok = FALSE;
  _cleanup_close_ int fd = -1;

  if (plan->defer_data_partitions)
    return TRUE;
  if (!g_file_test (plan->definitions_dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_FOUND,
                   _("The partition definitions directory %s does not exist"), plan->definitions_dir);
      return FALSE;
    }

  /* A sparse file (repart wants a real file with a backing device, so no
   * memfd), in the temporary directory: imprintd's own 0700 one, whose
   * leftovers it removes after a crash (backend/daemon/imprintd-scratch.c). */
  fd = g_file_open_tmp ("imprint-plan-XXXXXX.img", &scratch, error);
  if (fd < 0)
    return FALSE;
  if (ftruncate (fd, (off_t) plan->target_size) < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("Cannot create a scratch file: %s"),
                   g_strerror (errno));
      goto out;
    }
  if (!imprint_plan_write_table (plan, scratch, error))
    goto out;

  defs = imprint_prepare_definitions (plan->definitions_dir, FALSE, NULL, error);
  if (defs == NULL)
    goto out;
  defs_arg = g_strdup_printf ("--definitions=%s", defs);
  const char *argv[] = { "systemd-repart", "--no-pager", "--dry-run=yes", "--json=short",
                         "--empty=refuse", "--seed=random", "--discard=no", defs_arg, scratch, NULL };
  if (!imprint_run (argv, &out, &local))
    {
      if (strstr (local->message, "fit") || strstr (local->message, "space") ||
          strstr (local->message, "No space"))
        g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NO_SPACE,
                     _("Not enough space on the target for the data partitions: %s"), local->message);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      goto out;
    }
  /* Bounded: the labels in it come from the caller's definitions. */
  plan_root = imprint_json_parse_bounded (out, -1, IMPRINT_REPART_MAX_JSON, IMPRINT_JSON_MAX_DEPTH, &local);
  if (plan_root == NULL || !JSON_NODE_HOLDS_ARRAY (plan_root))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Cannot understand systemd-repart’s plan: %s"), local ? local->message : out);
      goto out;
    }
  JsonArray *arr = json_node_get_array (plan_root);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonNode *en = json_array_get_element (arr, i);
      if (!JSON_NODE_HOLDS_OBJECT (en))
        continue;
      JsonObject *o = json_node_get_object (en);
      const char *activity = json_object_get_string_member_with_default (o, "activity", "");
      const char *type = json_object_get_string_member_with_default (o, "type", "");
      const char *label = json_object_get_string_member_with_default (o, "label", "");
      const char *uuid = json_object_get_string_member_with_default (o, "uuid", NULL);
      const char *file = json_object_get_string_member_with_default (o, "file", "");
      guint64 offset = (guint64) json_object_get_int_member_with_default (o, "offset", 0);
      guint64 size = (guint64) json_object_get_int_member_with_default (o, "raw_size", 0);
      g_autofree char *src_text = NULL;
      ImprintPlanPartition *p;

      if (!g_str_equal (activity, "create"))
        continue;
      g_autofree char *base = g_path_get_basename (file);
      src_text = g_strdup_printf (_("created by systemd-repart from %s"), base);
      const char *type_uuid = imprint_gpt_type_uuid_from_name (type);
      p = add_partition (plan, type_uuid ? type_uuid : type, label,
                         uuid && !g_str_equal (uuid, "-") ? uuid : NULL, offset, size,
                         IMPRINT_PLAN_CREATE, IMPRINT_CONTENT_REPART, src_text);
      g_free (p->type_name);
      p->type_name = g_strdup (type);
      /* repart numbers them in order after the existing ones. */
      p->number = next_number (plan);
    }
  ok = TRUE;

out:
  if (scratch)
    g_unlink (scratch);
  if (defs)
    {
      const char *rm[] = { "rm", "-rf", defs, NULL };
      imprint_run (rm, NULL, NULL);
    }
  return ok;
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

/* The value of Type= in a definition, or NULL. */
char *
imprint_definition_type (const char *contents)
{
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      g_autofree char *t = g_strstrip (g_strdup (*l));
      if (g_str_has_prefix (t, "Type="))
        return g_ascii_strdown (g_strstrip (t + 5), -1);
    }
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

char *
imprint_prepare_definitions (const char *dir, gboolean for_hook, char **ret_root_definition,
                             GError **error)
{
  g_autofree char *tmp = NULL;
  g_autofree char *root_def = NULL;
  g_autoptr(GDir) d = NULL;
  const char *name;

  d = g_dir_open (dir, 0, error);
  if (d == NULL)
    return NULL;
  tmp = g_dir_make_tmp ("imprint-repart-XXXXXX", error);
  if (tmp == NULL)
    return NULL;
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_autofree char *q = g_build_filename (tmp, name, NULL);
      g_autofree char *c = NULL;
      g_autofree char *type = NULL;

      if (!g_str_has_suffix (name, ".conf") || !g_file_get_contents (p, &c, NULL, NULL))
        continue;
      type = imprint_definition_type (c);
      /* The ESP and the usr slots are on the disk already, copied and
       * verified by Imprint (with sizes of its plan); repart only adds
       * what is left. Unmatched partitions are left alone by repart. */
      if (is_imprint_type (type))
        continue;
      if (for_hook && is_root_type (type))
        {
          g_auto(GStrv) lines = g_strsplit (c, "\n", -1);
          GString *out = g_string_new (NULL);
          for (char **l = lines; *l; l++)
            {
              g_autofree char *t = g_strstrip (g_strdup (*l));
              if (g_str_has_prefix (t, "Encrypt=") || g_str_has_prefix (t, "Format=") ||
                  g_str_has_prefix (t, "MakeDirectories=") || g_str_has_prefix (t, "CopyFiles="))
                continue;
              g_string_append_printf (out, "%s\n", *l);
            }
          g_free (c);
          c = g_string_free (out, FALSE);
          g_free (root_def);
          root_def = g_strdup (p);
        }
      if (!g_file_set_contents (q, c, -1, error))
        {
          const char *rm[] = { "rm", "-rf", tmp, NULL };
          imprint_run (rm, NULL, NULL);
          return NULL;
        }
    }
  if (ret_root_definition)
    *ret_root_definition = g_steal_pointer (&root_def);
  return g_steal_pointer (&tmp);
}

static gboolean
too_small (ImprintPlan *plan, guint64 need, guint64 have, GError **error)
{
  g_autofree char *n = human_size (need);
  g_autofree char *h = human_size (have);
  g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NO_SPACE,
               plan->mode == IMPRINT_INSTALL_MODE_ERASE
               ? _("The target is too small: the system needs %s, the disk has %s")
               : _("Not enough free space on the target: the system needs %s, the largest free area has %s"),
               n, h);
  return FALSE;
}

/* The plan only looks: read-only, and O_EXCL on a disk, which claims it
 * without writing, so a mounted disk is refused now rather than when the
 * install starts. */
static int
open_target_readonly (const char *path, const char *shown, gboolean *ret_is_block,
                      guint64 *ret_size, GError **error)
{
  _cleanup_close_ int fd = -1;
  struct stat st;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd >= 0 && fstat (fd, &st) == 0 && S_ISBLK (st.st_mode))
    {
      _cleanup_close_ int excl = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_EXCL);
      if (excl < 0 && errno == EBUSY)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_BUSY,
                       _("The target %s is in use (a partition on it is mounted or open)"), shown);
          return -EBUSY;
        }
    }
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      int err = errno;
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (-err),
                   _("Cannot open the target %s: %s"), shown, g_strerror (err));
      return -err;
    }
  if (S_ISBLK (st.st_mode))
    {
      uint64_t sz = 0;
      if (ioctl (fd, BLKGETSIZE64, &sz) < 0)
        {
          int err = errno;
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                       _("Cannot get the size of %s: %s"), shown, g_strerror (err));
          return -err;
        }
      *ret_is_block = TRUE;
      *ret_size = sz;
    }
  else if (S_ISREG (st.st_mode))
    {
      *ret_is_block = FALSE;
      *ret_size = (guint64) st.st_size;
    }
  else
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("The target %s is neither a disk nor an image file"), shown);
      return -ENOTBLK;
    }
  return TAKE_FD (fd);
}

ImprintPlan *
imprint_plan_compute (ImprintSource *src, const char *target, const ImprintPlanOptions *options,
                      GError **error)
{
  g_autoptr(ImprintPlan) plan = g_new0 (ImprintPlan, 1);
  ImprintPlanOptions noopts = { 0 };
  _cleanup_close_ int fd = -1;
  guint64 first, last, cursor;
  const char *shown;

  if (options == NULL)
    options = &noopts;
  shown = options->target_display ? options->target_display : target;
  plan->mode = options->mode;
  plan->target = g_strdup (target);
  plan->target_display = g_strdup (shown);
  plan->defer_data_partitions = options->defer_data_partitions;
  plan->definitions_dir = g_strdup (options->definitions_dir ? options->definitions_dir : REPART_DIR);
  plan->partitions = g_ptr_array_new_with_free_func ((GDestroyNotify) plan_partition_free);
  plan->erased = g_ptr_array_new_with_free_func (g_free);

  if (options->target_lock != NULL)
    {
      int lfd = imprint_target_lock_get_fd (options->target_lock);
      if (lfd < 0 || (fd = fcntl (lfd, F_DUPFD_CLOEXEC, 3)) < 0)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                       _("The target %s is not open"), target);
          return NULL;
        }
      plan->target_is_block = imprint_target_lock_is_block (options->target_lock);
      plan->target_size = imprint_target_lock_get_size (options->target_lock);
    }
  else
    fd = open_target_readonly (target, shown, &plan->target_is_block, &plan->target_size, error);
  if (fd < 0)
    return NULL;
  if (same_file (src->path, fd))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("The target %s is the source itself"), shown);
      return NULL;
    }
  SlotSizes sizes;
  slot_sizes (src, plan, options, &sizes);

  if (plan->mode == IMPRINT_INSTALL_MODE_ERASE)
    {
      g_autoptr(GPtrArray) old = NULL;
      g_autoptr(GError) local = NULL;
      guint32 ss = 512;

      if (imprint_read_gpt (target, &ss, NULL, &old, &local) > 0 && old->len > 0)
        for (guint i = 0; i < old->len; i++)
          {
            ImprintPartition *p = old->pdata[i];
            g_autofree char *sz = human_size (p->size);
            const char *tn = imprint_gpt_type_name (p->type);
            g_ptr_array_add (plan->erased,
                             g_strdup_printf (_("partition %u \"%s\" (%s, %s)"), p->partno + 1,
                                              p->label, tn ? tn : p->type, sz));
          }
      g_autofree char *all = human_size (plan->target_size);
      g_ptr_array_add (plan->erased, g_strdup_printf (_("everything on %s (%s)"), shown, all));
      plan->sector_size = ss ? ss : 512;
      plan->disk_uuid = g_uuid_string_random ();

      first = MiB;
      /* Backup GPT: 32 sectors of entries and the header. */
      last = ALIGN_DOWN (plan->target_size - 33 * (guint64) plan->sector_size, MiB);
      cursor = first;
      guint64 esp_sz = ALIGN_UP (src->esp.size, MiB);
      guint64 need = first + esp_sz + slots_size (&sizes) + MiB;
      if (plan->target_size < need || last < need)
        {
          too_small (plan, need, plan->target_size, error);
          return NULL;
        }
      g_autofree char *esp_from = g_strdup_printf (_("copy of the %s boot partition (systemd-boot, kernel images)"),
                                                   src->name);
      ImprintPlanPartition *esp = add_partition (plan, IMPRINT_GPT_ESP, src->esp.label, src->esp.uuid, cursor,
                                                 esp_sz, IMPRINT_PLAN_CREATE, IMPRINT_CONTENT_ESP, esp_from);
      esp->attrs = src->esp.attrs;
      esp->number = next_number (plan);
      plan->esp = esp;
      cursor += esp_sz;
      add_slots (plan, src, &sizes, &cursor);
    }
  else
    {
      g_autoptr(GPtrArray) old = NULL;
      g_autoptr(GError) local = NULL;
      ImprintPartition *esp_old = NULL, *xb_old = NULL;
      ImprintPlanPartition *xb_plan = NULL;
      guint32 ss = 512;
      int r;

      r = imprint_read_gpt (target, &ss, &plan->disk_uuid, &old, error);
      if (r < 0)
        return NULL;
      if (r == 0)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                       _("The target %s has no GPT partition table; installing beside other systems "
                         "needs one (erase the disk instead)"), shown);
          return NULL;
        }
      plan->sector_size = ss;
      for (guint i = 0; i < old->len; i++)
        {
          ImprintPartition *o = old->pdata[i];
          gboolean leftover = is_leftover_slot (o, src);
          const char *tn = imprint_gpt_type_name (o->type);
          ImprintPlanPartition *p =
            add_partition (plan, o->type, o->label, o->uuid, o->offset, o->size,
                           leftover ? IMPRINT_PLAN_DELETE : IMPRINT_PLAN_KEEP,
                           IMPRINT_CONTENT_EXISTING,
                           leftover ? _("left over from an interrupted installation") : _("kept as it is"));
          p->number = o->partno + 1;
          p->attrs = o->attrs;
          if (leftover)
            {
              g_autofree char *sz = human_size (o->size);
              g_ptr_array_add (plan->erased, g_strdup_printf (_("partition %u \"%s\" (%s, %s)"),
                                                              p->number, o->label, tn ? tn : o->type, sz));
            }
          if (xb_old == NULL && g_str_equal (o->type, IMPRINT_GPT_XBOOTLDR))
            {
              xb_old = o;
              xb_plan = p;
            }
          if (esp_old == NULL && g_str_equal (o->type, IMPRINT_GPT_ESP))
            {
              esp_old = o;
              plan->esp = p;
            }
        }

      /* First/last usable bytes as the existing header says. */
      {
        struct fdisk_context *cxt = fdisk_new_context ();
        guint64 last_lba;
        /* The header's LBAs are the disk's word: checked, never wrapped. */
        if (!(cxt && fdisk_assign_device (cxt, target, 1) == 0 &&
              g_uint64_checked_add (&last_lba, fdisk_get_last_lba (cxt), 1) &&
              g_uint64_checked_mul (&first, fdisk_get_first_lba (cxt), ss) &&
              g_uint64_checked_mul (&last, last_lba, ss) &&
              first <= last && last <= plan->target_size))
          {
            first = MiB;
            last = plan->target_size - 33 * (guint64) ss;
          }
        if (cxt)
          fdisk_unref_context (cxt);
      }

      Gap gap = largest_gap (plan, first, last);
      guint64 need = slots_size (&sizes);
      guint64 esp_files = 0;

      if (esp_old)
        {
          guint64 esp_free = 0, src_used = 0;
          if (!imprint_vfat_usage (src->path, src->esp.offset, &src_used, NULL, error))
            return NULL;
          if (!imprint_vfat_usage (target, esp_old->offset, NULL, &esp_free, &local))
            {
              g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                           _("The existing EFI System Partition cannot be read: %s"), local->message);
              return NULL;
            }
          /* Room for everything plus slack for FAT cluster rounding. */
          esp_files = src_used + src_used / 10 + MiB;
          plan->esp_files_size = esp_files;
          g_free (plan->esp->source);
          if (esp_free >= esp_files)
            {
              plan->esp->content = IMPRINT_CONTENT_ESP_FILES;
              plan->esp->source = g_strdup_printf (_("kept; systemd-boot and the %s kernel images are added"),
                                                   src->name);
            }
          else
            {
              /* The boot loader alone is small; the UKIs go to XBOOTLDR. */
              plan->esp->content = IMPRINT_CONTENT_ESP_FILES;
              plan->esp->source = g_strdup (_("kept; systemd-boot is added"));
              guint64 xb = ALIGN_UP (MAX (src_used * 3, 256 * MiB), MiB);
              guint64 xb_free = 0;
              if (xb_old && imprint_vfat_usage (target, xb_old->offset, NULL, &xb_free, NULL) &&
                  xb_free >= esp_files)
                {
                  /* An XBOOTLDR is there already (ours from a previous run,
                   * or another system's): the UKIs go into it. */
                  g_free (xb_plan->source);
                  xb_plan->source = g_strdup_printf (_("kept; the %s kernel images are added"), src->name);
                  xb_plan->content = IMPRINT_CONTENT_ESP_FILES;
                  plan->xbootldr = xb_plan;
                  xb = 0;
                }
              need += xb;
              if (xb > 0 && gap.end - gap.start >= need)
                {
                  g_autofree char *xfrom = g_strdup_printf (_("new boot partition for the %s kernel images"),
                                                            src->name);
                  ImprintPlanPartition *x = add_partition (plan, IMPRINT_GPT_XBOOTLDR, "XBOOTLDR", NULL,
                                                           gap.start, xb, IMPRINT_PLAN_CREATE,
                                                           IMPRINT_CONTENT_XBOOTLDR, xfrom);
                  x->number = next_number (plan);
                  plan->xbootldr = x;
                  gap.start += xb;
                }
            }
        }
      else
        {
          guint64 esp_sz = ALIGN_UP (src->esp.size, MiB);
          need += esp_sz;
          if (gap.end - gap.start >= need)
            {
              g_autofree char *esp_from = g_strdup_printf (_("copy of the %s boot partition"), src->name);
              ImprintPlanPartition *e = add_partition (plan, IMPRINT_GPT_ESP, src->esp.label, src->esp.uuid,
                                                       gap.start, esp_sz, IMPRINT_PLAN_CREATE,
                                                       IMPRINT_CONTENT_ESP, esp_from);
              e->number = next_number (plan);
              e->attrs = src->esp.attrs;
              plan->esp = e;
              gap.start += esp_sz;
            }
        }
      if (gap.end - gap.start < need)
        {
          too_small (plan, need, gap.end - gap.start, error);
          return NULL;
        }
      cursor = gap.start;
      add_slots (plan, src, &sizes, &cursor);
    }

  if (!plan_repart (plan, error))
    return NULL;

  g_ptr_array_sort (plan->partitions, cmp_by_number);

  {
    guint ncreate = 0;
    for (guint i = 0; i < plan->partitions->len; i++)
      if (((ImprintPlanPartition *) plan->partitions->pdata[i])->action == IMPRINT_PLAN_CREATE)
        ncreate++;
    g_autofree char *sz = human_size (plan->target_size);
    plan->summary = plan->mode == IMPRINT_INSTALL_MODE_ERASE
      ? g_strdup_printf (_("Erase %s (%s) and install %s %s: %u partitions%s."), shown, sz, src->name,
                         src->version, ncreate,
                         plan->defer_data_partitions ? _(", data partitions at first boot") : "")
      : g_strdup_printf (_("Install %s %s into free space on %s (%s): %u new partitions, the others kept%s."),
                         src->name, src->version, shown, sz, ncreate,
                         plan->defer_data_partitions ? _(", data partitions at first boot") : "");
  }
  return g_steal_pointer (&plan);
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
