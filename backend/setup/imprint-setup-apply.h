/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* imprintd's ApplySetup as one call: first-boot setup of the running
 * system, of an installed system's root directory or of the installed
 * system on a disk (unlocked and mounted for the run, setup-target.h).
 * The steps, in this order, each named in a failure so the person knows
 * what to go back to:
 *   0. (disk) open the installed system;
 *   1. settings (language, keyboard, time zone, host name): each a small,
 *      complete change of its own;
 *   2. the user: homed makes the whole home or nothing is left; for an
 *      installed system the home is signed with a key that system trusts;
 *   3. extra unlock methods for the running system's root (OEM first
 *      boot): each keyslot checked once written;
 *   4. only then is setup marked complete, so a failure above leaves it
 *      pending for the next boot. */

#include <gio/gio.h>

#include "imprint-fido2.h"
#include "imprint-report.h"
#include "imprint-setup.h"
#include "imprint-setup-target.h"
#include "tpm2.h"

G_BEGIN_DECLS

typedef enum {
  IMPRINT_SETUP_ON_RUNNING,   /* the running system */
  IMPRINT_SETUP_ON_ROOT,      /* an installed system's root directory, opened (root_fd) */
  IMPRINT_SETUP_ON_DISK,      /* the installed system on a disk (disk_node) */
} ImprintSetupOn;

/* Strings are owned (secrets in secret memory, secret.h) and freed by
 * imprint_setup_apply_clear(); root_fd is closed there too. */
typedef struct {
  ImprintSetupOn on;
  char *root;                   /* ON_ROOT: its directory, for texts and homed's image path */
  int root_fd;                  /* ON_ROOT: that directory, opened once; else -1 */
  char *disk_node;              /* ON_DISK: its /dev node */
  char *unlock_passphrase;      /* ON_DISK: unlocks its LUKS2 root; wiped once used */
  gboolean unlock_tpm2;
  char *tpm2_device;
  ImprintTpm2DeviceFlags tpm2_device_flags;  /* what the tpm2 devices may name */
  ImprintSystemSettings settings;

  gboolean have_user;
  char *user_name;
  char *real_name;
  char *password;
  char *recovery_key;           /* canonical form */
  gboolean fido2;
  char *fido2_device;
  guint64 disk_size;
  gboolean auto_login;
  gboolean administrator;

  /* Extra unlock methods for the running system's root (OEM first boot). */
  char *disk_recovery_key;      /* canonical form */
  gboolean disk_fido2;
  char *disk_fido2_device;
  char *disk_device;            /* the volume (a path reaching it); NULL: the one under "/" */
  char *disk_device_display;    /* what the caller typed, for texts */
  char *disk_tpm2_device;       /* NULL: the system's TPM */

  GDBusConnection *bus;         /* the system bus (homed, localed, ...) */
  ImprintFido2PromptFunc fido2_prompt;  /* PIN and touch; may be NULL */
  void *fido2_prompt_data;

  /* Private to imprint_setup_apply() while it runs. */
  const ImprintReport *report;
  ImprintSetupTarget *disk;
  const char *mounted_root;
  guint n_steps, step;
} ImprintSetupApply;

void imprint_setup_apply_clear (ImprintSetupApply *a);

/* Runs the steps above, saying each through @report (may be NULL). */
gboolean imprint_setup_apply (ImprintSetupApply *a, const ImprintReport *report,
                              GCancellable *cancellable, GError **error);

/* NotAuthorized: setup is over, users and settings are the system's own
 * tools' business now. */
void imprint_setup_complete_error (GError **error);

G_END_DECLS
