/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <dirent.h>
#include <grp.h>
#include <json-glib/json-glib.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json-bounded.h"
#include "imprint-error.h"
#include "imprint-root-fd.h"
#include "imprint-setup.h"
#include "macros.h"

#define HOME1_NAME  "org.freedesktop.home1"
#define HOME1_PATH  "/org/freedesktop/home1"
#define HOME1_IFACE "org.freedesktop.home1.Manager"

/* CreateHomeEx (v256) takes file descriptors for blobs and flags; plain
 * CreateHome is what v252 has. Which one exists is asked of homed itself,
 * not guessed from a version number. */
static gboolean
homed_has_method (GDBusConnection *bus, const char *method, GCancellable *cancellable)
{
  g_autoptr(GVariant) r = NULL;
  g_autoptr(GDBusNodeInfo) node = NULL;
  const char *xml;
  GDBusInterfaceInfo *iface;

  r = g_dbus_connection_call_sync (bus, HOME1_NAME, HOME1_PATH, "org.freedesktop.DBus.Introspectable",
                                   "Introspect", NULL, G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE,
                                   30 * 1000, cancellable, NULL);
  if (r == NULL)
    return FALSE;
  g_variant_get (r, "(&s)", &xml);
  node = g_dbus_node_info_new_for_xml (xml, NULL);
  if (node == NULL)
    return FALSE;
  iface = g_dbus_node_info_lookup_interface (node, HOME1_IFACE);
  return iface != NULL && g_dbus_interface_info_lookup_method (iface, method) != NULL;
}

static void
explain_homed_error (GError **error)
{
  g_autofree char *remote = NULL;

  if (error == NULL || *error == NULL)
    return;
  remote = g_dbus_error_get_remote_error (*error);
  g_dbus_error_strip_remote_error (*error);
  if (g_error_matches (*error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (*error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    {
      g_clear_error (error);
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_UNAVAILABLE,
                           _("systemd-homed is not running: encrypted home directories cannot be created."));
      return;
    }
  if (remote != NULL && g_str_equal (remote, "org.freedesktop.home1.UserRecordExists"))
    {
      g_autofree char *msg = g_strdup ((*error)->message);
      g_clear_error (error);
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_BUSY, _("The user already exists: %s"), msg);
    }
}

gboolean
imprint_homed_create (GDBusConnection *bus, const char *record_json,
                      GCancellable *cancellable, GError **error)
{
  g_autoptr(GVariant) r = NULL;
  GVariant *args;
  const char *method;

  if (homed_has_method (bus, "CreateHomeEx", cancellable))
    {
      method = "CreateHomeEx";
      args = g_variant_new ("(s@a{sh}t)", record_json, g_variant_new_array (G_VARIANT_TYPE ("{sh}"), NULL, 0),
                            (guint64) 0);
    }
  else
    {
      method = "CreateHome";
      args = g_variant_new ("(s)", record_json);
    }
  /* Making a LUKS home (keyslots with a slow KDF, mkfs, fallocate) takes
   * a while: no D-Bus timeout of ours cuts it short. */
  r = g_dbus_connection_call_with_unix_fd_list_sync (bus, HOME1_NAME, HOME1_PATH, HOME1_IFACE, method, args,
                                                     NULL, G_DBUS_CALL_FLAGS_NONE, G_MAXINT, NULL, NULL,
                                                     cancellable, error);
  if (r == NULL)
    {
      explain_homed_error (error);
      return FALSE;
    }
  return TRUE;
}

gboolean
imprint_homed_unregister (GDBusConnection *bus, const char *user_name,
                          GCancellable *cancellable, GError **error)
{
  g_autoptr(GVariant) r = NULL;

  r = g_dbus_connection_call_sync (bus, HOME1_NAME, HOME1_PATH, HOME1_IFACE, "UnregisterHome",
                                   g_variant_new ("(s)", user_name), NULL, G_DBUS_CALL_FLAGS_NONE,
                                   5 * 60 * 1000, cancellable, error);
  if (r == NULL)
    {
      explain_homed_error (error);
      return FALSE;
    }
  return TRUE;
}

/* The key that signed the record homed keeps for @user_name: the first
 * signature's "key" (PEM), as every signed record carries it
 * (docs/USER_RECORD.md, "signature" section). */
gboolean
imprint_homed_get_signing_key (GDBusConnection *bus, const char *user_name, char **ret_pem,
                               GCancellable *cancellable, GError **error)
{
  g_autoptr(GVariant) r = NULL;
  g_autoptr(JsonNode) node = NULL;
  const char *json;
  gboolean incomplete;
  JsonObject *o;
  JsonArray *sigs;

  r = g_dbus_connection_call_sync (bus, HOME1_NAME, HOME1_PATH, HOME1_IFACE, "GetUserRecordByName",
                                   g_variant_new ("(s)", user_name), G_VARIANT_TYPE ("(sbo)"),
                                   G_DBUS_CALL_FLAGS_NONE, 60 * 1000, cancellable, error);
  if (r == NULL)
    {
      explain_homed_error (error);
      return FALSE;
    }
  g_variant_get (r, "(&sbo)", &json, &incomplete, NULL);
  node = imprint_json_parse (json, NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    goto none;
  o = json_node_get_object (node);
  if (!json_object_has_member (o, "signature") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "signature")))
    goto none;
  sigs = json_object_get_array_member (o, "signature");
  for (guint i = 0; i < json_array_get_length (sigs); i++)
    {
      JsonNode *e = json_array_get_element (sigs, i);
      const char *key;

      if (!JSON_NODE_HOLDS_OBJECT (e))
        continue;
      key = json_object_get_string_member_with_default (json_node_get_object (e), "key", NULL);
      if (key != NULL && strstr (key, "-----BEGIN PUBLIC KEY-----") != NULL)
        {
          *ret_pem = g_strdup (key);
          return TRUE;
        }
    }
none:
  g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
               _("systemd-homed did not sign the record of “%s”."), user_name);
  return FALSE;
}

static gboolean
set_errno_error (GError **error, int r, const char *what)
{
  g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
               _("Could not write %s: %s"), what, g_strerror (-r));
  return FALSE;
}

static int
open_root (const char *root, int *ret_fd, GError **error)
{
  int r = imprint_root_open (root, ret_fd);

  if (r < 0)
    g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                 _("Cannot open “%s”: %s"), root, g_strerror (-r));
  return r;
}

/* homed reads *.public in /etc/systemd/home/ only when the file is
 * regular, owned by root and writable by nobody else
 * (src/home/homed-manager.c, manager_load_public_key_one()). Mode and
 * owner are set on the new file before it gets its name. */
gboolean
imprint_homed_trust_key_fd (int root_fd, const char *name, const char *pem, GError **error)
{
  g_autofree char *dst = g_strconcat ("etc/systemd/home/", name, ".public", NULL);
  int r;

  if (pem == NULL || strstr (pem, "-----BEGIN PUBLIC KEY-----") == NULL)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("The signing key is not a PEM public key."));
      return FALSE;
    }
  if (strchr (name, '/') != NULL || name[0] == '.')
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("The signing key’s name is not a file name."));
      return FALSE;
    }
  r = imprint_root_write_file (root_fd, dst, pem, strlen (pem), 0644, 0, 0, 0755);
  if (r < 0)
    return set_errno_error (error, r, dst);
  return TRUE;
}

gboolean
imprint_homed_trust_key (const char *root, const char *name, const char *pem, GError **error)
{
  _cleanup_close_ int fd = -1;

  if (open_root (root, &fd, error) < 0)
    return FALSE;
  return imprint_homed_trust_key_fd (fd, name, pem, error);
}

static char *
squeeze (const char *pem)
{
  GString *s = g_string_new (NULL);

  for (const char *c = pem; *c; c++)
    if (!g_ascii_isspace (*c))
      g_string_append_c (s, *c);
  return g_string_free (s, FALSE);
}

/* @src is this system's (trusted) homed state; @dst is below the
 * target's root fd, root-owned with @mode from its creation on. */
static gboolean
copy_key_file (const char *src, int root_fd, const char *dst, mode_t mode, GError **error)
{
  g_autofree char *text = NULL;
  gsize len;
  int r;

  if (!g_file_get_contents (src, &text, &len, error))
    return FALSE;
  r = imprint_root_write_file (root_fd, dst, text, len, mode, 0, 0, 0700);
  explicit_bzero (text, len);
  if (r < 0)
    return set_errno_error (error, r, dst);
  return TRUE;
}

#define HOMED_DIR "var/lib/systemd/home"

/* homed loads local.private/local.public from its state directory and
 * makes a new pair only when there is none (homed-manager.c,
 * manager_load_key_pair()). Handing the installed system the pair that
 * signed its first home makes that home "signed exclusively by our key"
 * there: the user can change the password and the record later, which a
 * home signed by a merely trusted foreign key does not allow. */
int
imprint_homed_adopt_key_pair_fd (const char *homed_dir, int root_fd, const char *pem, GError **error)
{
  g_autofree char *src_priv = g_build_filename (homed_dir, "local.private", NULL);
  g_autofree char *src_pub = g_build_filename (homed_dir, "local.public", NULL);
  g_autofree char *ours = NULL, *a = NULL, *b = NULL;
  struct stat st;

  if (imprint_root_lstat (root_fd, HOMED_DIR "/local.private", &st) >= 0 ||
      imprint_root_lstat (root_fd, HOMED_DIR "/local.public", &st) >= 0)
    return 0;   /* the installed system has its own pair already */
  if (!g_file_get_contents (src_pub, &ours, NULL, NULL) || !g_file_test (src_priv, G_FILE_TEST_IS_REGULAR))
    return 0;
  a = squeeze (ours);
  b = squeeze (pem);
  if (!g_str_equal (a, b))
    return 0;   /* not the pair that signed the record */

  if (!copy_key_file (src_priv, root_fd, HOMED_DIR "/local.private", 0600, error) ||
      !copy_key_file (src_pub, root_fd, HOMED_DIR "/local.public", 0644, error))
    {
      (void) imprint_root_unlink (root_fd, HOMED_DIR "/local.private");
      (void) imprint_root_unlink (root_fd, HOMED_DIR "/local.public");
      return -1;
    }
  return 1;
}

int
imprint_homed_adopt_key_pair (const char *homed_dir, const char *root, const char *pem, GError **error)
{
  _cleanup_close_ int fd = -1;

  if (open_root (root, &fd, error) < 0)
    return -1;
  return imprint_homed_adopt_key_pair_fd (homed_dir, fd, pem, error);
}

/* The signed record homed keeps for @user_name (NAME.identity in its
 * state directory), handed to the installed system's homed together with
 * the key pair that signed it: there it loads the home as a known, fixated
 * one at boot, exactly as if it had created it. Without it, that homed
 * only discovers /home/NAME.home and has to fixate the home from the
 * record inside the image first. Returns 1 when copied, 0 when this homed
 * keeps no such file (nothing to hand over), -1 with @error. */
int
imprint_homed_hand_over_record_fd (const char *homed_dir, int root_fd,
                                   const char *user_name, GError **error)
{
  g_autofree char *file = g_strconcat (user_name, ".identity", NULL);
  g_autofree char *src = g_build_filename (homed_dir, file, NULL);
  g_autofree char *dst = g_build_filename (HOMED_DIR, file, NULL);

  if (!imprint_setup_user_name_is_valid (user_name))
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT, _("Not a valid user name."));
      return -1;
    }
  if (!g_file_test (src, G_FILE_TEST_IS_REGULAR))
    return 0;
  if (!copy_key_file (src, root_fd, dst, 0600, error))
    {
      (void) imprint_root_unlink (root_fd, dst);
      return -1;
    }
  return 1;
}

int
imprint_homed_hand_over_record (const char *homed_dir, const char *root,
                                const char *user_name, GError **error)
{
  _cleanup_close_ int fd = -1;

  if (open_root (root, &fd, error) < 0)
    return -1;
  return imprint_homed_hand_over_record_fd (homed_dir, fd, user_name, error);
}

gboolean
imprint_homed_remove (GDBusConnection *bus, const char *user_name,
                      GCancellable *cancellable, GError **error)
{
  g_autoptr(GVariant) r = NULL;

  r = g_dbus_connection_call_sync (bus, HOME1_NAME, HOME1_PATH, HOME1_IFACE, "RemoveHome",
                                   g_variant_new ("(s)", user_name), NULL, G_DBUS_CALL_FLAGS_NONE,
                                   5 * 60 * 1000, cancellable, error);
  if (r == NULL)
    {
      explain_homed_error (error);
      return FALSE;
    }
  return TRUE;
}

/* ---- a UID for a home made for another system ---------------------------- */

/* An ID in field 3 of a passwd/group-style file below @root_fd. */
static bool
id_in_colon_file (int root_fd, const char *file, guint32 id)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  if (imprint_root_read_file (root_fd, file, IMPRINT_ROOT_READ_MAX, 0, &text, NULL) < 0)
    return false;
  lines = g_strsplit (text, "\n", -1);
  for (size_t i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], ":", 4);
      guint64 v;

      if (g_strv_length (f) >= 3 && g_ascii_string_to_unsigned (f[2], 10, 0, G_MAXUINT32, &v, NULL) && v == id)
        return true;
    }
  return false;
}

/* userdb drop-ins name each record after its ID as well as its name
 * (nss-systemd, userdbd: ID.user, ID.group symlinks). */
static bool
id_in_userdb (int root_fd, guint32 id)
{
  static const char *const dirs[] = { "etc/userdb", "run/userdb", "usr/local/lib/userdb", "usr/lib/userdb" };

  for (size_t i = 0; i < G_N_ELEMENTS (dirs); i++)
    for (size_t k = 0; k < 2; k++)
      {
        g_autofree char *path = g_strdup_printf ("%s/%u.%s", dirs[i], id, k == 0 ? "user" : "group");
        struct stat st;

        if (imprint_root_lstat (root_fd, path, &st) >= 0)
          return true;
      }
  return false;
}

static bool
object_has_uid (JsonObject *o, guint32 id)
{
  JsonNode *n = json_object_get_member (o, "uid");

  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64 &&
         json_node_get_int (n) == (gint64) id;
}

bool
imprint_setup_home_record_has_uid (JsonObject *o, guint32 id)
{
  JsonNode *bn;

  if (object_has_uid (o, id))
    return true;
  bn = json_object_get_member (o, "binding");
  if (bn != NULL && JSON_NODE_HOLDS_OBJECT (bn))
    {
      g_autoptr(GList) machines = json_object_get_values (json_node_get_object (bn));
      for (GList *l = machines; l; l = l->next)
        if (JSON_NODE_HOLDS_OBJECT ((JsonNode *) l->data) &&
            object_has_uid (json_node_get_object (l->data), id))
          return true;
    }
  return false;
}

/* Homes @root_fd's homed already knows: their records carry the UID in
 * the regular section or in a machine's binding. */
static bool
id_in_home_records (int root_fd, guint32 id)
{
  _cleanup_close_ int fd = -1;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  DIR *d;
  struct dirent *de;
  int dup_fd;

  if (imprint_root_openat (root_fd, HOMED_DIR, O_RDONLY | O_DIRECTORY, 0, true, &fd) < 0)
    return false;
  dup_fd = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  if (dup_fd < 0)
    return false;
  d = fdopendir (dup_fd);
  if (d == NULL)
    {
      close (dup_fd);
      return false;
    }
  while ((de = readdir (d)) != NULL)
    if (g_str_has_suffix (de->d_name, ".identity"))
      g_ptr_array_add (names, g_strdup (de->d_name));
  closedir (d);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *text = NULL;
      size_t len = 0;
      g_autoptr(JsonNode) top = NULL;

      /* The target's files: bounded in size and depth before json-glib
       * (which recurses) sees them. */
      if (imprint_root_read_file (fd, g_ptr_array_index (names, i), IMPRINT_JSON_MAX_BYTES, 0, &text, &len) < 0)
        continue;
      top = imprint_json_parse_bounded (text, (gssize) len, IMPRINT_JSON_MAX_BYTES,
                                        IMPRINT_JSON_MAX_DEPTH, NULL);
      if (top == NULL || !JSON_NODE_HOLDS_OBJECT (top))
        continue;
      if (imprint_setup_home_record_has_uid (json_node_get_object (top), id))
        return true;
    }
  return false;
}

bool
imprint_setup_home_uid_is_free_fd (int root_fd, guint32 id)
{
  /* This system's NSS: its homed refuses a UID it can resolve. */
  if (getpwuid ((uid_t) id) != NULL || getgrgid ((gid_t) id) != NULL)
    return false;
  return !id_in_colon_file (root_fd, "etc/passwd", id) && !id_in_colon_file (root_fd, "etc/group", id) &&
         !id_in_userdb (root_fd, id) && !id_in_home_records (root_fd, id);
}

bool
imprint_setup_home_uid_is_free (const char *root, guint32 id)
{
  _cleanup_close_ int fd = -1;

  if (imprint_root_open (root, &fd) < 0)
    return false;
  return imprint_setup_home_uid_is_free_fd (fd, id);
}

/* homed gives a new home its UID only in the "binding" section for the
 * machine that creates it; a record made here for an installed system
 * would reach that system without one, and its homed refuses a record
 * without a UID (suitable_home_record(): EINVAL), so the home could not
 * be activated there. A UID in the regular section travels with the
 * record. Like homed, start from a hash of the name so that the same
 * name tends to get the same UID, then take the next free one. */
int
imprint_setup_pick_home_uid_fd (int root_fd, const char *user_name, guint32 *ret)
{
  const guint32 n = IMPRINT_HOME_UID_MAX - IMPRINT_HOME_UID_MIN + 1;
  guint8 digest[32];
  gsize len = sizeof digest;
  g_autoptr(GChecksum) sum = NULL;
  guint32 start;

  if (root_fd < 0 || user_name == NULL || ret == NULL)
    return -EINVAL;
  sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *) user_name, -1);
  g_checksum_get_digest (sum, digest, &len);
  start = ((guint32) digest[0] << 24 | (guint32) digest[1] << 16 | (guint32) digest[2] << 8 | digest[3]) % n;

  for (guint32 i = 0; i < n; i++)
    {
      guint32 id = IMPRINT_HOME_UID_MIN + (start + i) % n;

      if (imprint_setup_home_uid_is_free_fd (root_fd, id))
        {
          *ret = id;
          return 0;
        }
    }
  return -EBUSY;
}

int
imprint_setup_pick_home_uid (const char *root, const char *user_name, guint32 *ret)
{
  _cleanup_close_ int fd = -1;
  int r;

  if (root == NULL || user_name == NULL || ret == NULL)
    return -EINVAL;
  r = imprint_root_open (root, &fd);
  if (r < 0)
    return r;
  return imprint_setup_pick_home_uid_fd (fd, user_name, ret);
}
