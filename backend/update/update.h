/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* System updates through systemd-sysupdate: what runs, what the other slot
 * holds, which versions are available, and the update itself. imprintd's
 * GetUpdateStatus, CheckForUpdates, Update and SetAutomaticUpdates are thin
 * wrappers around this. */

#include <gio/gio.h>

G_BEGIN_DECLS

/* Where to look. Every member may be NULL for the real system; tests point
 * them into temporary trees. */
typedef struct {
  const char *root;      /* os-release, sysupdate.d, repart.d ("/") */
  const char *efivars;   /* efivarfs ("/sys/firmware/efi/efivars") */
  const char *sysfs;     /* sysfs ("/sys") */
  const char *usr_disk;  /* the disk holding the /usr slots (default: the one backing /usr) */
  const char *sysupdate; /* command line that runs systemd-sysupdate (default: the binary) */
} ImprintUpdatePaths;

/* Fills @paths from the IMPRINTD_TEST_* environment (tests only); members
 * not set stay NULL. */
void imprint_update_paths_from_env (ImprintUpdatePaths *paths);

/* ---- os-release ---------------------------------------------------------- */

/* Parses os-release text (KEY=VALUE, shell-style quoting). */
int imprint_os_release_parse (const char *text, GHashTable **ret);

/* Reads <root>/etc/os-release, falling back to <root>/usr/lib/os-release. */
int imprint_os_release_read  (const char *root, GHashTable **ret);

/* ---- systemd-sysupdate --------------------------------------------------- */

typedef struct {
  char *version;
  gboolean newest, available, installed, obsolete, protected_, incomplete;
  char **changelog_urls;
} ImprintUpdateVersion;

void imprint_update_version_free (ImprintUpdateVersion *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImprintUpdateVersion, imprint_update_version_free)
GVariant *imprint_update_version_to_variant (const ImprintUpdateVersion *v);

/* JSON of v257+ `--json=short list` ({current, all[]}), `list VERSION`
 * and `check-new` ({available}, null when nothing is new). */
int imprint_sysupdate_parse_list      (const char *json, char **ret_current, char ***ret_all);
int imprint_sysupdate_parse_version   (const char *json, ImprintUpdateVersion **ret);
int imprint_sysupdate_parse_check_new (const char *json, char **ret_available);
/* One sd_notify datagram: X_SYSUPDATE_PROGRESS= (percent, -1 when absent),
 * X_SYSUPDATE_VERSION= (NULL when absent). Returns 1 when it said either. */
int imprint_sysupdate_parse_notify    (const char *datagram, int *ret_percent, char **ret_version);
/* "systemd 257 (257.13-1)" -> 257. */
int imprint_sysupdate_parse_systemd_version (const char *text);
/* Whether @version may be handed to systemd-sysupdate as the version to
 * install: what sysupdate itself accepts (letters, digits, ".,_-+~^",
 * starting with a letter or digit), so never an option. */
gboolean imprint_sysupdate_version_is_valid (const char *version);

typedef struct _ImprintSysupdate ImprintSysupdate;

/* Finds a way to talk to systemd-sysupdate: systemd-sysupdated over
 * D-Bus (v257+) when it is on the system bus, else the command line tool.
 * Returns NULL with a sentence in @error (IMPRINT_ERROR_NOT_SUPPORTED)
 * when updates are not possible here. */
ImprintSysupdate *imprint_sysupdate_new  (const ImprintUpdatePaths *paths, GError **error);
void              imprint_sysupdate_free (ImprintSysupdate *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImprintSysupdate, imprint_sysupdate_free)
/* "sysupdated" or "cli". */
const char *imprint_sysupdate_backend (ImprintSysupdate *s);

/* All versions, newest first. */
GPtrArray *imprint_sysupdate_list (ImprintSysupdate *s, GCancellable *cancellable, GError **error);
/* The newest installed version ("current" in sysupdate's list). */
char *imprint_sysupdate_current (ImprintSysupdate *s, GCancellable *cancellable, GError **error);

typedef void (*ImprintUpdateProgress) (double fraction, const char *version, const char *message, gpointer user_data);

/* Installs @version (NULL or "": the newest) into the free slot. Blocks;
 * call from a worker thread. Returns the version installed. */
char *imprint_sysupdate_update (ImprintSysupdate *s, const char *version,
                                ImprintUpdateProgress progress, gpointer user_data,
                                GCancellable *cancellable, GError **error);

/* The sentence for what sysupdate printed when it failed. */
char *imprint_sysupdate_explain_failure (const char *log_text, int exit_status);

/* ---- The slots and the status --------------------------------------------- */

/* The versions the /usr partitions of @disk hold, from their GPT labels
 * "<image_id>_<version>" ("_empty" slots are skipped). */
int imprint_update_slot_versions (const char *disk, const char *image_id, char ***ret_versions);
/* The whole disk behind the file system mounted on @path ("/usr"). */
int imprint_update_backing_disk (const char *sysfs, const char *path, char **ret_disk);

/* GetUpdateStatus: a{sv} as documented in dev.imprint.Imprint1.xml. */
GVariant *imprint_update_get_status (const ImprintUpdatePaths *paths, GDBusConnection *system_bus,
                                     GCancellable *cancellable);

/* ---- Automatic updates: systemd-sysupdate.timer ----------------------------- */

int      imprint_update_automatic_get (GDBusConnection *system_bus, gboolean *ret_enabled, GError **error);
gboolean imprint_update_automatic_set (GDBusConnection *system_bus, gboolean enabled, GError **error);

G_END_DECLS
