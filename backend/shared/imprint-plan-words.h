/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The install plan in words, from the facts of the PlanInstall reply
 * (ImprintPlanInfo): the engine says what happens, the faces (imprintctl,
 * the app) say it to people through these, translated. */

#include "imprint-request.h"

G_BEGIN_DECLS

/* "Erase sda (64 GiB) and install ImprintOS 2: 7 partitions." */
char  *imprint_plan_words_summary     (const ImprintPlanInfo *plan);
/* One line per thing destroyed (erased_partitions, and in erase mode
 * "everything on TARGET"); empty when nothing is. */
GStrv  imprint_plan_words_erased      (const ImprintPlanInfo *plan);
/* Where a partition's contents come from. */
char  *imprint_plan_words_source      (const ImprintPlanInfo *plan, const ImprintPlanPartitionInfo *part);
/* Whose partition definitions the data partitions come from, or NULL
 * when the plan does not say. */
char  *imprint_plan_words_definitions (const ImprintPlanInfo *plan);
/* Why the install reads the installation medium twice (source_read_twice),
 * or NULL when it reads it once. */
char  *imprint_plan_words_read_twice  (const ImprintPlanInfo *plan);
/* Sets summary, erased and each partition's source from the facts (what
 * imprintd puts into the reply's older keys). */
void   imprint_plan_words_fill        (ImprintPlanInfo *plan);

G_END_DECLS
