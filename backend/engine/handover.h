/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The live handover: after an install from a live session, that session
 * becomes the installed system without a restart.
 *
 *   1. the new LUKS2 root of the target is opened with the key the install
 *      just enrolled (it never leaves imprintd);
 *   2. the running root file system (btrfs on the RAM device the live
 *      stick's initrd made) moves onto it: btrfs device replace, its
 *      progress reported, then grown to the partition (resize max);
 *   3. the running /usr (a dm-verity device over the stick's partitions) is
 *      re-pointed at the installed A slot: same root hash, same table, other
 *      devices, by a device-mapper table reload + resume (libdevmapper:
 *      libcryptsetup's refresh covers LUKS and plain crypt, not verity);
 *      the ESP mounted from the stick is replaced by the installed one;
 *   4. the stick is released (the RAM device freed, a loop device detached).
 *
 * Before 2 completes nothing of the session changes, so a failure there
 * leaves it as it was. btrfs replace only lets go of the RAM device once
 * the copy is complete; a failed or cancelled replace keeps the session on
 * it. A failure after 2 leaves a consistent system whose root is already on
 * the disk; the reply says what remains on the stick.
 *
 * imprint_handover_probe() says whether this session can do it, and why
 * not, without changing anything (PlanInstall's reply, the installer's
 * choice between "continue in this session" and "set up the installed
 * disk"). */

#include <gio/gio.h>
#include <sys/types.h>

#include "imprint-report.h"
#include "plan.h"

G_BEGIN_DECLS

typedef struct {
  gboolean possible;
  char    *reason;          /* translated, when not possible */
  char    *root_device;     /* the device under "/" ("/dev/zram0") */
  guint64  root_devid;      /* its btrfs device id */
  guint64  root_size;       /* bytes btrfs uses on it */
  guint64  root_used;       /* bytes allocated on it */
  char    *usr_name;        /* the dm-verity device under /usr ("usr") */
  dev_t    usr_data;        /* its data and hash devices today */
  dev_t    usr_hash;
  char    *medium_disk;     /* the whole disk they are on ("sda") */
} ImprintHandoverProbe;

void imprint_handover_probe_clear (ImprintHandoverProbe *p);

/* Fills @ret (always: possible or the reason); FALSE only on unexpected
 * errors. @target_disk, when not NULL, is the target ("/dev/vda"): the
 * medium must be another disk. */
gboolean imprint_handover_probe (const char *target_disk, ImprintHandoverProbe *ret, GError **error);

typedef struct {
  const ImprintPlan   *plan;         /* the install just done */
  const char          *root_node;    /* the target's LUKS2 root partition node */
  const char          *key;          /* a passphrase of it (the recovery key) */
  const ImprintReport *report;       /* steps, 0..1 progress, log */
  GCancellable        *cancellable;  /* honoured until the replace completes */
} ImprintHandover;

typedef struct {
  gboolean root_moved;        /* "/" is on the disk */
  gboolean usr_moved;         /* /usr reads the installed A slot */
  gboolean boot_moved;        /* the ESP mounted is the installed one */
  gboolean medium_released;   /* nothing holds the stick */
  guint64  root_bytes;        /* bytes the replace copied */
  double   replace_seconds;
  char    *root_mapper;       /* "/dev/mapper/root" */
  char    *remaining;         /* translated: what still holds the stick */
} ImprintHandoverResult;

void imprint_handover_result_clear (ImprintHandoverResult *r);

/* See the top of this file. FALSE with @error when the session stayed as
 * it was (ret->root_moved FALSE) or when a later step failed (root_moved
 * TRUE: the caller must say the system runs from the disk, and what is
 * left on the stick). */
gboolean imprint_handover_run (const ImprintHandover *h, ImprintHandoverResult *ret, GError **error);

/* ---- parts, tested on their own ---- */

/* A dm-verity table line ("1 8:2 8:3 4096 4096 N 1 sha256 HASH SALT [n
 * opts]") with its data and hash devices replaced. Refused (-EOPNOTSUPP)
 * when it names devices other than those two (FEC) or carries a signature
 * key description (the kernel checked a signature the reload cannot give
 * again); -EINVAL when it is not a verity line. Bounded, no allocation
 * beyond the result. */
int imprint_verity_params_repoint (const char *params, dev_t new_data, dev_t new_hash,
                                   dev_t *ret_old_data, dev_t *ret_old_hash, char **ret);

/* Reads the single verity target of dm device @name: params and length. */
int imprint_dm_verity_table (const char *name, char **ret_params, guint64 *ret_sectors);

/* Loads @params as @name's new table (same length) and resumes it. */
int imprint_dm_reload (const char *name, guint64 sectors, const char *params);

/* btrfs: the single device of the file system @fd is on. */
int imprint_btrfs_single_device (int fd, guint64 *ret_devid, char **ret_path,
                                 guint64 *ret_size, guint64 *ret_used);

typedef void (*ImprintBtrfsProgress) (double fraction, void *userdata);

/* Replaces device @devid of the file system @fd is on by @target (a block
 * device node), reporting 0..1; @cancellable cancels the replace (the
 * file system stays on the old device: -ECANCELED). Write errors on the
 * target cancel it too (-ENXIO); -EREMOTEIO: it finished before the
 * cancel took, onto a target that reported write errors. */
int imprint_btrfs_replace (int fd, guint64 devid, const char *target,
                           ImprintBtrfsProgress progress, void *userdata,
                           GCancellable *cancellable);

/* BTRFS_IOC_RESIZE "devid:amount" ("max", or a size in bytes). */
int imprint_btrfs_resize (int fd, guint64 devid, const char *amount);

G_END_DECLS
