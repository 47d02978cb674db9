/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* First-boot setup: the systemd-homed user record, system settings (for the
 * running system through localed/timedated/hostnamed, or written into an
 * installed system's root like `systemd-firstboot --root`), prefill from
 * systemd credentials, and the "setup pending/complete" markers.
 * See backend/setup/README.md for the formats and why. */

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "imprint-fido2.h"

G_BEGIN_DECLS

/* ---- passwords ---------------------------------------------------------- */

/* crypt(3) hash of @password with a fresh salt: yescrypt ("$y$") where
 * libxcrypt offers it, else SHA-512 ("$6$"). *ret: g_free(). Negative errno. */
int imprint_setup_hash_password (const char *password, char **ret);

/* True when @password matches the crypt(3) string @hash. */
bool imprint_setup_verify_password (const char *password, const char *hash);

/* ---- the homed user record ---------------------------------------------- */

typedef struct {
  const char *user_name;           /* required, checked by imprint_setup_user_name_is_valid() */
  const char *real_name;           /* may be NULL */
  const char *password;            /* required (storage "luks" needs it) */
  const char *recovery_key;        /* modhex64, dashed; may be NULL */
  guint64 disk_size;               /* bytes; 0: left to homed */
  bool administrator;              /* memberOf [admin_group] */
  const char *admin_group;         /* NULL: "wheel" */
  bool auto_login;                 /* "autoLogin" in the record */
  const ImprintFido2Enrollment *fido2;   /* from imprint_fido2_enroll_homed(); may be NULL */
  const char *image_path;          /* where the LUKS image goes; NULL: homed's default */
  const char *image_path_machine_id;  /* image_path only applies on this machine (perMachine) */
  guint32 uid;                     /* 0: homed picks one (binding of this machine only) */
} ImprintHomeParams;

/* The user-name rules homed applies (valid_user_group_name(), strict):
 * [a-z_][a-z0-9_-]*, at most 31 chars, not a reserved name. */
bool imprint_setup_user_name_is_valid (const char *name);

/* Builds the record for org.freedesktop.home1 CreateHome: userName,
 * realName, storage "luks", diskSize, memberOf, autoLogin, recoveryKeyType,
 * fido2HmacCredential, uid, privileged {hashedPassword, recoveryKey,
 * fido2HmacSalt}, secret {password, tokenPin}, perMachine {imagePath}.
 * The returned JSON holds secrets and lives in secret memory (secret.h):
 * free it with imprint_secret_free() (imprint_secret_freep). */
int imprint_setup_home_record (const ImprintHomeParams *p, char **ret_json);

/* ---- system settings ----------------------------------------------------- */

typedef struct {
  char *locale;            /* e.g. "de_DE.UTF-8" (LANG=) */
  char *keymap;            /* vconsole keymap, e.g. "de-nodeadkeys" */
  char *timezone;          /* e.g. "Europe/Berlin" */
  char *hostname;          /* static host name */
  char *pretty_hostname;   /* PRETTY_HOSTNAME= */
} ImprintSystemSettings;

void imprint_system_settings_clear (ImprintSystemSettings *s);

bool imprint_setup_hostname_is_valid (const char *name);
bool imprint_setup_timezone_is_valid (const char *tz);
bool imprint_setup_locale_is_valid (const char *locale);
bool imprint_setup_keymap_is_valid (const char *keymap);

/* Checks every set field; a translated message names the bad one. */
gboolean imprint_system_settings_check (const ImprintSystemSettings *s, GError **error);

/* Writes into an installed system's root directory what systemd-firstboot
 * --root writes: etc/locale.conf, etc/vconsole.conf, etc/localtime,
 * etc/hostname, etc/machine-info (other keys in those files are kept).
 * Caveats the caller should show (translated) go to @warnings. */
gboolean imprint_setup_write_root (const char *root, const ImprintSystemSettings *s,
                                   GPtrArray *warnings, GError **error);

/* The same below a root directory fd (imprint-root-fd.h): nothing outside
 * the tree is written, whatever symlinks it holds. */
gboolean imprint_setup_write_root_fd (int root_fd, const ImprintSystemSettings *s,
                                      GPtrArray *warnings, GError **error);

/* Reads the current settings of @root ("" or "/" for the running system's
 * files). Missing files leave fields NULL, as do values that are not
 * valid UTF-8 (they could not go over D-Bus). */
void imprint_setup_read_root (const char *root, ImprintSystemSettings *ret);
/* The same below a root directory fd, resolved inside it; @reader != 0:
 * only files that uid could read itself. */
void imprint_setup_read_root_fd (int root_fd, uid_t reader, ImprintSystemSettings *ret);

/* The running system: localed SetLocale + SetVConsoleKeyboard (convert to
 * X11 too), timedated SetTimezone, hostnamed SetStaticHostname +
 * SetPrettyHostname. Stops at the first failure. */
gboolean imprint_setup_apply_running (GDBusConnection *bus, const ImprintSystemSettings *s,
                                      GPtrArray *warnings, GCancellable *cancellable, GError **error);

/* Current settings from localed/timedated/hostnamed; fields the services
 * do not answer stay NULL. */
void imprint_setup_read_running (GDBusConnection *bus, ImprintSystemSettings *ret);

/* ---- credentials --------------------------------------------------------- */

typedef struct {
  ImprintSystemSettings settings;  /* firstboot.locale, firstboot.keymap, firstboot.timezone, system.hostname */
  char *user_name;                 /* from the first home.create.* record */
  char *real_name;
  GPtrArray *decided;              /* keys given: "locale", "keymap", "timezone", "hostname", "user" */
} ImprintSetupCredentials;

void imprint_setup_credentials_clear (ImprintSetupCredentials *c);

/* $CREDENTIALS_DIRECTORY when @dir is NULL and it is set, else
 * /run/credentials/@system. A missing directory is not an error. */
const char *imprint_setup_credentials_dir (void);
void imprint_setup_read_credentials (const char *dir, ImprintSetupCredentials *ret);

/* ---- setup markers -------------------------------------------------------- */

/* Imprint's state directory inside @root: $STATE_DIRECTORY for the running
 * system when set (systemd StateDirectory=imprint), else
 * ROOT/var/lib/imprint. */
char *imprint_setup_state_dir (const char *root);

/* Setup is pending when ROOT/var/lib/imprint/setup-pending exists, or when
 * nothing completed it yet (no setup-complete) and this is the machine's
 * first boot (ConditionFirstBoot: /etc/machine-id missing, empty or
 * "uninitialized"). */
bool imprint_setup_is_pending (const char *root);
/* The same for a root directory fd; @running: the running system's root,
 * whose state directory may be $STATE_DIRECTORY. */
bool imprint_setup_is_pending_fd (int root_fd, bool running);
/* setup-complete exists and setup-pending does not: setup ran to its end
 * and nobody asked for it again. */
bool imprint_setup_is_complete_fd (int root_fd, bool running);

/* Writes setup-complete (the time, for people reading it) and removes
 * setup-pending. */
int imprint_setup_mark_complete (const char *root);
int imprint_setup_mark_complete_fd (int root_fd, bool running);

/* ---- homed ----------------------------------------------------------------- */

/* CreateHomeEx(record, {}, 0) when homed offers it (v256+, found by
 * introspection), else CreateHome(record). */
gboolean imprint_homed_create (GDBusConnection *bus, const char *record_json,
                               GCancellable *cancellable, GError **error);

/* UnregisterHome: forgets a home without touching its image. */
gboolean imprint_homed_unregister (GDBusConnection *bus, const char *user_name,
                                   GCancellable *cancellable, GError **error);

/* RemoveHome: deletes a home and its image (undoing a creation). */
gboolean imprint_homed_remove (GDBusConnection *bus, const char *user_name,
                               GCancellable *cancellable, GError **error);

/* The public key (PEM) that signed the record homed holds for @user_name,
 * from the record's "signature" section (GetUserRecordByName). */
gboolean imprint_homed_get_signing_key (GDBusConnection *bus, const char *user_name, char **ret_pem,
                                        GCancellable *cancellable, GError **error);

/* Makes @root's homed trust records signed by @pem: writes
 * ROOT/etc/systemd/home/@name.public, root-owned and 0644, as homed
 * demands of trusted keys. */
gboolean imprint_homed_trust_key (const char *root, const char *name, const char *pem, GError **error);
gboolean imprint_homed_trust_key_fd (int root_fd, const char *name, const char *pem, GError **error);

/* Gives @root's homed the key pair in @homed_dir (this system's homed,
 * /var/lib/systemd/home) when that pair made @pem and @root has none yet:
 * copies local.private (0600) and local.public to
 * ROOT/var/lib/systemd/home/. Returns 1 when adopted, 0 when not
 * applicable (then use imprint_homed_trust_key()), -1 with @error. */
int imprint_homed_adopt_key_pair (const char *homed_dir, const char *root, const char *pem, GError **error);
int imprint_homed_adopt_key_pair_fd (const char *homed_dir, int root_fd, const char *pem, GError **error);
/* Copies homed's signed record of @user_name into @root's homed state
 * directory (after imprint_homed_adopt_key_pair()): 1 copied, 0 none kept
 * here, -1 with @error. */
int imprint_homed_hand_over_record (const char *homed_dir, const char *root,
                                    const char *user_name, GError **error);
int imprint_homed_hand_over_record_fd (const char *homed_dir, int root_fd,
                                       const char *user_name, GError **error);

/* The group that makes a user an administrator on @root ("" = this
 * system): "wheel" where it exists, else Debian's "sudo", else "wheel". */
char *imprint_setup_admin_group (const char *root);
/* @root_fd < 0: this system. */
char *imprint_setup_admin_group_fd (int root_fd);

/* homed's UID range (docs/UIDS-GIDS.md). */
#define IMPRINT_HOME_UID_MIN 60001u
#define IMPRINT_HOME_UID_MAX 60513u

/* True when @id is unused both on this system (NSS) and in @root
 * (etc/passwd, etc/group, userdb drop-ins, homed's records). */
bool imprint_setup_home_uid_is_free (const char *root, guint32 id);
bool imprint_setup_home_uid_is_free_fd (int root_fd, guint32 id);

/* Whether a homed record (a *.identity file's object) gives @id, in its
 * regular section or in a machine's binding. */
bool imprint_setup_home_record_has_uid (JsonObject *record, guint32 id);

/* A UID in homed's range, free here and in @root, for a home created here
 * for the system in @root (see setup-homed.c for why). Negative errno;
 * -EBUSY when the range is full. */
int imprint_setup_pick_home_uid (const char *root, const char *user_name, guint32 *ret);
int imprint_setup_pick_home_uid_fd (int root_fd, const char *user_name, guint32 *ret);

/* This machine's /etc/machine-id (ROOT/etc/machine-id), NULL if none. */
char *imprint_setup_machine_id (const char *root);
char *imprint_setup_machine_id_fd (int root_fd);

G_END_DECLS
