/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Whether and how far an NTFS partition can shrink, from what ntfs-3g's
 * tools print (ntfs-probe.h runs them). Pure: the parser takes the bytes
 * a tool wrote, which are untrusted (the file system is anyone's), and is
 * bounded; the rules and the sentences take facts. */

#include <glib.h>

G_BEGIN_DECLS

/* What `ntfsresize --info` said. Sizes in bytes. */
typedef struct {
  gboolean complete;      /* volume size and minimum size both found, and sane */
  gboolean dirty;         /* "Volume is scheduled for check" (chkdsk pending) */
  gboolean errors;        /* an ERROR line other than the dirty one */
  guint64  cluster_size;
  guint64  volume_size;
  guint64  used;          /* "Space in use" (ntfsresize rounds to MB = 10^6) */
  guint64  min_size;      /* "You might resize at N bytes" */
} ImprintNtfsInfo;

/* Only this much of a tool's output is looked at. */
#define IMPRINT_NTFS_OUTPUT_MAX (64 * 1024)

/* Parses @len bytes of ntfsresize's output (NUL bytes, long lines and
 * numbers out of range are tolerated: they make the result incomplete,
 * never wrong). Always fills @ret; returns ret->complete. */
gboolean imprint_ntfs_parse_info (const char *text, gsize len, ImprintNtfsInfo *ret);

/* Whether the first bytes of hiberfil.sys mark a hibernated Windows (also
 * Fast Startup): "hibr" or "HIBR", as ntfs-3g itself refuses them. */
gboolean imprint_ntfs_hiberfile_hibernated (const guint8 *head, gsize len);

typedef enum {
  IMPRINT_NTFS_REFUSE_BITLOCKER    = 1 << 0,
  IMPRINT_NTFS_REFUSE_HIBERNATED   = 1 << 1,
  IMPRINT_NTFS_REFUSE_DIRTY        = 1 << 2,
  IMPRINT_NTFS_REFUSE_CHECK_ERRORS = 1 << 3,
  IMPRINT_NTFS_REFUSE_TOO_FULL     = 1 << 4,
} ImprintNtfsRefusals;

#define IMPRINT_NTFS_REFUSE_LAST IMPRINT_NTFS_REFUSE_TOO_FULL

/* The smallest partition size Imprint shrinks NTFS to: ntfsresize's
 * minimum plus room for Windows to keep running (a tenth, at least
 * 64 MiB), 1 MiB aligned. 0 when @info is not complete. */
guint64 imprint_ntfs_floor_size (const ImprintNtfsInfo *info);

/* Why a partition of @part_size cannot give @need bytes (0: any room at
 * all). @info may be NULL when the tools were not run (BitLocker). */
ImprintNtfsRefusals imprint_ntfs_refusals (const ImprintNtfsInfo *info, gboolean bitlocker,
                                           gboolean hibernated, guint64 part_size, guint64 need);

/* "bitlocker", "hibernated", "dirty", "check-errors", "too-full" for one flag. */
const char *imprint_ntfs_refusal_code (ImprintNtfsRefusals one);
/* One translated sentence saying what to do in Windows, for one flag. */
const char *imprint_ntfs_refusal_sentence (ImprintNtfsRefusals one);
/* Both lists for all flags set in @r, in flag order (strings borrowed). */
void imprint_ntfs_refusals_describe (ImprintNtfsRefusals r, GPtrArray *ret_codes, GPtrArray *ret_words);

G_END_DECLS
