/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the handover's files (handover.h). */

#include "handover.h"

char *imprint_handover_devname (dev_t dev);
char *imprint_handover_disk_of (dev_t dev);

/* Step 3b: the boot partitions systemd mounts from the medium (/efi,
 * /boot) are mounted from the installed disk instead. Appends what it
 * could not move to @remaining; TRUE when something moved. */
gboolean imprint_handover_move_boot (const ImprintHandover *h, const char *medium_disk, const char *usr_name,
                                     GString *remaining);

/* Step 4: the RAM device freed, a loop medium detached; appends what
 * still holds the medium to @remaining. */
void imprint_handover_release (const ImprintHandoverProbe *p, const ImprintReport *report, GString *remaining);

/* The mount points in PID 1's mount namespace on @disk (its partitions
 * included), from a mountinfo text; bounded. Exposed for the unit test. */
GPtrArray *imprint_mountinfo_on_disk (const char *mountinfo, const char *disk,
                                      char *(*disk_of) (dev_t dev));
