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

gboolean
imprint_install_run (ImprintInstallRun *run, const ImprintReport *report,
                     ImprintSource **ret_source, ImprintPlan **ret_plan, GError **error)
{
  ImprintInstallOptions *o = &run->options;
  g_autoptr(ImprintSource) source = NULL;
  g_autoptr(ImprintPlan) plan = NULL;

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

  if (!imprint_install (source, run->target, plan, o, error))
    return FALSE;
  *ret_source = g_steal_pointer (&source);
  *ret_plan = g_steal_pointer (&plan);
  return TRUE;
}
