/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The whole install, in steps:
 *   plan (unless given)
 *   -> where the install overwrites nothing (a blank disk, free space):
 *      usr + usr-verity + usr-verity-sig streamed into the planned A slot
 *      and verified against the root hash as they pass, BEFORE the table
 *      exists (a corrupt source leaves no table, no boot files);
 *      where it overwrites data and verify-first is on: usr read and
 *      verified first (source-once.h)
 *   -> write the partition table (A slot "_empty")
 *   -> ESP (block copy; or boot files into an existing ESP, UKIs into a
 *      new XBOOTLDR when it is too small)
 *   -> (overwriting data) the slot streamed and verified now
 *   -> relabel the A slot with its version
 *   -> data partitions via systemd-repart (or deferred to first boot),
 *      the root LUKS2-encrypted by install-root.h when asked
 *   -> EFI boot entry when efivars are writable (the removable fallback
 *      \EFI\BOOT\BOOTX64.EFI is always in the ESP).
 * A cancelled, failed or killed run never leaves a slot with a version
 * label; running the same install again works. */

#include <gio/gio.h>

#include "copy.h"
#include "handover.h"
#include "install-root.h"
#include "plan.h"
#include "source.h"
#include "target-lock.h"

G_BEGIN_DECLS

/* The encryption of the root (install-root.h). Once the data partitions
 * exist, the root partition (Discoverable Partitions root type of the
 * architecture) that systemd-repart created WITHOUT encryption and without
 * a file system (Encrypt=, Format=, MakeDirectories= and CopyFiles= are
 * stripped from the root definition when the install encrypts it) is
 * LUKS2-formatted and enrolled, with the file system and directories
 * inside: imprint_root_encrypt() with options->encryption. Without it the
 * root definition's Encrypt= is systemd-repart's business.
 *
 * Data partitions: the repart.d definitions minus those of the partitions
 * Imprint writes itself (ESP, XBOOTLDR, usr A/B slots: same files as first
 * boot and factory reset use, repart leaves unmatched partitions alone).
 *
 * Tests only: a function called instead of imprint_root_encrypt(), to see
 * which partition the step gets (imprint-engine-test-install). */
typedef gboolean (*ImprintEncryptRootTestFunc) (const ImprintRootPartition *root,
                                                gpointer                    user_data,
                                                GError                    **error);

typedef struct {
  ImprintPlanOptions     plan;          /* mode, defer, definitions, headroom */
  ImprintProgressFunc    progress;      /* may be NULL */
  gpointer               progress_data;
  GCancellable          *cancellable;   /* may be NULL */
  ImprintRootEncryption *encryption;    /* NULL: the root is not encrypted by us */
  ImprintEncryptRootTestFunc encrypt_root_test_hook;  /* tests only, see above */
  gboolean               no_boot_entry; /* do not touch EFI variables */
  /* A tampered source is refused before anything that holds data is
   * overwritten. Where the install overwrites data (ImprintPlan
   * .overwrites_data) that takes a read of usr before anything is written
   * (kept in the page cache for the copy when it fits, else usr is read
   * twice); elsewhere the slot is written first into space that holds
   * nothing and verified as it passes, and a bad block stops the install
   * before the table is written. Without it, a bad block stops the copy
   * mid-way with the A slot still "_empty". */
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

/* imprintd's Install job in one call: what the source, target and options
 * say, from the target lock to the boot entry. */
typedef struct {
  int         source_fd;          /* taken; -1: the running system */
  const char *source_io_path;     /* reaches source_fd (source.h) */
  const char *source_display;     /* the caller's name for it, for texts */
  ImprintSourceOptions source_options;
  /* A certificate or trusted root hash was given: the source's UKI must
   * boot the verified /usr (imprint_source_check_esp_uki()). */
  gboolean    check_esp_uki;
  const char *target;             /* reaches the target disk or image file */
  ImprintTargetLock *lock;        /* the target, taken for the whole run; may be NULL */
  ImprintInstallOptions options;  /* .encryption: its TPM2 key is picked from the source */

  /* The live handover (handover.h) once the install is complete: asked by
   * the caller, done only when the source is the running system and the
   * root was LUKS-formatted on its partition. It never fails the install:
   * what happened is in handover_result, and why it did not happen (or
   * what went wrong after the root moved) in handover_error. */
  gboolean handover;
  const ImprintReport *handover_report;   /* NULL: the run's report */
  ImprintHandoverResult handover_result;  /* out */
  char *handover_error;                   /* out, translated; NULL: it worked */
} ImprintInstallRun;

void imprint_install_run_clear (ImprintInstallRun *run);

/* Locks the target, inspects and checks the source, plans, picks the TPM2
 * policy key and installs (imprint_install()), saying each step through
 * @report. On success *ret_source and *ret_plan describe what was done. */
gboolean imprint_install_run (ImprintInstallRun   *run,
                              const ImprintReport *report,
                              ImprintSource      **ret_source,
                              ImprintPlan        **ret_plan,
                              GError             **error);

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
  IMPRINT_STEP_SHRINK,  /* first, when the plan shrinks Windows */
};

G_END_DECLS
