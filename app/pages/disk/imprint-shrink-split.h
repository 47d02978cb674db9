/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* "Install beside Windows": splits a disk between Windows' NTFS partition
 * and the new system, from ListDisks' "shrink" facts of that partition
 * (data/dev.imprint.Imprint1.xml). A keyboard-operable GtkScale sets how
 * much the new system gets; a sentence says both sizes in words. Emits
 * "changed" when the split moves. */
#define IMPRINT_TYPE_SHRINK_SPLIT (imprint_shrink_split_get_type ())
G_DECLARE_FINAL_TYPE (ImprintShrinkSplit, imprint_shrink_split, IMPRINT, SHRINK_SPLIT, GtkBox)

/* The smallest room the new system is offered (its partitions, an update
 * and room for files); the daemon checks the plan's own needs again. */
#define IMPRINT_SHRINK_NEW_SYSTEM_FLOOR (20 * G_GUINT64_CONSTANT (1073741824))
/* By default Windows keeps at least this much free above what it uses. */
#define IMPRINT_SHRINK_WINDOWS_SPARE    (20 * G_GUINT64_CONSTANT (1073741824))

GtkWidget *imprint_shrink_split_new               (void);
/* Takes @disk's NTFS partition that can make the most room. FALSE when
 * none can; then @ret_reasons (when not NULL) gets the refusal sentences
 * (NULL when the disk has no NTFS partition with shrink facts at all). */
gboolean   imprint_shrink_split_set_disk          (ImprintShrinkSplit *self,
                                                   GVariant           *disk,
                                                   char             ***ret_reasons);
guint32    imprint_shrink_split_get_partition     (ImprintShrinkSplit *self);
/* Windows' partition's new size: MiB aligned, never below its min-size. */
guint64    imprint_shrink_split_get_windows_size  (ImprintShrinkSplit *self);
guint64    imprint_shrink_split_get_windows_used  (ImprintShrinkSplit *self);
GtkRange  *imprint_shrink_split_get_range         (ImprintShrinkSplit *self);

G_END_DECLS
