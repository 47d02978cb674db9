/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The whole install, in steps:
 *   plan (unless given) -> write the partition table (A slot "_empty")
 *   -> ESP (block copy; or boot files into an existing ESP, UKIs into a
 *      new XBOOTLDR when it is too small)
 *   -> usr + usr-verity + usr-verity-sig streamed and verified against the
 *      root hash -> relabel the A slot with its version
 *   -> data partitions via systemd-repart (or deferred to first boot)
 *   -> EFI boot entry when efivars are writable (the removable fallback
 *      \EFI\BOOT\BOOTX64.EFI is always in the ESP).
 * A cancelled, failed or killed run never leaves a slot with a version
 * label; running the same install again works. */

#include <gio/gio.h>

#include "copy.h"
#include "plan.h"
#include "source.h"

G_BEGIN_DECLS

typedef struct {
  const char *target;        /* the disk or image file */
  guint       number;        /* GPT partition number, 1-based */
  const char *uuid;
  guint64     offset;        /* bytes */
  guint64     size;          /* bytes */
  const char *node;          /* partition device node when the target is a
                              * block device and the node exists, else NULL */
  const char *definition;    /* the original repart.d file of the root: the
                              * hook honours its Format=, Label=,
                              * MakeDirectories=, Encrypt= */
} ImprintRootPartition;

/* Encryption hook: called once the data partitions exist, with the root
 * partition (Discoverable Partitions root type of the architecture) that
 * systemd-repart created WITHOUT encryption and without a file system
 * (Encrypt=, Format=, MakeDirectories= and CopyFiles= are stripped from the
 * root definition when a hook is set). The hook LUKS2-formats and enrolls
 * it, makes the file system and the directories. Without a hook the root
 * definition's Encrypt= is systemd-repart's business.
 *
 * Data partitions: the repart.d definitions minus those of the partitions
 * Imprint writes itself (ESP, XBOOTLDR, usr A/B slots: same files as first
 * boot and factory reset use, repart leaves unmatched partitions alone). */
typedef gboolean (*ImprintEncryptRootFunc) (const ImprintRootPartition *root,
                                            gpointer                    user_data,
                                            GError                    **error);

typedef struct {
  ImprintPlanOptions     plan;          /* mode, defer, definitions, headroom */
  ImprintProgressFunc    progress;      /* may be NULL */
  gpointer               progress_data;
  GCancellable          *cancellable;   /* may be NULL */
  ImprintEncryptRootFunc encrypt_root;  /* may be NULL */
  gpointer               encrypt_root_data;
  gboolean               no_boot_entry; /* do not touch EFI variables */
  /* Read and verify the whole usr partition before writing anything, so a
   * tampered source is refused with the target untouched (costs one more
   * read of usr). Without it a bad block stops the copy mid-way, with the
   * A slot still "_empty". */
  gboolean               verify_source_first;
  const char            *efivars_dir;   /* NULL: /sys/firmware/efi/efivars */
} ImprintInstallOptions;

/* Runs the whole install of @source onto @target. When @plan is NULL it is
 * computed from @options->plan. Errors carry IMPRINT_ERROR codes:
 * SOURCE_INVALID (verification failed), NO_SPACE, CANCELLED, ... */
gboolean imprint_install (ImprintSource               *source,
                          const char                  *target,
                          ImprintPlan                 *plan,
                          const ImprintInstallOptions *options,
                          GError                     **error);

/* The translated step texts reported through the progress callback. */
const char *imprint_install_step_text (guint step);

enum {
  IMPRINT_STEP_VERIFY_SOURCE,
  IMPRINT_STEP_PLAN,
  IMPRINT_STEP_PARTITION,
  IMPRINT_STEP_ESP,
  IMPRINT_STEP_USR,
  IMPRINT_STEP_USR_VERITY,
  IMPRINT_STEP_USR_VERITY_SIG,
  IMPRINT_STEP_LABEL,
  IMPRINT_STEP_DATA,
  IMPRINT_STEP_ENCRYPT,
  IMPRINT_STEP_BOOT_ENTRY,
  IMPRINT_STEP_DONE,
};

G_END_DECLS
