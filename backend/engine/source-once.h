/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading the source once (issue 18). The copy checks every block against
 * the verity tree as it passes, so a single read is enough to install a
 * verified system; what a separate verify-first pass adds is only the
 * promise that a corrupt source is refused before anything that holds
 * data is overwritten. So:
 *   - a target whose install overwrites nothing (a blank disk, or the free
 *     space of a disk with --use-free-space) is streamed once, the A slot
 *     first into space that holds nothing, and the partition table, ESP
 *     and labels only after it verified: a corrupt source leaves no table
 *     and no boot files behind (imprint_install());
 *   - an erase of a disk that holds data verifies first, reading through
 *     the page cache, and the copy takes what the verify pass left there
 *     when usr fits in imprint_source_cache_budget(); beyond that the
 *     source is read twice, and the plan says so ("source-read-twice"). */

#include <gio/gio.h>

#include "plan.h"
#include "source.h"

G_BEGIN_DECLS

/* Whether @fd (a disk or image file of @size bytes, opened for reading,
 * O_DIRECT allowed) holds anything: an image file with no data extents
 * holds nothing; otherwise its first and last MiB and 64 blocks spread
 * over the rest must read as zeros. Reading errors count as data. */
gboolean imprint_target_holds_data (int fd, guint64 size);

/* How much of the source the page cache may keep between the verify-first
 * pass and the copy: half of MemAvailable (0 when unknown). */
guint64  imprint_source_cache_budget (void);

/* Whether an install with verify-first (the default) reads /usr of
 * @source twice: the erase overwrites data and usr does not fit in the
 * cache budget. */
gboolean imprint_source_read_twice (const ImprintPlan *plan, const ImprintSource *source);

G_END_DECLS
