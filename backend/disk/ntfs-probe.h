/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Running ntfs-3g's tools on one NTFS volume: the facts for discovery
 * (ntfs-facts.h) and the resize itself for the install's shrink step.
 * The volume is always an fd the caller opened (a loop device over the
 * partition's bytes of the disk it holds): the tool gets it as fd 3 and
 * the name /proc/self/fd/3, never a path anyone else chose. Tools are
 * run from fixed paths, with an argv (no shell), LC_ALL=C, stdin from
 * /dev/null, a timeout and bounded output. */

#include <gio/gio.h>

#include "ntfs-facts.h"

G_BEGIN_DECLS

typedef struct {
  ImprintNtfsInfo info;     /* ntfsresize --info */
  gboolean        hibernated;
} ImprintNtfsProbe;

/* Called with 0..1 as a long-running tool reports "NN.NN percent". */
typedef void (*ImprintNtfsProgress) (double fraction, gpointer user_data);

typedef struct {
  guint   timeout_s;          /* killed after this (only when killable) */
  gboolean killable;          /* FALSE while it writes: never killed, cancel ignored */
  gboolean merge_stderr;      /* else stderr goes to /dev/null */
  gsize   stop_after;         /* killable: stop the tool once this much output came (0: never) */
  ImprintNtfsProgress progress;
  gpointer progress_data;
} ImprintNtfsRunOptions;

/* Runs the ntfs-3g @tool ("ntfsresize", "ntfscat", "ntfsfix") with
 * "/proc/self/fd/3" substituted for every "@VOLUME@" in @args. Output up
 * to IMPRINT_NTFS_OUTPUT_MAX bytes in *@ret_out (NUL-terminated; the rest
 * is read and dropped), the wait status in *@ret_status. FALSE only when
 * it could not run or timed out (IMPRINT_ERROR_*). */
gboolean imprint_ntfs_run (const char *tool, const char *const *args, int volume_fd,
                           const ImprintNtfsRunOptions *o, GCancellable *cancellable,
                           char **ret_out, gsize *ret_len, int *ret_status, GError **error);

/* ntfsresize --info and the hibernation file of the volume behind
 * @volume_fd (read-only: nothing is written). */
gboolean imprint_ntfs_probe_volume (int volume_fd, ImprintNtfsProbe *ret, GCancellable *cancellable,
                                    GError **error);

/* The same for [@offset, @offset + @size) of @disk_fd, through a
 * read-only loop device of our own (needs root). */
gboolean imprint_ntfs_probe_region (int disk_fd, guint64 offset, guint64 size, ImprintNtfsProbe *ret,
                                    GCancellable *cancellable, GError **error);

/* What ListDisks says about one NTFS (or BitLocker) partition under
 * "shrink" (data/dev.imprint.Imprint1.xml). @probe NULL: BitLocker, not
 * probed. @need: bytes Imprint needs (0: any). Floating a{sv}. */
GVariant *imprint_ntfs_shrink_variant (const ImprintNtfsProbe *probe, gboolean bitlocker,
                                       guint64 part_size, guint64 need);

G_END_DECLS
