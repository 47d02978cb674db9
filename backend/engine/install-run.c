/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "install.h"
#include "install-root.h"
#include "macros.h"

/* imprintd's Install job as one engine call (install.h): the order of the
 * steps before imprint_install() lives here, not in the daemon. */

static ImprintSource *
open_source (ImprintInstallRun *run, GError **error)
{
  if (run->source_fd < 0)
    return imprint_source_inspect_running (error);
  return imprint_source_inspect_fd (TAKE_FD (run->source_fd), run->source_io_path, run->source_display,
                                    &run->source_options, error);
}

void
imprint_install_run_clear (ImprintInstallRun *run)
{
  imprint_handover_result_clear (&run->handover_result);
  g_clear_pointer (&run->handover_error, g_free);
}

/* After a complete install: the live session moves onto the disk. The
 * install stands whatever happens here; the caller learns what did. */
static void
hand_over (ImprintInstallRun *run, ImprintSource *source, ImprintPlan *plan, const ImprintReport *report)
{
  ImprintInstallOptions *o = &run->options;
  g_autoptr(GError) local = NULL;
  ImprintHandover h = {
    .plan = plan, .report = run->handover_report ? run->handover_report : report,
    .cancellable = o->cancellable,
  };

  if (!source->is_running || o->encryption == NULL || o->encryption->root_node == NULL)
    {
      run->handover_error = g_strdup (_("Only an install from the running live system onto an encrypted "
                                        "root partition can continue in this session."));
      return;
    }
  h.root_node = o->encryption->root_node;
  h.key = o->encryption->recovery_key;
  /* The root partition gets claimed by device-mapper and btrfs: the
   * disk's exclusive open has to go (the busy registry still keeps other
   * jobs off it), as for systemd-repart in imprint_install(). */
  if (run->lock != NULL)
    imprint_target_lock_suspend (run->lock);
  if (!imprint_handover_run (&h, &run->handover_result, &local))
    run->handover_error = g_strdup (local->message);
}

gboolean
imprint_install_run (ImprintInstallRun *run, const ImprintReport *report,
                     ImprintSource **ret_source, ImprintPlan **ret_plan, GError **error)
{
  ImprintInstallOptions *o = &run->options;
  g_autoptr(ImprintSource) source = NULL;
  g_autoptr(ImprintPlan) plan = NULL;
  gint64 t0;

  /* The disk is ours before anything is read from or written to it, for
   * the whole job (imprint_install() keeps it so). */
  if (run->lock != NULL && !imprint_target_lock_ensure (run->lock, error))
    return FALSE;
  o->plan.target_lock = run->lock;

  imprint_report_step (report, _("Checking the system image"));
  source = open_source (run, error);
  if (source == NULL)
    return FALSE;
  imprint_report_log (report, _("Installing %s %s (root hash %s)."),
                      source->name ? source->name : "", source->version ? source->version : "",
                      source->root_hash);
  if (run->check_esp_uki && !imprint_source_check_esp_uki (source, error))
    return FALSE;

  imprint_report_step (report, _("Planning the partitions"));
  plan = imprint_plan_compute (source, run->target, &o->plan, error);
  if (plan == NULL)
    return FALSE;
  if (o->encryption != NULL && !imprint_root_encryption_pick_tpm2_key (o->encryption, source, error))
    return FALSE;

  t0 = g_get_monotonic_time ();
  if (!imprint_install (source, run->target, plan, o, error))
    return FALSE;
  {
    /* Beside the handover's own line: the copy's rate, to compare. */
    double secs = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
    guint64 bytes = source->esp.size + source->usr.size + source->usr_verity.size + source->usr_verity_sig.size;
    g_autofree char *size = g_format_size (bytes);
    g_autofree char *rate = g_format_size ((guint64) (bytes / MAX (secs, 0.001)));
    imprint_report_log (report, _("Installed %s of boot and system partitions in %.1f s (%s/s)."), size, secs, rate);
  }
  if (run->handover)
    hand_over (run, source, plan, report);
  *ret_source = g_steal_pointer (&source);
  *ret_plan = g_steal_pointer (&plan);
  return TRUE;
}
