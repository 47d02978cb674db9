/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <libfdisk.h>
#include <sys/stat.h>

#include "efi-boot.h"
#include "imprint-error.h"
#include "install.h"
#include "install-esp.h"
#include "install-shrink.h"
#include "macros.h"
#include "plan-private.h"
#include "source-once.h"
#include "target-lock.h"

#define MiB (1024ull * 1024ull)

const char *
imprint_install_step_text (guint step)
{
  switch (step)
    {
    case IMPRINT_STEP_VERIFY_SOURCE:  return _("Checking the installation source");
    case IMPRINT_STEP_PLAN:           return _("Planning the installation");
    case IMPRINT_STEP_PARTITION:      return _("Partitioning the disk");
    case IMPRINT_STEP_ESP:            return _("Copying the boot loader");
    case IMPRINT_STEP_USR:            return _("Copying the system");
    case IMPRINT_STEP_USR_VERITY:     return _("Copying the system’s verity hashes");
    case IMPRINT_STEP_USR_VERITY_SIG: return _("Copying the system’s signature");
    case IMPRINT_STEP_LABEL:          return _("Marking the system as installed");
    case IMPRINT_STEP_DATA:           return _("Creating the data partitions");
    case IMPRINT_STEP_ENCRYPT:        return _("Encrypting the data partition");
    case IMPRINT_STEP_BOOT_ENTRY:     return _("Registering the boot entry");
    case IMPRINT_STEP_DONE:           return _("Done");
    case IMPRINT_STEP_SHRINK:         return _("Shrinking Windows to make room");
    }
  return "";
}

static gboolean
check_cancel (GCancellable *c, GError **error)
{
  if (g_cancellable_is_cancelled (c))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED, _("The installation was cancelled"));
      return FALSE;
    }
  return TRUE;
}

/* Stale signatures at the start of a new empty partition would make blkid
 * (and sysupdate) take it for something it is not. */
static gboolean
wipe_start (int fd, guint64 offset, guint64 size, GError **error)
{
  size_t len = (size_t) MIN (size, MiB);
  g_autofree void *zero = NULL;

  if (posix_memalign (&zero, 4096, MiB) != 0)
    return FALSE;
  memset (zero, 0, MiB);
  if (pwrite (fd, zero, len, (off_t) offset) != (ssize_t) len)
    {
      int err = errno;
      g_set_error (error, IMPRINT_ERROR, err == ENOSPC ? IMPRINT_ERROR_NO_SPACE : IMPRINT_ERROR_FAILED,
                   _("Cannot clear a new partition: %s"), g_strerror (err));
      return FALSE;
    }
  return TRUE;
}

static void
fdisk_unref_contextp (struct fdisk_context **c) { if (*c) fdisk_unref_context (*c); }

/* Direct I/O for the bulk copy (keeps gigabytes out of the page cache);
 * off for libfdisk, whose buffers are not aligned for it. File systems
 * without direct I/O (tmpfs) refuse the flag: buffered then. */
static void
set_direct_io (int fd, gboolean on)
{
  int fl = fcntl (fd, F_GETFL);

  if (fl >= 0)
    (void) fcntl (fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT);
}

/* The end of the job, with the disk locked again: the A slot is still
 * what was copied and labelled (nothing that ran while the lock was
 * given up for systemd-repart and the encryption moved or renamed it). */
static gboolean
verify_final_table (ImprintPlan *plan, const char *target, GError **error)
{
  ImprintPlanPartition *slot[] = { plan->verity_a, plan->sig_a, plan->usr_a };
  g_autoptr(GPtrArray) parts = NULL;
  int r = imprint_read_gpt (target, NULL, NULL, &parts, error);

  if (r < 0)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (slot); i++)
    {
      gboolean found = FALSE;
      for (guint k = 0; r > 0 && k < parts->len && !found; k++)
        {
          ImprintPartition *q = parts->pdata[k];
          found = q->partno + 1 == slot[i]->number && q->offset == slot[i]->start &&
                  q->size == slot[i]->size && g_strcmp0 (q->label, slot[i]->final_label) == 0 &&
                  g_ascii_strcasecmp (q->uuid, slot[i]->uuid) == 0;
        }
      if (!found)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                       _("The installed system’s partition %u on %s changed after it was written"),
                       slot[i]->number, target);
          return FALSE;
        }
    }
  return TRUE;
}

/* Gives the A slot its real labels in one partition table write, after all
 * three partitions were verified and flushed. */
static gboolean
relabel (int fd, const char *target, ImprintPlanPartition *const *parts, guint n, GError **error)
{
  _cleanup_(fdisk_unref_contextp) struct fdisk_context *cxt = fdisk_new_context ();
  int r;

  if (cxt == NULL)
    return FALSE;
  /* The job's locked fd: nobody gets the disk between the verified copy
   * and its label. */
  r = fdisk_assign_device_by_fd (cxt, fd, target, 0);
  for (guint i = 0; r >= 0 && i < n; i++)
    {
      struct fdisk_partition *pa = fdisk_new_partition ();
      fdisk_partition_set_name (pa, parts[i]->final_label);
      r = fdisk_set_partition (cxt, parts[i]->number - 1, pa);
      fdisk_unref_partition (pa);
    }
  if (r >= 0)
    r = fdisk_write_disklabel (cxt);
  if (r >= 0)
    r = fdisk_deassign_device (cxt, 0);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Cannot label the installed system on %s: %s"), target, g_strerror (-r));
      return FALSE;
    }
  return TRUE;
}

/* @cached: the verify-first pass read usr through the page cache; the copy
 * takes it from there and lets it go afterwards. */
static gboolean
copy_slot (ImprintSource *src, ImprintPlan *plan, int fd, gboolean cached, ImprintProgress *progress,
           GError **error)
{
  size_t tree_size = 0;
  const guint8 *tree = imprint_verity_tree_bytes (src->tree, &tree_size);
  gboolean ok;

  /* The data, each block checked against the (already verified) tree. */
  imprint_verity_tree_reset (src->tree);
  imprint_progress_step (progress, imprint_install_step_text (IMPRINT_STEP_USR));
  ImprintCopyJob usr = {
    .src_fd = src->fd, .src_offset = src->usr.offset,
    .dst_fd = fd, .dst_offset = plan->usr_a->start,
    .length = src->usr.size, .what = _("system partition"),
    .verify_tree = src->tree, .src_buffered = cached,
  };
  ok = imprint_copy (&usr, progress, error);
  if (cached)
    posix_fadvise (src->fd, (off_t) src->usr.offset, (off_t) src->usr.size, POSIX_FADV_DONTNEED);
  if (!ok)
    return FALSE;

  /* The hash partition must be byte for byte the tree that was verified. */
  imprint_progress_step (progress, imprint_install_step_text (IMPRINT_STEP_USR_VERITY));
  ImprintCopyJob ver = {
    .src_fd = src->fd, .src_offset = src->usr_verity.offset,
    .dst_fd = fd, .dst_offset = plan->verity_a->start,
    .length = src->usr_verity.size, .what = _("verity hash partition"),
    .expect = tree, .expect_size = tree_size, .expect_is_source = TRUE,
  };
  if (!imprint_copy (&ver, progress, error))
    return FALSE;

  imprint_progress_step (progress, imprint_install_step_text (IMPRINT_STEP_USR_VERITY_SIG));
  ImprintCopyJob sig = {
    .src_fd = src->fd, .src_offset = src->usr_verity_sig.offset,
    .dst_fd = fd, .dst_offset = plan->sig_a->start,
    .length = src->usr_verity_sig.size, .what = _("verity signature partition"),
    .expect = (const guint8 *) src->signature_json, .expect_size = strlen (src->signature_json),
  };
  return imprint_copy (&sig, progress, error);
}

/* The partition table (A slot "_empty"), the start of every new empty
 * partition cleared, the boot files. */
static gboolean
write_table_and_boot (ImprintSource *src, ImprintPlan *plan, int fd, const char *target,
                      ImprintProgress *progress, GCancellable *cancellable, GError **error)
{
  imprint_progress_step (progress, imprint_install_step_text (IMPRINT_STEP_PARTITION));
  set_direct_io (fd, FALSE);
  if (!imprint_plan_write_table_fd (plan, fd, target, error))
    return FALSE;

  set_direct_io (fd, TRUE);
  for (guint i = 0; i < plan->partitions->len; i++)
    {
      ImprintPlanPartition *p = plan->partitions->pdata[i];
      if (p->action == IMPRINT_PLAN_CREATE && p->content == IMPRINT_CONTENT_NONE &&
          !wipe_start (fd, p->start, p->size, error))
        return FALSE;
    }

  return check_cancel (cancellable, error) &&
         imprint_install_esp (src, plan, fd, progress, error) &&
         imprint_install_fallback (plan, error) &&
         check_cancel (cancellable, error);
}

static gboolean
make_data_partitions (ImprintPlan *plan, const ImprintInstallOptions *o, ImprintProgress *progress,
                      GError **error)
{
  g_autofree char *defs = NULL;
  g_autofree char *defs_arg = NULL;
  gboolean ok = FALSE;

  g_autofree char *root_def = NULL;
  gboolean encrypt = o->encryption != NULL || o->encrypt_root_test_hook != NULL;
  defs = imprint_prepare_definitions (plan, encrypt, &root_def, error);
  if (defs == NULL)
    return FALSE;
  defs_arg = g_strdup_printf ("--definitions=%s", defs);
  const char *argv[] = { "systemd-repart", "--no-pager", "--dry-run=no", "--empty=refuse",
                         "--seed=random", "--discard=no", defs_arg, plan->target, NULL };
  if (!imprint_run (argv, NULL, error))
    goto out;

  if (encrypt)
    {
      g_autoptr(GPtrArray) parts = NULL;
      ImprintPartition *root = NULL;
      int r = imprint_read_gpt (plan->target, NULL, NULL, &parts, error);
      if (r == 0)
        g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                     _("The partition table of %s disappeared"), plan->target);
      if (r <= 0)
        goto out;
      for (guint i = 0; i < parts->len; i++)
        {
          ImprintPartition *p = parts->pdata[i];
          if (g_str_equal (p->type, imprint_gpt_type_root_native ()))
            root = p;
        }
      if (root == NULL)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_FOUND,
                       _("The partition definitions created no root partition to encrypt"));
          goto out;
        }
      g_autofree char *node = imprint_plan_partition_node (plan, root->partno + 1);
      ImprintRootPartition rp = {
        .target = plan->target, .number = root->partno + 1, .uuid = root->uuid,
        .offset = root->offset, .size = root->size, .node = node, .definition = root_def,
      };
      imprint_progress_step (progress, imprint_install_step_text (IMPRINT_STEP_ENCRYPT));
      if (o->encryption != NULL ? !imprint_root_encrypt (&rp, o->encryption, error)
                                : !o->encrypt_root_test_hook (&rp, NULL, error))
        goto out;
    }
  ok = TRUE;
out:
  if (defs)
    {
      const char *rm[] = { "rm", "-rf", defs, NULL };
      imprint_run (rm, NULL, NULL);
    }
  return ok;
}

static gboolean
register_boot_entry (ImprintSource *src, ImprintPlan *plan, const ImprintInstallOptions *o, GError **error)
{
  const char *dir = o->efivars_dir ? o->efivars_dir : IMPRINT_EFIVARS_DIR;
  g_autofree char *desc = NULL;
  g_autoptr(GBytes) opt = NULL;
  g_autoptr(GError) local = NULL;
  guint32 ss = plan->sector_size ? plan->sector_size : 512;

  if (o->no_boot_entry || access (dir, W_OK) < 0)
    return TRUE; /* the removable fallback path in the ESP still boots it */
  desc = g_strdup_printf ("%s", src->name);
  opt = imprint_efi_load_option_new (desc, plan->esp->number, plan->esp->start / ss,
                                     plan->esp->size / ss, plan->esp->uuid, IMPRINT_SYSTEMD_BOOT_PATH);
  if (!imprint_efi_register_boot_entry (dir, opt, NULL, &local))
    {
      /* Not fatal: firmware that forgets or refuses variables still boots
       * the fallback path. */
      g_warning ("%s", local->message);
    }
  return TRUE;
}

/* Longer than our ~80 lines on purpose: it is the install's sequence of
 * steps (lock, plan, table, ESP, slot, label, data partitions, check,
 * boot entry), each one a call, and the order and the lock hand-over
 * around systemd-repart are easiest to check read top to bottom. */
gboolean
imprint_install (ImprintSource *src, const char *target, ImprintPlan *plan_in,
                 const ImprintInstallOptions *o, GError **error)
{
  ImprintInstallOptions noopts = { 0 };
  g_autoptr(ImprintPlan) owned = NULL;
  g_autoptr(ImprintTargetLock) own_lock = NULL;
  ImprintTargetLock *lock;
  ImprintPlan *plan = plan_in;
  ImprintProgress progress = { 0 };
  int fd;

  if (o == NULL)
    o = &noopts;
  progress.func = o->progress;
  progress.user_data = o->progress_data;
  progress.cancellable = o->cancellable;

  /* One job per disk: the target is opened once, exclusively and
   * flock()ed, before anything is read to plan or written, and stays so
   * to the end (target-lock.h). */
  lock = o->plan.target_lock;
  if (lock == NULL)
    {
      own_lock = imprint_target_lock_acquire (target, IMPRINT_TARGET_LOCK_DEVICE, error);
      if (own_lock == NULL)
        return FALSE;
      lock = own_lock;
    }
  if (!imprint_target_lock_ensure (lock, error))
    return FALSE;
  fd = imprint_target_lock_get_fd (lock);

  if (plan == NULL)
    {
      ImprintPlanOptions popts = o->plan;
      imprint_progress_step (&progress, imprint_install_step_text (IMPRINT_STEP_PLAN));
      popts.target_lock = lock;
      owned = imprint_plan_compute (src, target, &popts, error);
      if (owned == NULL)
        return FALSE;
      plan = owned;
    }
  progress.total = src->esp.size + src->usr.size + src->usr_verity.size + src->usr_verity_sig.size +
                   imprint_install_shrink_work (plan);

  /* Each source byte read once (source-once.h): where the install
   * overwrites nothing, the slot is streamed first, verified in flight,
   * and the table and boot files follow only once it verified. Where it
   * overwrites data, verify-first reads usr before anything is written,
   * through the page cache when it fits, for the copy to take from there. */
  gboolean slot_first = !plan->overwrites_data;
  gboolean verify_pass = o->verify_source_first && plan->overwrites_data;
  gboolean cached = verify_pass && src->usr.size <= imprint_source_cache_budget ();

  if (verify_pass)
    {
      /* Counted in the total too, so the bar does not go backwards. */
      progress.total += src->usr.size;
      imprint_progress_step (&progress, imprint_install_step_text (IMPRINT_STEP_VERIFY_SOURCE));
      if (!imprint_source_verify_cached (src, cached, &progress, error))
        return FALSE;
    }

  if (!check_cancel (o->cancellable, error))
    return FALSE;

  /* Room beside Windows first, before any partition of ours exists: a
   * refusal or failure leaves the disk as it was (install-shrink.h). The
   * slot streamed first (below) goes into the room it makes. */
  set_direct_io (fd, FALSE);
  if (!imprint_install_shrink (plan, fd, &progress, error) || !check_cancel (o->cancellable, error))
    return FALSE;

  if (slot_first)
    {
      set_direct_io (fd, TRUE);
      if (!copy_slot (src, plan, fd, FALSE, &progress, error) || !check_cancel (o->cancellable, error))
        return FALSE;
    }
  if (!write_table_and_boot (src, plan, fd, target, &progress, o->cancellable, error))
    return FALSE;
  if (!slot_first &&
      (!copy_slot (src, plan, fd, cached, &progress, error) || !check_cancel (o->cancellable, error)))
    return FALSE;

  /* Everything verified and on disk: now the slot may carry its version. */
  imprint_progress_step (&progress, imprint_install_step_text (IMPRINT_STEP_LABEL));
  ImprintPlanPartition *slot[] = { plan->verity_a, plan->sig_a, plan->usr_a };
  set_direct_io (fd, FALSE);
  if (fdatasync (fd) < 0 && errno != EINVAL)
    {
      int err = errno;
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (-err),
                   _("Cannot flush the target %s: %s"), target, g_strerror (err));
      return FALSE;
    }
  if (!relabel (fd, target, slot, G_N_ELEMENTS (slot), error))
    return FALSE;

  if (!plan->defer_data_partitions)
    {
      imprint_progress_step (&progress, imprint_install_step_text (IMPRINT_STEP_DATA));
      /* systemd-repart takes a blocking flock(LOCK_EX) on the device it
       * works on (252: on block devices, before its libfdisk open with
       * O_EXCL; 253 and later on image files too, src/partition/repart.c
       * context_open_and_lock_backing_fd()), and has no option to skip
       * it: run while we hold ours, it would wait for us forever, and our
       * O_EXCL would make its exclusive open fail. The encryption
       * (install-root.c) that follows claims the new root partition exclusively (device
       * mapper, mkfs) and libcryptsetup flock()s an image file for its
       * metadata. So for this step the kernel-level locks are handed over:
       * repart holds its own LOCK_EX while it writes, the in-process busy
       * registry keeps every other imprintd job off the disk, and the
       * locks are taken again (same disk or file, checked) before the
       * final check. */
      imprint_target_lock_suspend (lock);
      if (!make_data_partitions (plan, o, &progress, error))
        return FALSE;
      if (!imprint_target_lock_resume (lock, error))
        return FALSE;
    }

  if (!verify_final_table (plan, target, error))
    return FALSE;

  imprint_progress_step (&progress, imprint_install_step_text (IMPRINT_STEP_BOOT_ENTRY));
  if (!register_boot_entry (src, plan, o, error))
    return FALSE;

  imprint_progress_step (&progress, imprint_install_step_text (IMPRINT_STEP_DONE));
  return TRUE;
}
