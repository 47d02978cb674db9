/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libcryptsetup.h>

#include "crypt-error.h"
#include "imprint-error.h"
#include "imprint-fido2.h"
#include "imprint-request.h"
#include "imprintd-daemon.h"
#include "secret.h"
#include "tpm2.h"
#include "target-lock.h"

G_BEGIN_DECLS

typedef struct {
  ImprintdDaemon *daemon;
  GDBusMethodInvocation *invocation;
  GVariant *parameters;   /* the whole in-argument tuple */
  GVariant *options;      /* its last member, a{sv} */
  guint32 uid;            /* the caller, already authorised */
} ImprintdMethodCall;

/* Returns the out-argument tuple (floating is fine) or NULL with @error. */
typedef GVariant *(*ImprintdMethodFunc) (ImprintdMethodCall *call, GError **error);

typedef struct {
  const char *name;          /* D-Bus method name */
  const char *action;        /* polkit action id, NULL: nothing to guard */
  gboolean main_thread;      /* run in the main loop (quick, or starts a job) */
  ImprintdMethodFunc func;
} ImprintdMethod;

const ImprintdMethod *imprintd_methods_lookup (const char *name);

/* polkit details for a call of @method with @parameters (its in-arguments):
 * "device", "drive" and, for verbs that change a disk, a "polkit.message"
 * naming it (imprintd-polkit-details.c). NULL when there are none. */
GHashTable *imprintd_polkit_details (const char *method, GVariant *parameters);

/* Helpers for the method implementations. */

/* Opens @path as the caller would (backend/basic/safe-open.h): with the
 * caller's credentials, last component no symlink, never blocking on a
 * FIFO, then checked on the fd: one of @types (SafeTypes), no /proc, /sys
 * or FUSE. @flags: O_RDONLY, O_RDWR, O_DIRECTORY. With @root_may_open_block
 * a block device the caller reached but may not open itself is opened by
 * imprintd (for an authorised or read-only-looking verb). Returns the fd
 * or -1 with @error. */
int imprintd_open_as_caller (ImprintdMethodCall *call, const char *path, int flags,
                             unsigned types, gboolean root_may_open_block, GError **error);

/* An image file or disk a caller named, opened once (as the caller) and
 * checked on the fd. Code that needs a name gets @io_path, which reaches
 * exactly that inode: /proc/PID/fd/N of @fd for a file, or for a disk its
 * kernel node under root's /dev. @display is what the caller typed, for
 * messages only: it is never opened again. */
typedef struct {
  int   fd;
  char *io_path;
  char *display;
} ImprintdCallerFile;

void imprintd_caller_file_clear (ImprintdCallerFile *f);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ImprintdCallerFile, imprintd_caller_file_clear)

/* imprintd_open_as_caller() for a regular file or a block device, filling
 * @ret (initialised with .fd = -1). @root_may_open_block as there: say at
 * the caller why the verb may read (or write) a disk the caller cannot
 * open itself. @keep_block_fd: FALSE closes a disk's fd once its /dev node
 * is known, so it holds no claim on it (a file's fd always stays open: its
 * io_path needs it). */
gboolean imprintd_open_caller_file (ImprintdMethodCall *call, const char *path, int flags,
                                    gboolean root_may_open_block, gboolean keep_block_fd,
                                    ImprintdCallerFile *ret, GError **error);

/* A small regular file of the caller's (certificate, key, signature),
 * opened as the caller and read whole: NUL-terminated, at most @max bytes
 * (else InvalidArgument). g_free() it. */
char *imprintd_read_caller_text (ImprintdMethodCall *call, const char *path, gsize max, GError **error);

/* imprintd_lock_target() for what imprintd_open_caller_file() opened,
 * without looking its name up again. */
ImprintTargetLock *imprintd_lock_caller_file (ImprintdCallerFile *f, ImprintTargetLockFlags flags,
                                              GError **error);

/* The implementations, one file per topic. */
GVariant *imprintd_method_list_disks (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_get_security_capabilities (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_check_passphrase (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_generate_recovery_key (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_inspect_source (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_plan_install (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_install (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_get_update_status (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_check_for_updates (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_update (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_set_automatic_updates (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_get_factory_reset_info (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_request_factory_reset (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_cancel_factory_reset (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_get_setup_defaults (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_apply_setup (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_list_enrollments (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_enroll (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_unenroll (ImprintdMethodCall *call, GError **error);
GVariant *imprintd_method_get_unlock_status (ImprintdMethodCall *call, GError **error);

/* After Enroll "tpm2" succeeded on @device: when it is the disk this
 * system runs from, GetUnlockStatus says "resealed" until the next start. */
void imprintd_unlock_note_resealed (const char *device);

/* ImprintFido2PromptFunc for a job (userdata: the ImprintdJob): a PIN is
 * asked through the job's Request signal, a touch is shown in its log. */
int imprintd_fido2_prompt (ImprintFido2Prompt kind, const char *message, char **ret_answer, void *userdata);

/* Caller-named devices (imprintd-options.c). TPM2: "auto"/empty or a
 * /dev/tpm<N>, /dev/tpmrm<N> node; emulator TCTIs only for uid 0, which is
 * what imprintd_tpm2_device_flags() hands the crypt code. FIDO2: "auto"/
 * empty (*ret_path NULL) or a /dev/hidraw<N> node; other libfido2 paths for
 * uid 0 only. Errors are InvalidArgument / NotAuthorized. */
ImprintTpm2DeviceFlags imprintd_tpm2_device_flags (guint32 uid);
gboolean imprintd_check_tpm2_device (const char *device, guint32 uid, GError **error);
gboolean imprintd_check_fido2_device (const char *device, guint32 uid, char **ret_path, GError **error);

/* Longest passphrase, PIN or recovery key taken over D-Bus, in bytes
 * (the typed requests check the same bound, imprint-request.h). */
#define IMPRINTD_SECRET_MAX IMPRINT_SECRET_MAX
/* InvalidArgument when secret is longer than IMPRINTD_SECRET_MAX. */
gboolean imprintd_check_secret (const char *secret, GError **error);
/* One job per disk: registers @path (a disk, a partition of it or an
 * image file) as busy for the job about to start, or fails with
 * IMPRINT_ERROR_BUSY naming the job that has it. @flags as for
 * imprint_target_lock_acquire(). Name the job with
 * imprintd_target_lock_set_job() once it has its object path; free the
 * lock when the job's work ends. */
ImprintTargetLock *imprintd_lock_target (const char *path, ImprintTargetLockFlags flags, GError **error);
/* @what: "the installation", ... (translated). */
void imprintd_target_lock_set_job (ImprintTargetLock *lock, const char *what, const char *job_path);

G_END_DECLS
