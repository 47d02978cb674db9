/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "imprint-dbus-generated.h"
#include "imprint-request.h"
#include "secret.h"

G_BEGIN_DECLS

/* Exit codes, documented in imprintctl(1). */
enum {
  EXIT_CODE_OK = 0,
  EXIT_CODE_FAILED = 1,
  EXIT_CODE_USAGE = 2,
  EXIT_CODE_NOT_AUTHORIZED = 4,
  EXIT_CODE_NOT_FOUND = 5,
  EXIT_CODE_SOURCE_INVALID = 6,
  EXIT_CODE_NO_SPACE = 7,
  EXIT_CODE_UNAVAILABLE = 8,
  EXIT_CODE_CANCELLED = 130,
};

typedef struct {
  gboolean json;
  gboolean no_ask_password;
  const char *verb_summary;   /* for the verb's --help */
  GDBusConnection *bus;       /* NULL until ctl_connect() */
  ImprintManager *manager;
} Ctl;

typedef int (*CtlVerbFunc) (Ctl *ctl, int argc, char **argv);

/* The options every call carries (no password prompt, our language), into
 * a request's ImprintCallOptions; ctl_options_new() as a floating a{sv}
 * for calls that take nothing else. */
void             ctl_call_options   (Ctl *ctl, ImprintCallOptions *o);
GVariant        *ctl_options_new    (Ctl *ctl);
int              ctl_report_error   (GError *error);
int              ctl_exit_code_for  (const GError *error);
/* Connects to imprintd. A verb calls it once its arguments are parsed and
 * checked, so that --help and usage errors never need the bus. Returns
 * EXIT_CODE_OK, or the exit code after saying why not. */
int              ctl_connect        (Ctl *ctl);
char            *ctl_variant_to_json (GVariant *value, gboolean pretty);
char            *ctl_format_size    (guint64 bytes);

/* Follows a Job to its end: a progress bar on a terminal, JSON lines with
 * --json. Create the watch BEFORE calling the method that starts the job.
 * Returns an exit code; @ret_result gets the job's Result. */
typedef struct _CtlJobWatch CtlJobWatch;
CtlJobWatch     *ctl_job_watch_new    (Ctl *ctl);
int              ctl_job_watch_follow (CtlJobWatch *watch, const char *job_path, GVariant **ret_result);
void             ctl_job_watch_free   (CtlJobWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlJobWatch, ctl_job_watch_free)

/* ctl-util.c */
/* Parses a verb's options; --help prints them (with the verb's summary)
 * and exits 0. FALSE (message printed) on a usage error. */
gboolean    ctl_parse_options     (Ctl *ctl, GOptionContext *context, int *argc, char ***argv);
/* ctl_parse_options() for a verb without options of its own, then at most
 * @max_args arguments; FALSE (message printed) otherwise. */
gboolean    ctl_parse_no_options  (Ctl *ctl, const char *parameters, int max_args, int *argc, char ***argv);
const char *ctl_lookup_s          (GVariant *dict, const char *key);
/* The boolean under key, FALSE when absent. */
gboolean    ctl_lookup_b          (GVariant *dict, const char *key);
/* A path for imprintd, which has its own working directory and opens
 * what it is given without following a symlink in the last component
 * (O_NOFOLLOW): absolute, with symlinks resolved here, in the caller's own
 * view (/dev/disk/by-id/... becomes /dev/sdX). That is safe: imprintd
 * opens the result as the caller. "" for NULL or "". */
char       *ctl_resolve_path      (const char *path);
/* Secrets (passphrases, PINs, recovery keys) live in secret memory
 * (secret.h): these return such strings, and imprint_secret_freep() (or
 * _cleanup_secret_) frees them. */
char       *ctl_read_secret_file  (const char *path, GError **error);
int         ctl_write_secret_file (const char *path, const char *secret);
/* Moves a secret GLib handed over on the heap (a D-Bus reply) into secret
 * memory: wipes and g_free()s heap, returns the copy. Aborts when out of
 * memory, as g_strdup() would. */
char       *ctl_secret_take       (char *heap);
/* A new recovery key from imprintd (GenerateRecoveryKey), written to
 * save_to (mode 0600) first when not NULL. NULL with *ret_exit set (the
 * error already printed) on failure. Wipe it with imprint_secret_freep(). */
char       *ctl_new_recovery_key  (Ctl *ctl, const char *save_to, int *ret_exit);
/* One JSON line {"event": EVENT, "recovery-key": KEY}, wiped after use. */
void        ctl_print_key_event   (const char *event, const char *key);
/* A new recovery key, shown once the job has succeeded: with --json the
 * line of ctl_print_key_event(), else @format and its arguments. */
void        ctl_show_recovery_key (Ctl *ctl, const char *event, const char *key,
                                   const char *format, ...) G_GNUC_PRINTF (4, 5);

int ctl_verb_list_disks   (Ctl *ctl, int argc, char **argv);
int ctl_verb_install      (Ctl *ctl, int argc, char **argv);
int ctl_verb_inspect      (Ctl *ctl, int argc, char **argv);
int ctl_verb_recovery_key (Ctl *ctl, int argc, char **argv);
int ctl_verb_security     (Ctl *ctl, int argc, char **argv);
int ctl_verb_update_status (Ctl *ctl, int argc, char **argv);
int ctl_verb_unlock_status (Ctl *ctl, int argc, char **argv);
int ctl_verb_check_updates (Ctl *ctl, int argc, char **argv);
int ctl_verb_update        (Ctl *ctl, int argc, char **argv);
int ctl_verb_auto_update   (Ctl *ctl, int argc, char **argv);
int ctl_verb_factory_reset_info (Ctl *ctl, int argc, char **argv);
int ctl_verb_factory_reset (Ctl *ctl, int argc, char **argv);
int ctl_verb_setup_defaults (Ctl *ctl, int argc, char **argv);
int ctl_verb_setup        (Ctl *ctl, int argc, char **argv);
int ctl_verb_enrollments  (Ctl *ctl, int argc, char **argv);
int ctl_verb_enroll       (Ctl *ctl, int argc, char **argv);
int ctl_verb_unenroll     (Ctl *ctl, int argc, char **argv);

G_END_DECLS
