/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* A disk as ListDisks describes it: model and size, what is on it in
 * words, an icon for how it is connected, and why it cannot be used. */
#define IMPRINT_TYPE_DISK_ROW (imprint_disk_row_get_type ())
G_DECLARE_FINAL_TYPE (ImprintDiskRow, imprint_disk_row, IMPRINT, DISK_ROW, AdwActionRow)

GtkWidget  *imprint_disk_row_new        (GVariant       *disk);
GVariant   *imprint_disk_row_get_disk   (ImprintDiskRow *self);
void        imprint_disk_row_set_disk   (ImprintDiskRow *self,
                                         GVariant       *disk);
const char *imprint_disk_row_get_device (ImprintDiskRow *self);
gboolean    imprint_disk_row_get_usable (ImprintDiskRow *self);
GtkCheckButton *imprint_disk_row_get_check (ImprintDiskRow *self);

G_END_DECLS
