/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Making room beside Windows (plan->shrink, plan-shrink.c): ntfsresize
 * --check, a --no-action run, the resize, the partition entry through
 * libfdisk on the job's fd, and ntfsresize --check again; progress as
 * IMPRINT_STEP_SHRINK. Before the first write it can be cancelled and a
 * failure leaves everything as it was; the resize itself is never
 * interrupted. Nothing when the plan shrinks nothing. */

#include "copy.h"
#include "plan.h"

G_BEGIN_DECLS

gboolean imprint_install_shrink (ImprintPlan *plan, int fd, ImprintProgress *progress, GError **error);
/* Bytes of progress the shrink counts for (0 without one). */
guint64  imprint_install_shrink_work (const ImprintPlan *plan);

G_END_DECLS
