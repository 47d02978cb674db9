/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

/* The install plan: partitions Imprint writes itself (ESP, usr A/B slots)
 * placed on the target, erase mode here, free-space mode in
 * plan-free-space.c; the data partitions in plan-repart.c, from the
 * definitions of plan-definitions.c. */
#include <fcntl.h>
#include <glib/gi18n.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "imprint-error.h"
#include "macros.h"
#include "plan.h"
#include "plan-private.h"
#include "source-once.h"
#include "repart-definition.h"
#include "target-lock.h"

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
  g_free (p->definition);
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
  g_free (plan->definitions_display);
  g_clear_pointer (&plan->definitions, g_ptr_array_unref);
  g_clear_pointer (&plan->partitions, g_ptr_array_unref);
  g_clear_pointer (&plan->erased, g_ptr_array_unref);
  g_free (plan);
}

static char *
human_size (guint64 bytes)
{
  return g_format_size (bytes);
}

ImprintPlanPartition *
imprint_plan_add_partition (ImprintPlan *plan, const char *type, const char *label, const char *uuid,
               guint64 start, guint64 size, ImprintPlanAction action,
               ImprintPlanContent content)
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
  g_ptr_array_add (plan->partitions, p);
  return p;
}

/* Lowest GPT partition number not used by a kept partition or by one
 * already planned. */
guint
imprint_plan_next_number (ImprintPlan *plan)
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
cmp_by_number (gconstpointer a, gconstpointer b)
{
  const ImprintPlanPartition *x = *(ImprintPlanPartition **) a, *y = *(ImprintPlanPartition **) b;
  return (gint) x->number - (gint) y->number;
}

static guint64
headroom_size (guint64 a, const ImprintPlanOptions *o)
{
  guint pct = o->headroom_percent ? o->headroom_percent : 150;
  guint64 min_headroom = o->min_headroom ? o->min_headroom : 64 * MiB;
  guint64 s = MAX (a / 100 * pct, a + min_headroom);
  return ALIGN_UP (s, MiB);
}

static void
slot_sizes (ImprintSource *src, const ImprintPlan *plan, const ImprintPlanOptions *o,
            ImprintSlotSizes *ret)
{
  ImprintSlotSizes def;

  imprint_plan_definition_slot_sizes (plan, &def);
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

/* B slot UUIDs are derived from the root hash, so a rerun recognises the
 * slots its previous run made (sysupdate gives them new UUIDs when it
 * fills them). */
char *
imprint_plan_b_slot_uuid (ImprintSource *src, const char *what)
{
  g_autofree char *in = g_strdup_printf ("imprint-b-slot:%s:%s", what, src->root_hash);
  g_autofree char *h = g_compute_checksum_for_string (G_CHECKSUM_SHA256, in, -1);
  /* Shaped as a random (version 4, RFC 4122 variant) UUID. */
  h[12] = '4';
  h[16] = "89ab"[g_ascii_xdigit_value (h[16]) & 3];
  return g_strdup_printf ("%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
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

/* One slot partition shaped like the source's @like, at *@cursor. */
static ImprintPlanPartition *
add_slot_partition (ImprintPlan *plan, const ImprintPartition *like, const char *uuid, guint64 size,
                    ImprintPlanContent content, guint64 *cursor)
{
  ImprintPlanPartition *p = imprint_plan_add_partition (plan, like->type, IMPRINT_EMPTY_LABEL, uuid,
                                                        *cursor, size, IMPRINT_PLAN_CREATE, content);
  p->attrs = like->attrs;
  p->number = imprint_plan_next_number (plan);
  *cursor += size;
  return p;
}

void
imprint_plan_add_slots (ImprintPlan *plan, ImprintSource *src, const ImprintSlotSizes *sz, guint64 *cursor)
{
  g_autofree char *bu = imprint_plan_b_slot_uuid (src, "usr");
  g_autofree char *bv = imprint_plan_b_slot_uuid (src, "usr-verity");
  g_autofree char *bs = imprint_plan_b_slot_uuid (src, "usr-verity-sig");

  /* A slot: keeps type, UUID and attributes; "_empty" until verified. */
  plan->usr_a = add_slot_partition (plan, &src->usr, src->usr.uuid, sz->usr, IMPRINT_CONTENT_USR, cursor);
  plan->usr_a->final_label = g_strdup (src->usr.label);
  plan->verity_a = add_slot_partition (plan, &src->usr_verity, src->usr_verity.uuid, sz->verity,
                                       IMPRINT_CONTENT_USR_VERITY, cursor);
  plan->verity_a->final_label = g_strdup (src->usr_verity.label);
  plan->sig_a = add_slot_partition (plan, &src->usr_verity_sig, src->usr_verity_sig.uuid, sz->sig,
                                    IMPRINT_CONTENT_USR_VERITY_SIG, cursor);
  plan->sig_a->final_label = g_strdup (src->usr_verity_sig.label);
  *cursor = ALIGN_UP (*cursor, MiB);

  /* B slots: empty, for the next update. */
  plan->usr_b = add_slot_partition (plan, &src->usr, bu, sz->usr, IMPRINT_CONTENT_NONE, cursor);
  plan->verity_b = add_slot_partition (plan, &src->usr_verity, bv, sz->verity, IMPRINT_CONTENT_NONE, cursor);
  plan->sig_b = add_slot_partition (plan, &src->usr_verity_sig, bs, sz->sig, IMPRINT_CONTENT_NONE, cursor);
  *cursor = ALIGN_UP (*cursor, MiB);
}

void
imprint_plan_add_erased (ImprintPlan *plan, const ImprintPartition *o)
{
  ImprintPlanPartition *e = g_new0 (ImprintPlanPartition, 1);
  const char *tn = imprint_gpt_type_name (o->type);

  e->number = o->partno + 1;
  e->type = g_strdup (o->type);
  e->type_name = g_strdup (tn ? tn : o->type);
  e->label = g_strdup (o->label ? o->label : "");
  e->uuid = g_strdup (o->uuid);
  e->size = o->size;
  e->action = IMPRINT_PLAN_DELETE;
  e->content = IMPRINT_CONTENT_EXISTING;
  g_ptr_array_add (plan->erased, e);
}

guint64
imprint_plan_slots_size (const ImprintSlotSizes *sz)
{
  /* Slot A's signature partition is followed by a gap up to the next MiB
   * (slot B starts aligned); nothing needs to follow slot B's. */
  return 2 * (sz->usr + sz->verity) + ALIGN_UP (sz->sig, MiB) + sz->sig;
}

gboolean
imprint_plan_too_small (ImprintPlan *plan, guint64 need, guint64 have, GError **error)
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


/* The target, opened once: through the job's lock when there is one. */
static int
open_target (ImprintPlan *plan, ImprintSource *src, const ImprintPlanOptions *options, GError **error)
{
  _cleanup_close_ int fd = -1;

  if (options->target_lock != NULL)
    {
      int lfd = imprint_target_lock_get_fd (options->target_lock);
      if (lfd < 0 || (fd = fcntl (lfd, F_DUPFD_CLOEXEC, 3)) < 0)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                       _("The target %s is not open"), plan->target);
          return -EBADF;
        }
      plan->target_is_block = imprint_target_lock_is_block (options->target_lock);
      plan->target_size = imprint_target_lock_get_size (options->target_lock);
    }
  else
    fd = open_target_readonly (plan->target, plan->target_display, &plan->target_is_block,
                               &plan->target_size, error);
  if (fd < 0)
    return fd;
  if (same_file (src->path, fd))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("The target %s is the source itself"), plan->target_display);
      return -EINVAL;
    }
  return TAKE_FD (fd);
}

/* A new GPT over the whole disk: ESP, then the slots. */
static gboolean
plan_erase (ImprintPlan *plan, ImprintSource *src, const ImprintSlotSizes *sizes, GError **error)
{
  g_autoptr(GPtrArray) old = NULL;
  g_autoptr(GError) local = NULL;
  guint32 ss = 512;
  guint64 first = MiB, last, cursor = MiB;
  guint64 esp_sz = ALIGN_UP (src->esp.size, MiB);
  guint64 need = first + esp_sz + imprint_plan_slots_size (sizes) + MiB;
  ImprintPlanPartition *esp;

  if (imprint_read_gpt (plan->target, &ss, NULL, &old, &local) > 0)
    for (guint i = 0; i < old->len; i++)
      imprint_plan_add_erased (plan, old->pdata[i]);
  plan->sector_size = ss ? ss : 512;
  plan->disk_uuid = g_uuid_string_random ();

  /* Backup GPT: 32 sectors of entries and the header. */
  last = ALIGN_DOWN (plan->target_size - 33 * (guint64) plan->sector_size, MiB);
  if (plan->target_size < need || last < need)
    return imprint_plan_too_small (plan, need, plan->target_size, error);
  esp = imprint_plan_add_partition (plan, IMPRINT_GPT_ESP, src->esp.label, src->esp.uuid, cursor,
                                    esp_sz, IMPRINT_PLAN_CREATE, IMPRINT_CONTENT_ESP);
  esp->attrs = src->esp.attrs;
  esp->number = imprint_plan_next_number (plan);
  plan->esp = esp;
  cursor += esp_sz;
  imprint_plan_add_slots (plan, src, sizes, &cursor);
  return TRUE;
}

ImprintPlan *
imprint_plan_compute (ImprintSource *src, const char *target, const ImprintPlanOptions *options,
                      GError **error)
{
  g_autoptr(ImprintPlan) plan = g_new0 (ImprintPlan, 1);
  ImprintPlanOptions noopts = { 0 };
  _cleanup_close_ int fd = -1;
  ImprintSlotSizes sizes;
  gboolean ok;

  if (options == NULL)
    options = &noopts;
  plan->mode = options->mode;
  plan->target = g_strdup (target);
  plan->target_display = g_strdup (options->target_display ? options->target_display : target);
  plan->defer_data_partitions = options->defer_data_partitions;
  plan->partitions = g_ptr_array_new_with_free_func ((GDestroyNotify) plan_partition_free);
  plan->erased = g_ptr_array_new_with_free_func ((GDestroyNotify) plan_partition_free);
  if ((options->shrink_partition != 0 && plan->mode != IMPRINT_INSTALL_MODE_FREE_SPACE) ||
      (options->shrink_size != 0 && options->shrink_partition == 0))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Shrinking a partition needs its number and new size, and goes only with "
                     "installing into free space"));
      return NULL;
    }

  fd = open_target (plan, src, options, error);
  if (fd < 0)
    return NULL;
  if (!imprint_plan_load_definitions (plan, src, options, error))
    return NULL;
  slot_sizes (src, plan, options, &sizes);
  ok = plan->mode == IMPRINT_INSTALL_MODE_ERASE ? plan_erase (plan, src, &sizes, error)
                                                 : imprint_plan_free_space (plan, src, &sizes, options, fd, error);
  plan->overwrites_data = ok && plan->mode == IMPRINT_INSTALL_MODE_ERASE &&
                          (plan->erased->len > 0 || imprint_target_holds_data (fd, plan->target_size));
  if (!ok || !imprint_plan_repart (plan, error))
    return NULL;
  g_ptr_array_sort (plan->partitions, cmp_by_number);
  return g_steal_pointer (&plan);
}

char *
imprint_plan_partition_node (const ImprintPlan *plan, guint number)
{
  g_autofree char *node = NULL;
  const char *base = plan->target;
  gboolean digit;

  if (!plan->target_is_block || number == 0 || base == NULL || *base == '\0')
    return NULL;
  digit = g_ascii_isdigit (base[strlen (base) - 1]);
  node = g_strdup_printf ("%s%s%u", base, digit ? "p" : "", number);
  return g_file_test (node, G_FILE_TEST_EXISTS) ? g_steal_pointer (&node) : NULL;
}
