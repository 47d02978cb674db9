/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers shared inside the engine (plan*.c, install.c); not its API. */

#include <gio/gio.h>

#include "plan.h"

G_BEGIN_DECLS

#define MiB (1024ull * 1024ull)
#define ALIGN_UP(x, a) (((x) + (a) - 1) / (a) * (a))
#define ALIGN_DOWN(x, a) ((x) / (a) * (a))
/* What systemd-repart makes (and allows) for a verity signature partition. */
#define SIG_SIZE (16ull * 1024ull)

/* Runs @argv (PATH search, C locale) and captures stdout; a non-zero exit
 * becomes IMPRINT_ERROR_FAILED carrying the program's stderr. */
gboolean imprint_run (const char *const *argv, char **ret_stdout, GError **error);

/* Used and free bytes of the FAT file system at @offset of @image (mtools). */
gboolean imprint_vfat_usage (const char *image, guint64 offset, guint64 *ret_used,
                             guint64 *ret_free, GError **error);

/* Type GUID for a systemd-repart type name ("root-x86-64", "esp"...). */
const char *imprint_gpt_type_uuid_from_name (const char *name);

/* A new partition in @plan (number not yet set: imprint_plan_next_number). */
ImprintPlanPartition *imprint_plan_add_partition (ImprintPlan *plan, const char *type, const char *label,
                                                  const char *uuid, guint64 start, guint64 size,
                                                  ImprintPlanAction action, ImprintPlanContent content);
/* Lowest GPT partition number not used by a kept or planned partition. */
guint imprint_plan_next_number (ImprintPlan *plan);

typedef struct {
  guint64 usr, verity, sig;
} ImprintSlotSizes;

/* The A and B slots from *@cursor on (advanced past them). */
void    imprint_plan_add_slots  (ImprintPlan *plan, ImprintSource *src, const ImprintSlotSizes *sz,
                                 guint64 *cursor);
/* Adds an existing partition to what the plan destroys (plan->erased). */
void    imprint_plan_add_erased (ImprintPlan *plan, const ImprintPartition *o);
/* Bytes both slots take, alignment gaps included. */
guint64 imprint_plan_slots_size (const ImprintSlotSizes *sz);
/* UUID of a B slot partition ("usr", "usr-verity", "usr-verity-sig"),
 * derived from the root hash, so a rerun recognises what it made. */
char   *imprint_plan_b_slot_uuid (ImprintSource *src, const char *what);
/* IMPRINT_ERROR_NO_SPACE saying how much is needed and there is; FALSE. */
gboolean imprint_plan_too_small (ImprintPlan *plan, guint64 need, guint64 have, GError **error);
/* Free-space mode: keeps what is there, reuses or adds boot partitions,
 * puts the slots in the largest gap. */
gboolean imprint_plan_free_space (ImprintPlan *plan, ImprintSource *src, const ImprintSlotSizes *sizes,
                                  const ImprintPlanOptions *o, int fd, GError **error);
/* Free-space mode: when @o asks for it, checks that the kept NTFS
 * partition can shrink to what @o says (ntfsresize read-only through a
 * loop device over @fd, the target) and plans it (plan->shrink, its new
 * size); the gap that frees is then found like any other. */
gboolean imprint_plan_shrink (ImprintPlan *plan, int fd, const ImprintPlanOptions *o, GError **error);

/* plan->definitions, ->definitions_source and ->definitions_dir: the
 * caller's directory when @o names one, else what the source's /usr ships
 * (the running system's own /usr when it is the source, else the image's,
 * read through dm-verity: usr-definitions.h). */
gboolean imprint_plan_load_definitions (ImprintPlan *plan, ImprintSource *src,
                                        const ImprintPlanOptions *o, GError **error);

/* SizeMinBytes= of the second definition of each usr kind (the B slot, in
 * file name order as systemd-repart matches them), 0 where there is none. */
void imprint_plan_definition_slot_sizes (const ImprintPlan *plan, ImprintSlotSizes *ret);

/* systemd-repart's dry run on a scratch copy of the planned table: adds
 * the data partitions it would create. Nothing when they are deferred. */
gboolean imprint_plan_repart (ImprintPlan *plan, GError **error);

/* Writes plan->definitions for systemd-repart into a new temporary
 * directory (returned; the caller removes it): without the partitions
 * Imprint writes itself (ESP, XBOOTLDR, usr slots), and with @for_hook the
 * root definition without Encrypt=, Format=, MakeDirectories=, CopyFiles=;
 * its whole text then goes to @ret_root_definition, a file beside them
 * that systemd-repart does not read (no .conf). */
char *imprint_prepare_definitions (const ImprintPlan *plan, gboolean for_hook,
                                   char **ret_root_definition, GError **error);

G_END_DECLS
