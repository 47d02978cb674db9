/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The install plan: which partitions the target disk gets, where, and
 * where their contents come from. Computing it writes nothing (the dry
 * run the GUI shows and `imprintctl install --dry-run` prints); writing the
 * partition table is a separate step (imprint_plan_write_table). */

#include <gio/gio.h>

#include "source.h"

G_BEGIN_DECLS

typedef enum {
  IMPRINT_INSTALL_MODE_ERASE,      /* a new GPT over the whole disk */
  IMPRINT_INSTALL_MODE_FREE_SPACE, /* keep what is there, use free space */
} ImprintInstallMode;

typedef enum {
  IMPRINT_PLAN_CREATE,
  IMPRINT_PLAN_KEEP,
  IMPRINT_PLAN_DELETE,
} ImprintPlanAction;

typedef enum {
  IMPRINT_CONTENT_NONE,            /* created empty (B slot, "_empty") */
  IMPRINT_CONTENT_EXISTING,        /* kept as it is */
  IMPRINT_CONTENT_ESP,             /* block copy of the source ESP */
  IMPRINT_CONTENT_ESP_FILES,       /* existing ESP reused: boot files copied in */
  IMPRINT_CONTENT_XBOOTLDR,        /* new vfat XBOOTLDR holding the UKIs */
  IMPRINT_CONTENT_USR,             /* verified block copy, A slot */
  IMPRINT_CONTENT_USR_VERITY,
  IMPRINT_CONTENT_USR_VERITY_SIG,
  IMPRINT_CONTENT_REPART,          /* created by systemd-repart from repart.d */
} ImprintPlanContent;

/* Whose repart.d definitions the data partitions come from. */
typedef enum {
  IMPRINT_DEFINITIONS_CALLER,          /* the directory the caller named */
  IMPRINT_DEFINITIONS_RUNNING_SYSTEM,  /* this system's /usr: it is the source */
  IMPRINT_DEFINITIONS_SOURCE_IMAGE,    /* the source image's /usr, read through dm-verity */
} ImprintDefinitionsSource;

/* What a kept ESP or XBOOTLDR gets (IMPRINT_CONTENT_ESP_FILES). */
typedef enum {
  IMPRINT_BOOT_FILES_LOADER  = 1 << 0,  /* systemd-boot */
  IMPRINT_BOOT_FILES_KERNELS = 1 << 1,  /* the source's UKIs */
} ImprintBootFiles;

typedef struct {
  guint              number;      /* GPT partition number, 1-based */
  char              *type;        /* type GUID, lower case */
  char              *type_name;   /* "esp", "usr-x86-64", "root-x86-64", ... */
  char              *label;       /* label written with the table */
  char              *final_label; /* label after verification (A slot), else NULL */
  char              *uuid;
  guint64            attrs;       /* GPT attribute bits */
  guint64            start;       /* bytes */
  guint64            size;        /* bytes */
  ImprintPlanAction  action;
  ImprintPlanContent content;
  ImprintBootFiles   boot_files;  /* IMPRINT_CONTENT_ESP_FILES: what is added */
  char              *definition;  /* IMPRINT_CONTENT_REPART: the repart.d file name */
  gboolean           leftover;    /* DELETE: left over from an interrupted run */
} ImprintPlanPartition;

typedef struct {
  ImprintInstallMode mode;
  char       *target;              /* reaches the target (may be /proc/PID/fd/N) */
  char       *target_display;      /* the name the caller gave, for people */
  gboolean    target_is_block;
  guint64     target_size;
  guint32     sector_size;
  char       *disk_uuid;           /* of the (new or kept) GPT */
  gboolean    defer_data_partitions;
  /* The repart.d definitions (ImprintRepartDefinition*, repart-definition.h)
   * the data partitions come from, whose they are, and the directory they
   * were read from (for the image: the path inside its /usr). */
  GPtrArray  *definitions;
  ImprintDefinitionsSource definitions_source;
  char       *definitions_dir;
  char       *definitions_display; /* definitions_dir as the caller named it */

  GPtrArray  *partitions;          /* ImprintPlanPartition*, by number */
  /* What will be destroyed besides (erase mode) the whole target:
   * ImprintPlanPartition* (number, label, type_name, size). */
  GPtrArray  *erased;

  /* Shortcuts into partitions (not owned); NULL when absent. */
  ImprintPlanPartition *esp, *xbootldr, *usr_a, *verity_a, *sig_a, *usr_b, *verity_b, *sig_b;
  guint64 esp_files_size;          /* bytes the boot files need (free-space mode) */
  /* The install writes over data: an erase of a disk or image that holds
   * any (imprint_target_holds_data()). FALSE in free-space mode, whose
   * slot goes into space that holds nothing. Decides whether verify-first
   * needs a pass of its own (source-once.h). */
  gboolean overwrites_data;
  /* Free-space mode making room first (plan-shrink.c): the kept NTFS
   * partition shrunk before anything else is written (its size above is
   * the new one), its size before and the bytes in use on it. */
  ImprintPlanPartition *shrink;
  guint64 shrink_from;
  guint64 shrink_used;
} ImprintPlan;

typedef struct {
  ImprintInstallMode mode;
  gboolean    defer_data_partitions;  /* OEM mode: data partitions at first boot */
  /* The caller's repart.d (a private snapshot imprintd made); NULL: what
   * the source's /usr ships, read verified (the running system's own when
   * it is the source). */
  const char *definitions_dir;
  /* The caller's name for definitions_dir (not the snapshot's), for
   * people; NULL: definitions_dir. */
  const char *definitions_display;
  const char *target_display;         /* the target's name in texts; NULL: the path */
  /* Slot size (A and B alike): the SizeMinBytes= of the B slot definitions
   * in definitions_dir when they have one (the OS fixes its slot sizes),
   * else max(A size * headroom_percent / 100, A size + min_headroom);
   * never less than the source's partition; 1 MiB aligned. 0 means the
   * defaults (150 %, 64 MiB). */
  guint       headroom_percent;
  guint64     min_headroom;
  /* The job's lock on the target (target-lock.h), may be NULL: when set,
   * the target is looked at through it (a second O_EXCL open of a disk
   * the job already holds would fail). */
  struct _ImprintTargetLock *target_lock;
  /* Free-space mode: make room by shrinking the NTFS file system of the
   * kept partition with this GPT number (1-based; 0: none) and then its
   * partition entry to shrink_size bytes (rounded down so the partition
   * ends on a MiB). Refused in the plan, before anything is written, when
   * the volume is BitLocker, hibernated, dirty, has errors, or cannot get
   * that small (ntfs-facts.h). */
  guint       shrink_partition;
  guint64     shrink_size;
} ImprintPlanOptions;

/* Computes the plan for installing @source onto @target (block device or
 * image file). Writes nothing: the target is opened read-only. Runs `systemd-repart --dry-run=yes` on a
 * sparse scratch copy of the planned table to list the data partitions.
 * IMPRINT_ERROR_NO_SPACE when the target is too small (the message says
 * how much is needed and how much there is). */
ImprintPlan *imprint_plan_compute (ImprintSource            *source,
                                   const char               *target,
                                   const ImprintPlanOptions *options,
                                   GError                  **error);

/* The plan as PlanInstall returns it (data/dev.imprint.Imprint1.xml,
 * built through ImprintPlanInfo, imprint-request.h): facts, and the older
 * keys worded from them by imprint-plan-words.h.
 * a{sv} with "partitions" aa{sv} (number u, type s, type-name s, label s,
 * uuid s, start t, size t, source s, action s, content s, definition s,
 * adds-boot-loader b, adds-kernel-images b, leftover b), "erased" as,
 * "erased-partitions" aa{sv}, "summary" s,
 * plus "mode" s, "target" s, "target-size" t, "defer-data-partitions" b,
 * "version" s, "name" s, "definitions-source" s ("caller-directory",
 * "running-system", "source-image") and "definitions-directory" s.
 * Floating reference. */
/* The device node of partition @number of a block device target
 * ("/dev/vda2", "/dev/nvme0n1p2"), NULL for image files, number 0 or a node
 * that does not exist. */
char *imprint_plan_partition_node (const ImprintPlan *plan, guint number);

GVariant *imprint_plan_to_variant (const ImprintPlan *plan,
                                   const ImprintSource *source);

/* Writes the planned partition table (only the partitions Imprint creates,
 * not the repart ones) to @path (the target, or a scratch file of the same
 * size), with the A slot labelled "_empty". Erase mode creates a new GPT;
 * free-space mode deletes what the plan deletes and adds the rest. */
gboolean imprint_plan_write_table (const ImprintPlan *plan,
                                   const char        *path,
                                   GError           **error);
/* The same through @fd, open read-write on @path (without O_DIRECT:
 * libfdisk's buffers are not aligned for it), e.g. the job's locked fd. */
gboolean imprint_plan_write_table_fd (const ImprintPlan *plan,
                                      int                fd,
                                      const char        *path,
                                      GError           **error);

void imprint_plan_free (ImprintPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImprintPlan, imprint_plan_free)

const char *imprint_plan_action_to_string (ImprintPlanAction action);
const char *imprint_definitions_source_to_string (ImprintDefinitionsSource source);

G_END_DECLS
