/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Block streaming from a source range to a target range: large aligned
 * buffers in a small ring, a reader thread, an optional verifier thread and
 * the writer (the calling thread) overlapped; fdatasync at the end.
 * Verification happens on the data as it passes, before it is written:
 * either against a verity tree (usr data) or against bytes that were
 * verified before (the hash partition's tree).
 *
 * Zeros are not sent: holes of a sparse source file are not read, and
 * slots that read as all zeros are not written; both are checked as zeros
 * (each data block against the tree's hash of a zero block) and become a
 * punched hole in an image file or zeroed blocks (FALLOC_FL_ZERO_RANGE) on
 * a disk, plain zero writes where neither works. */

#include <gio/gio.h>

#include "verity.h"

G_BEGIN_DECLS

/* Progress of a whole operation. Called from the thread that runs the
 * engine call (never from the helper threads), at most once per buffer and
 * at every step change. @step is a translated sentence, e.g. "Copying the
 * system". The caller computes rate and ETA from successive calls. */
typedef void (*ImprintProgressFunc) (const char *step,
                                     guint64     bytes_done,
                                     guint64     bytes_total,
                                     gpointer    user_data);

typedef struct {
  ImprintProgressFunc func;      /* may be NULL */
  gpointer            user_data;
  GCancellable       *cancellable; /* may be NULL; checked per buffer */
  const char         *step;      /* current step text */
  guint64             done;      /* advanced by imprint_copy() */
  guint64             total;     /* set by the caller for the whole operation */
} ImprintProgress;

/* Reports the current state (step, done, total) through progress->func. */
void imprint_progress_report (ImprintProgress *progress);
/* Sets the step text and reports. */
void imprint_progress_step   (ImprintProgress *progress, const char *step);

typedef struct {
  int          src_fd;
  guint64      src_offset;
  int          dst_fd;       /* may carry O_DIRECT; then offsets/length must be
                              * multiples of the logical block size. -1: read
                              * and verify only, write nothing */
  guint64      dst_offset;
  guint64      length;
  const char  *what;         /* for messages, e.g. "usr partition" */

  /* Optional: every data block that passes is checked against this tree
   * (offset 0 of the range = data block 0). The copy fails unless the
   * tree was complete at the end. */
  ImprintVerityTree *verify_tree;
  /* Optional: bytes 0..expect_size of the range must equal these. */
  const guint8 *expect;
  size_t        expect_size;
  /* The bytes in @expect were verified already (the hash tree): write
   * them from there instead of reading and comparing that part of the
   * source again, up to the last 4 KiB boundary in it (what follows is
   * read direct from there and compared). @expect must then be page
   * aligned (direct I/O). */
  gboolean      expect_is_source;

  /* Read the source through the page cache instead of O_DIRECT: what an
   * earlier pass read (the verify-first pass, the UKI check of the ESP)
   * is taken from memory, and what this pass reads stays there for a
   * later one. Default (FALSE): direct reads, nothing cached. */
  gboolean     src_buffered;

  size_t       buffer_size;  /* 0: 8 MiB; rounded to a multiple of 64 KiB */
  unsigned     n_buffers;    /* 0: 4 */
} ImprintCopyJob;

/* Streams one range. Errors: IMPRINT_ERROR_SOURCE_INVALID (verification
 * failed or the source ended early), IMPRINT_ERROR_NO_SPACE (the target
 * ran out of space: ENOSPC/EFBIG or a short write), IMPRINT_ERROR_CANCELLED,
 * IMPRINT_ERROR_FAILED (I/O error). On failure, part of the target range
 * may have been written. */
gboolean imprint_copy (const ImprintCopyJob *job,
                       ImprintProgress      *progress,
                       GError              **error);

/* Opens a target disk or image file for writing: O_DIRECT when the kernel
 * accepts it (block devices, most file systems), buffered otherwise; O_EXCL
 * on block devices (IMPRINT_ERROR_BUSY while something on it is mounted). */
int imprint_open_target (const char *path, gboolean *ret_is_block, guint64 *ret_size, GError **error);

G_END_DECLS
