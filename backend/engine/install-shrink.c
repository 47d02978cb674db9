/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

/* The install's first writing step beside Windows: the NTFS file system
 * shrunk by ntfsresize, then its partition entry, then checked again.
 * Each ntfsresize run gets a loop device over the partition's bytes of
 * the job's locked fd (never a path a caller named). Order matters for
 * what a failure leaves: until the partition entry is written, a volume
 * smaller than its partition is a consistent NTFS; the entry is only
 * moved after ntfsresize reported success. */
#include <errno.h>
#include <glib/gi18n.h>
#include <libfdisk.h>
#include <string.h>
#include <unistd.h>

#include "imprint-error.h"
#include "install.h"
#include "install-shrink.h"
#include "loop.h"
#include "macros.h"
#include "ntfs-probe.h"
#include "plan-private.h"

#define CHECK_TIMEOUT_S 1800

/* The last ERROR line of a tool's output, for the message. */
static char *
last_error (const char *out)
{
  g_auto(GStrv) lines = g_strsplit (out ? out : "", "\n", 0);
  const char *found = NULL;

  for (gsize i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], "ERROR"))
      found = lines[i];
  /* Bounded and printable: it goes into a message people read. */
  return found ? g_utf8_make_valid (found, MIN (strlen (found), 200)) : g_strdup (_("no message"));
}

/* ntfsresize with @args on [start, start+size) of @fd; FALSE with @what
 * in the message when it fails. */
static gboolean
resize_tool (int fd, guint64 start, guint64 size, gboolean write, const char *const *args,
             const ImprintNtfsRunOptions *o, const char *what, GCancellable *cancellable,
             GError **error)
{
  _cleanup_close_ int loop_fd = -1;
  g_autofree char *node = NULL, *out = NULL;
  int status = 0, r;

  r = imprint_loop_attach (fd, start, size, !write, &loop_fd, &node);
  if (r < 0)
    return g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_UNAVAILABLE,
                        _("Cannot attach a loop device: %s"), g_strerror (-r)), FALSE;
  if (!imprint_ntfs_run ("ntfsresize", args, loop_fd, o, cancellable, &out, NULL, &status, error))
    return FALSE;
  if (write && fsync (loop_fd) < 0 && errno != EINVAL)
    return g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("%s: cannot flush: %s"), what,
                        g_strerror (errno)), FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_autofree char *msg = last_error (out);
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, "%s: %s", what, msg);
      return FALSE;
    }
  return TRUE;
}

/* The partition entry: only its size changes (libfdisk keeps start,
 * type, GUID, name and attributes of a partition set from a template
 * holding just the size). */
static gboolean
write_entry (const ImprintPlan *plan, int fd, GError **error)
{
  struct fdisk_context *cxt = fdisk_new_context ();
  struct fdisk_partition *pa = fdisk_new_partition ();
  const ImprintPlanPartition *p = plan->shrink;
  guint32 ss;
  int r = -ENOMEM;

  if (cxt && pa && (r = fdisk_assign_device_by_fd (cxt, fd, plan->target, 0)) == 0)
    {
      ss = fdisk_get_sector_size (cxt);
      r = fdisk_is_labeltype (cxt, FDISK_DISKLABEL_GPT) ? 0 : -EMEDIUMTYPE;
      if (r == 0)
        {
          fdisk_partition_size_explicit (pa, 1);
          fdisk_partition_set_size (pa, p->size / ss);
          r = fdisk_set_partition (cxt, p->number - 1, pa);
        }
      if (r == 0)
        r = fdisk_write_disklabel (cxt);
      if (r == 0 && plan->target_is_block)
        (void) fdisk_reread_changes (cxt, NULL);
      if (r == 0)
        r = fdisk_deassign_device (cxt, 0);
    }
  if (pa)
    fdisk_unref_partition (pa);
  if (cxt)
    fdisk_unref_context (cxt);
  if (r < 0)
    g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                 _("Writing the new size of partition %u failed: %s. The Windows file system is "
                   "already smaller and intact; its partition keeps the old size"),
                 p->number, g_strerror (-r));
  return r == 0;
}

typedef struct {
  ImprintProgress *progress;
  guint64 base, work;
} ShrinkProgress;

/* ntfsresize counts each of its phases from 0 to 100 %: the bar only
 * moves forward. */
static void
on_resize_progress (double f, gpointer data)
{
  ShrinkProgress *s = data;
  guint64 at = s->base + (guint64) (f * (double) s->work);

  if (s->progress == NULL || at <= s->progress->done)
    return;
  s->progress->done = at;
  imprint_progress_report (s->progress);
}

gboolean
imprint_install_shrink (ImprintPlan *plan, int fd, ImprintProgress *progress, GError **error)
{
  const ImprintPlanPartition *p = plan->shrink;
  g_autofree char *size_arg = NULL;
  g_autofree char *from = NULL, *to = NULL;
  ImprintNtfsRunOptions ro = { .timeout_s = CHECK_TIMEOUT_S, .killable = TRUE, .merge_stderr = TRUE };
  ShrinkProgress sp = { progress, progress ? progress->done : 0, imprint_install_shrink_work (plan) };
  ImprintNtfsRunOptions wo = { .merge_stderr = TRUE, .progress = on_resize_progress,
                               .progress_data = &sp };
  GCancellable *c = progress ? progress->cancellable : NULL;

  if (p == NULL)
    return TRUE;
  size_arg = g_strdup_printf ("%" G_GUINT64_FORMAT, p->size);
  const char *check[] = { "--check", "--no-progress-bar", "@VOLUME@", NULL };
  const char *dry[] = { "--no-action", "--no-progress-bar", "--size", size_arg, "@VOLUME@", NULL };
  /* --force: answers ntfsresize's "Are you sure" (stdin is /dev/null);
   * the plan refused a volume Windows marked for chkdsk. */
  const char *real[] = { "--force", "--size", size_arg, "@VOLUME@", NULL };
  /* ntfsresize marks the volume for chkdsk at the next Windows start, on
   * purpose: --force reads it anyway. */
  const char *recheck[] = { "--check", "--force", "--no-progress-bar", "@VOLUME@", NULL };

  imprint_progress_step (progress, imprint_install_step_text (IMPRINT_STEP_SHRINK));
  if (!resize_tool (fd, p->start, plan->shrink_from, FALSE, check, &ro,
                    _("Checking Windows found errors; nothing was changed"), c, error) ||
      !resize_tool (fd, p->start, plan->shrink_from, FALSE, dry, &ro,
                    _("The test run of shrinking Windows failed; nothing was changed"), c, error))
    return FALSE;
  /* From here on not cancellable: ntfsresize is never interrupted. */
  if (!resize_tool (fd, p->start, plan->shrink_from, TRUE, real, &wo,
                    _("Shrinking the Windows file system failed; ntfsresize stops before it "
                      "changes anything it cannot finish, and the partition was not touched. "
                      "Start Windows and run chkdsk before trying again"), NULL, error))
    return FALSE;
  if (!write_entry (plan, fd, error))
    return FALSE;
  if (!resize_tool (fd, p->start, p->size, FALSE, recheck, &ro,
                    _("Checking Windows after shrinking it found errors; nothing else was written"),
                    NULL, error))
    return FALSE;
  from = g_format_size (plan->shrink_from);
  to = g_format_size (p->size);
  g_debug ("Shrunk partition %u from %s to %s", p->number, from, to);
  if (progress)
    {
      progress->done = sp.base + sp.work;
      imprint_progress_report (progress);
    }
  return TRUE;
}

guint64
imprint_install_shrink_work (const ImprintPlan *plan)
{
  /* What ntfsresize may move is at most what is in use. */
  return plan->shrink ? MAX (plan->shrink_used, MiB) : 0;
}
