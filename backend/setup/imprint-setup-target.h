/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* An installed disk given as "disk:DEVICE" to GetSetupDefaults/ApplySetup:
 * its root partition (the Discoverable Partitions root type of this
 * architecture) found, unlocked when it is LUKS2 and mounted at
 * /run/imprint/target-XXXXXX, so the "root directory" code of setup can
 * write into it. When systemd is PID 1 the mount is a transient .mount
 * unit, so it lives in the host's mount namespace where systemd-homed
 * sees it (imprintd itself runs in a namespace of its own); otherwise
 * (test hosts) mount(2) directly. */

#include <stdbool.h>

#include <gio/gio.h>

#include "tpm2.h"

G_BEGIN_DECLS

typedef struct ImprintSetupTarget ImprintSetupTarget;

typedef struct {
  const char *passphrase;       /* a passphrase or recovery key (typed form accepted) */
  bool tpm2;                    /* else: through the "systemd-tpm2" token */
  const char *tpm2_device;      /* NULL: the system's TPM */
  ImprintTpm2DeviceFlags tpm2_device_flags;  /* what tpm2_device may name */
  const char *tpm2_signature;   /* tpm2-pcr-signature.json text, may be NULL */
  bool read_only;
} ImprintSetupTargetUnlock;

/* The partition of @device with the root type of this architecture, as a
 * device node ("/dev/sda3", "/dev/loop0p3"). -ENOENT when there is none,
 * -ENOTUNIQ when there are several. */
int imprint_setup_target_find_root (const char *device, char **ret_partition);

/* Finds, unlocks and mounts the installed root on @device. A wrong
 * secret: IMPRINT_ERROR_NOT_AUTHORIZED, checked before anything is
 * activated. Whatever was done is undone on failure. */
gboolean imprint_setup_target_open (const char *device,
                                    const ImprintSetupTargetUnlock *unlock,
                                    ImprintSetupTarget **ret,
                                    GCancellable *cancellable,
                                    GError **error);

/* The mounted root directory. */
const char *imprint_setup_target_get_root (ImprintSetupTarget *t);
/* The dm-crypt name while unlocked, else NULL. */
const char *imprint_setup_target_get_dm_name (ImprintSetupTarget *t);

/* Unmounts, closes the dm device, removes the directory and frees @t,
 * even when a step fails (the first failure is returned). */
gboolean imprint_setup_target_close (ImprintSetupTarget *t, GError **error);

G_END_DECLS
