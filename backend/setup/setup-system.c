/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json-bounded.h"
#include "imprint-error.h"
#include "imprint-root-fd.h"
#include "imprint-setup.h"
#include "macros.h"

void
imprint_system_settings_clear (ImprintSystemSettings *s)
{
  g_clear_pointer (&s->locale, g_free);
  g_clear_pointer (&s->keymap, g_free);
  g_clear_pointer (&s->timezone, g_free);
  g_clear_pointer (&s->hostname, g_free);
  g_clear_pointer (&s->pretty_hostname, g_free);
}

/* ---- validation ------------------------------------------------------- */

/* systemd's hostname_is_valid() without trailing dot: labels of
 * [a-zA-Z0-9-], not starting or ending with '-', at most 64 chars. */
bool
imprint_setup_hostname_is_valid (const char *name)
{
  size_t n, label = 0;

  if (name == NULL || name[0] == '\0')
    return false;
  n = strlen (name);
  if (n > 64 || name[0] == '.' || name[n - 1] == '.')
    return false;
  for (size_t i = 0; i < n; i++)
    {
      char c = name[i];
      if (c == '.')
        {
          if (label == 0 || name[i - 1] == '-')
            return false;
          label = 0;
          continue;
        }
      if (!(g_ascii_isalnum (c) || c == '-'))
        return false;
      if (c == '-' && label == 0)
        return false;
      label++;
      if (label > 63)
        return false;
    }
  return name[n - 1] != '-';
}

/* The form of a tz database name (systemd's timezone_is_valid() also
 * opens the file; we check the file where it matters). */
bool
imprint_setup_timezone_is_valid (const char *tz)
{
  if (tz == NULL || tz[0] == '\0' || tz[0] == '/' || strlen (tz) > 255)
    return false;
  if (strstr (tz, "..") != NULL || strstr (tz, "//") != NULL)
    return false;
  for (const char *c = tz; *c; c++)
    if (!(g_ascii_isalnum (*c) || strchr ("/_-+", *c) != NULL))
      return false;
  return tz[strlen (tz) - 1] != '/';
}

bool
imprint_setup_locale_is_valid (const char *locale)
{
  if (locale == NULL || locale[0] == '\0' || strlen (locale) > 128)
    return false;
  for (const char *c = locale; *c; c++)
    if (!(g_ascii_isalnum (*c) || strchr ("_.-@", *c) != NULL))
      return false;
  return true;
}

bool
imprint_setup_keymap_is_valid (const char *keymap)
{
  if (keymap == NULL || keymap[0] == '\0' || keymap[0] == '.' || strlen (keymap) > 128)
    return false;
  for (const char *c = keymap; *c; c++)
    if (!(g_ascii_isalnum (*c) || strchr ("_.-", *c) != NULL))
      return false;
  return true;
}

gboolean
imprint_system_settings_check (const ImprintSystemSettings *s, GError **error)
{
  if (s->locale != NULL && !imprint_setup_locale_is_valid (s->locale))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a valid language setting."), s->locale);
      return FALSE;
    }
  if (s->keymap != NULL && !imprint_setup_keymap_is_valid (s->keymap))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a valid keyboard layout."), s->keymap);
      return FALSE;
    }
  if (s->timezone != NULL && !imprint_setup_timezone_is_valid (s->timezone))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a valid time zone."), s->timezone);
      return FALSE;
    }
  if (s->hostname != NULL && !imprint_setup_hostname_is_valid (s->hostname))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a valid computer name: use letters, digits and dashes."), s->hostname);
      return FALSE;
    }
  if (s->pretty_hostname != NULL && (strchr (s->pretty_hostname, '\n') != NULL || strlen (s->pretty_hostname) > 255))
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("The computer’s display name must be one line of at most 255 bytes."));
      return FALSE;
    }
  return TRUE;
}

/* ---- files in a root directory ---------------------------------------- */

/* Every file of a root directory is reached through imprint-root-fd.h:
 * the root may belong to the caller, who can put symlinks, FIFOs and huge
 * files into it (backend/setup/README.md, "Untrusted trees"). */

/* Configuration files of a root are small; anything bigger is not one. */
#define CONFIG_FILE_MAX (256u * 1024u)

static gboolean
set_errno_error (GError **error, int r, const char *what)
{
  g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
               /* Translators: "Could not write etc/hostname: Permission denied" */
               _("Could not write %s: %s"), what, g_strerror (-r));
  return FALSE;
}

/* Opens @root ("" or NULL: "/") for the path-based wrappers. */
static int
open_root (const char *root, int *ret_fd)
{
  if (root == NULL || root[0] == '\0')
    root = "/";
  return imprint_root_open (root, ret_fd);
}

/* A value read from a file of a root, shown to the caller and sent over
 * D-Bus: only valid UTF-8 of sensible length, else nothing. */
static char *
valid_value (char *s)
{
  if (s != NULL && (s[0] == '\0' || strlen (s) > 4096 || !g_utf8_validate (s, -1, NULL)))
    g_clear_pointer (&s, g_free);
  return s;
}

static bool
root_has_type (int root_fd, const char *path, mode_t type)
{
  _cleanup_close_ int fd = -1;
  struct stat st;

  if (imprint_root_openat (root_fd, path, O_PATH, 0, true, &fd) < 0 || fstat (fd, &st) < 0)
    return false;
  return (st.st_mode & S_IFMT) == type;
}

/* Writes @contents atomically below @root_fd: a temporary file next to
 * @path, renamed over it, so a reader never sees half a file. */
static gboolean
write_file_atomic (int root_fd, const char *path, const char *contents, mode_t mode, GError **error)
{
  int r = imprint_root_write_file (root_fd, path, contents, strlen (contents), mode, (uid_t) -1, (gid_t) -1, 0755);

  if (r < 0)
    return set_errno_error (error, r, path);
  return TRUE;
}

static char *
env_quote (const char *value)
{
  GString *s = g_string_new (NULL);
  bool plain = value[0] != '\0';

  for (const char *c = value; *c; c++)
    if (!(g_ascii_isalnum (*c) || strchr ("_.-@/+:,", *c) != NULL))
      plain = false;
  if (plain)
    {
      g_string_append (s, value);
      return g_string_free (s, FALSE);
    }
  g_string_append_c (s, '"');
  for (const char *c = value; *c; c++)
    {
      if (strchr ("\"\\`$", *c) != NULL)
        g_string_append_c (s, '\\');
      g_string_append_c (s, *c);
    }
  g_string_append_c (s, '"');
  return g_string_free (s, FALSE);
}

static char *
env_unquote (const char *value)
{
  GString *s = g_string_new (NULL);
  size_t n = strlen (value);

  if (n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n - 1] == value[0])
    {
      for (size_t i = 1; i + 1 < n; i++)
        {
          if (value[0] == '"' && value[i] == '\\' && i + 2 < n)
            i++;
          g_string_append_c (s, value[i]);
        }
    }
  else
    g_string_append (s, value);
  return g_string_free (s, FALSE);
}

/* Value of KEY in an environment-style file (locale.conf,
 * vconsole.conf, machine-info), NULL when absent. */
static char *
env_file_get (int root_fd, uid_t reader, const char *path, const char *key)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  size_t klen = strlen (key);

  if (imprint_root_read_file (root_fd, path, CONFIG_FILE_MAX, reader, &text, NULL) < 0)
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (size_t i = 0; lines[i] != NULL; i++)
    {
      const char *l = lines[i];
      while (*l == ' ' || *l == '\t')
        l++;
      if (strncmp (l, key, klen) == 0 && l[klen] == '=')
        {
          g_autofree char *v = g_strstrip (g_strdup (l + klen + 1));
          return valid_value (env_unquote (v));
        }
    }
  return NULL;
}

/* Sets KEY=VALUE in an environment-style file, keeping its other lines
 * (FONT= next to KEYMAP=, ICON_NAME= next to PRETTY_HOSTNAME=). */
static gboolean
env_file_set (int root_fd, const char *path, const char *key, const char *value, GError **error)
{
  g_autofree char *text = NULL, *quoted = env_quote (value);
  g_auto(GStrv) lines = NULL;
  GString *out = g_string_new (NULL);
  size_t klen = strlen (key);
  bool done = false;
  gboolean ok;

  if (imprint_root_read_file (root_fd, path, CONFIG_FILE_MAX, 0, &text, NULL) >= 0)
    {
      lines = g_strsplit (text, "\n", -1);
      for (size_t i = 0; lines[i] != NULL; i++)
        {
          const char *l = lines[i];
          if (lines[i + 1] == NULL && l[0] == '\0')
            break;   /* the empty string after the last newline */
          while (*l == ' ' || *l == '\t')
            l++;
          if (strncmp (l, key, klen) == 0 && l[klen] == '=')
            {
              if (!done)
                g_string_append_printf (out, "%s=%s\n", key, quoted);
              done = true;
              continue;
            }
          g_string_append_printf (out, "%s\n", lines[i]);
        }
    }
  if (!done)
    g_string_append_printf (out, "%s=%s\n", key, quoted);
  ok = write_file_atomic (root_fd, path, out->str, 0644, error);
  g_string_free (out, TRUE);
  return ok;
}

static gboolean
write_localtime (int root_fd, const char *tz, GPtrArray *warnings, GError **error)
{
  g_autofree char *target = g_strconcat ("../usr/share/zoneinfo/", tz, NULL);
  g_autofree char *zone = g_strconcat ("usr/share/zoneinfo/", tz, NULL);
  int r;

  /* An image-based target may not have its /usr below the root we were
   * given (it lives on the verity partition): then only the name can be
   * checked, against our own tz database. */
  if (!root_has_type (root_fd, zone, S_IFREG))
    {
      g_autofree char *here = g_build_filename ("/usr/share/zoneinfo", tz, NULL);
      if (root_has_type (root_fd, "usr/share/zoneinfo", S_IFDIR) || !g_file_test (here, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                       _("The time zone “%s” is not known."), tz);
          return FALSE;
        }
      if (warnings != NULL)
        g_ptr_array_add (warnings, g_strdup_printf (_("The time zone “%s” could only be checked against this system’s time zone list."), tz));
    }

  r = imprint_root_symlink (root_fd, "etc/localtime", target);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Could not set the time zone: %s"), g_strerror (-r));
      return FALSE;
    }
  return TRUE;
}

/* Where the boot passphrase prompt gets its keyboard layout: the initrd's
 * own /etc/vconsole.conf, or the kernel command line
 * (rd.vconsole.keymap=). A signed UKI carries both inside it, so nothing
 * written into the root changes them. */
static void
warn_initrd_keymap (const char *keymap, GPtrArray *warnings)
{
  if (warnings == NULL)
    return;
  g_ptr_array_add (warnings, g_strdup_printf (
    _("The keyboard layout “%s” is used once the system is running. The disk "
      "passphrase prompt at boot uses the layout built into the signed boot "
      "image, which may differ: type recovery keys and passphrases with that in mind."),
    keymap));
}

gboolean
imprint_setup_write_root_fd (int root_fd, const ImprintSystemSettings *s,
                             GPtrArray *warnings, GError **error)
{
  if (!imprint_system_settings_check (s, error))
    return FALSE;

  if (s->locale != NULL && !env_file_set (root_fd, "etc/locale.conf", "LANG", s->locale, error))
    return FALSE;
  if (s->keymap != NULL)
    {
      if (!env_file_set (root_fd, "etc/vconsole.conf", "KEYMAP", s->keymap, error))
        return FALSE;
      warn_initrd_keymap (s->keymap, warnings);
    }
  if (s->timezone != NULL && !write_localtime (root_fd, s->timezone, warnings, error))
    return FALSE;
  if (s->hostname != NULL)
    {
      g_autofree char *line = g_strconcat (s->hostname, "\n", NULL);
      if (!write_file_atomic (root_fd, "etc/hostname", line, 0644, error))
        return FALSE;
    }
  if (s->pretty_hostname != NULL &&
      !env_file_set (root_fd, "etc/machine-info", "PRETTY_HOSTNAME", s->pretty_hostname, error))
    return FALSE;
  return TRUE;
}

gboolean
imprint_setup_write_root (const char *root, const ImprintSystemSettings *s,
                          GPtrArray *warnings, GError **error)
{
  _cleanup_close_ int fd = -1;
  int r = open_root (root, &fd);

  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Cannot open “%s”: %s"), root, g_strerror (-r));
      return FALSE;
    }
  return imprint_setup_write_root_fd (fd, s, warnings, error);
}

void
imprint_setup_read_root_fd (int root_fd, uid_t reader, ImprintSystemSettings *ret)
{
  g_autofree char *link = NULL, *text = NULL;

  ret->locale = env_file_get (root_fd, reader, "etc/locale.conf", "LANG");
  ret->keymap = env_file_get (root_fd, reader, "etc/vconsole.conf", "KEYMAP");
  ret->pretty_hostname = env_file_get (root_fd, reader, "etc/machine-info", "PRETTY_HOSTNAME");
  /* Only the link's text: where it points is never opened. */
  if (imprint_root_read_link (root_fd, "etc/localtime", &link) >= 0)
    {
      const char *z = strstr (link, "zoneinfo/");
      if (z != NULL)
        ret->timezone = valid_value (g_strdup (z + strlen ("zoneinfo/")));
    }
  if (imprint_root_read_file (root_fd, "etc/hostname", CONFIG_FILE_MAX, reader, &text, NULL) >= 0)
    {
      g_strstrip (text);
      ret->hostname = valid_value (g_strdup (text));
    }
}

void
imprint_setup_read_root (const char *root, ImprintSystemSettings *ret)
{
  _cleanup_close_ int fd = -1;

  if (open_root (root, &fd) < 0)
    return;
  imprint_setup_read_root_fd (fd, 0, ret);
}

/* ---- the running system ----------------------------------------------- */

static gboolean
call (GDBusConnection *bus, const char *name, const char *path, const char *iface,
      const char *method, GVariant *args, GCancellable *cancellable, GError **error)
{
  g_autoptr(GVariant) r = NULL;

  r = g_dbus_connection_call_sync (bus, name, path, iface, method, args, NULL,
                                   G_DBUS_CALL_FLAGS_NONE, 60 * 1000, cancellable, error);
  return r != NULL;
}

static gboolean
fail_service (GError **error, const char *what)
{
  if (error == NULL || *error == NULL)
    return FALSE;
  g_dbus_error_strip_remote_error (*error);
  g_prefix_error (error, "%s: ", what);
  return FALSE;
}

gboolean
imprint_setup_apply_running (GDBusConnection *bus, const ImprintSystemSettings *s,
                             GPtrArray *warnings, GCancellable *cancellable, GError **error)
{
  if (!imprint_system_settings_check (s, error))
    return FALSE;

  if (s->locale != NULL)
    {
      g_autofree char *lang = g_strconcat ("LANG=", s->locale, NULL);
      const char *env[] = { lang, NULL };
      if (!call (bus, "org.freedesktop.locale1", "/org/freedesktop/locale1", "org.freedesktop.locale1",
                 "SetLocale", g_variant_new ("(^asb)", env, FALSE), cancellable, error))
        return fail_service (error, _("Could not set the language"));
    }
  if (s->keymap != NULL)
    {
      /* convert=TRUE: localed also sets the matching X11 layout, which
       * graphical sessions use. */
      if (!call (bus, "org.freedesktop.locale1", "/org/freedesktop/locale1", "org.freedesktop.locale1",
                 "SetVConsoleKeyboard", g_variant_new ("(ssbb)", s->keymap, "", TRUE, FALSE), cancellable, error))
        return fail_service (error, _("Could not set the keyboard layout"));
      warn_initrd_keymap (s->keymap, warnings);
    }
  if (s->timezone != NULL &&
      !call (bus, "org.freedesktop.timedate1", "/org/freedesktop/timedate1", "org.freedesktop.timedate1",
             "SetTimezone", g_variant_new ("(sb)", s->timezone, FALSE), cancellable, error))
    return fail_service (error, _("Could not set the time zone"));
  if (s->hostname != NULL &&
      !call (bus, "org.freedesktop.hostname1", "/org/freedesktop/hostname1", "org.freedesktop.hostname1",
             "SetStaticHostname", g_variant_new ("(sb)", s->hostname, FALSE), cancellable, error))
    return fail_service (error, _("Could not set the computer name"));
  if (s->pretty_hostname != NULL &&
      !call (bus, "org.freedesktop.hostname1", "/org/freedesktop/hostname1", "org.freedesktop.hostname1",
             "SetPrettyHostname", g_variant_new ("(sb)", s->pretty_hostname, FALSE), cancellable, error))
    return fail_service (error, _("Could not set the computer name"));
  return TRUE;
}

static GVariant *
get_property (GDBusConnection *bus, const char *name, const char *path, const char *iface, const char *prop)
{
  g_autoptr(GVariant) r = NULL;
  GVariant *v = NULL;

  r = g_dbus_connection_call_sync (bus, name, path, "org.freedesktop.DBus.Properties", "Get",
                                   g_variant_new ("(ss)", iface, prop), G_VARIANT_TYPE ("(v)"),
                                   G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, NULL, NULL);
  if (r != NULL)
    g_variant_get (r, "(v)", &v);
  return v;
}

static char *
get_string (GDBusConnection *bus, const char *name, const char *path, const char *iface, const char *prop)
{
  g_autoptr(GVariant) v = get_property (bus, name, path, iface, prop);

  if (v == NULL || !g_variant_is_of_type (v, G_VARIANT_TYPE_STRING) || g_variant_get_string (v, NULL)[0] == '\0')
    return NULL;
  return g_variant_dup_string (v, NULL);
}

void
imprint_setup_read_running (GDBusConnection *bus, ImprintSystemSettings *ret)
{
  g_autoptr(GVariant) locale = get_property (bus, "org.freedesktop.locale1", "/org/freedesktop/locale1",
                                             "org.freedesktop.locale1", "Locale");

  if (locale != NULL && g_variant_is_of_type (locale, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_autofree const char **env = g_variant_get_strv (locale, NULL);
      for (size_t i = 0; env[i] != NULL; i++)
        if (g_str_has_prefix (env[i], "LANG="))
          ret->locale = g_strdup (env[i] + 5);
    }
  ret->keymap = get_string (bus, "org.freedesktop.locale1", "/org/freedesktop/locale1",
                            "org.freedesktop.locale1", "VConsoleKeymap");
  ret->timezone = get_string (bus, "org.freedesktop.timedate1", "/org/freedesktop/timedate1",
                              "org.freedesktop.timedate1", "Timezone");
  ret->hostname = get_string (bus, "org.freedesktop.hostname1", "/org/freedesktop/hostname1",
                              "org.freedesktop.hostname1", "StaticHostname");
  ret->pretty_hostname = get_string (bus, "org.freedesktop.hostname1", "/org/freedesktop/hostname1",
                                     "org.freedesktop.hostname1", "PrettyHostname");
}

/* ---- credentials --------------------------------------------------------- */

void
imprint_setup_credentials_clear (ImprintSetupCredentials *c)
{
  imprint_system_settings_clear (&c->settings);
  g_clear_pointer (&c->user_name, g_free);
  g_clear_pointer (&c->real_name, g_free);
  g_clear_pointer (&c->decided, g_ptr_array_unref);
}

const char *
imprint_setup_credentials_dir (void)
{
  const char *e = g_getenv ("CREDENTIALS_DIRECTORY");

  /* A service with ImportCredential=/LoadCredential= gets its own copy;
   * otherwise the system credentials PID 1 received (v254+ path; older
   * systems have them only in the services that import them). */
  return e != NULL && e[0] != '\0' ? e : "/run/credentials/@system";
}

static char *
read_credential (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  g_strstrip (text);
  return valid_value (g_steal_pointer (&text));
}

static void
read_home_credential (const char *dir, const char *file, ImprintSetupCredentials *c)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr(JsonNode) root = imprint_json_parse_file (path, IMPRINT_JSON_MAX_BYTES, NULL);
  JsonObject *o;
  const char *user;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  o = json_node_get_object (root);
  /* homectl firstboot: the user name is the credential's suffix unless
   * the record names one. */
  user = json_object_get_string_member_with_default (o, "userName", file + strlen ("home.create."));
  if (!imprint_setup_user_name_is_valid (user))
    return;
  c->user_name = g_strdup (user);
  c->real_name = g_strdup (json_object_get_string_member_with_default (o, "realName", NULL));
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

void
imprint_setup_read_credentials (const char *dir, ImprintSetupCredentials *ret)
{
  static const struct { const char *credential; const char *key; size_t offset; } map[] = {
    { "firstboot.locale",   "locale",   G_STRUCT_OFFSET (ImprintSystemSettings, locale) },
    { "firstboot.keymap",   "keymap",   G_STRUCT_OFFSET (ImprintSystemSettings, keymap) },
    { "firstboot.timezone", "timezone", G_STRUCT_OFFSET (ImprintSystemSettings, timezone) },
    { "system.hostname",    "hostname", G_STRUCT_OFFSET (ImprintSystemSettings, hostname) },
  };
  g_autoptr(GDir) d = NULL;
  g_autoptr(GPtrArray) homes = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  ret->decided = g_ptr_array_new_with_free_func (g_free);
  if (dir == NULL)
    dir = imprint_setup_credentials_dir ();

  for (size_t i = 0; i < G_N_ELEMENTS (map); i++)
    {
      char **field = G_STRUCT_MEMBER_P (&ret->settings, map[i].offset);
      g_autofree char *v = read_credential (dir, map[i].credential);
      if (v == NULL)
        continue;
      *field = g_steal_pointer (&v);
      g_ptr_array_add (ret->decided, g_strdup (map[i].key));
    }

  d = g_dir_open (dir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, "home.create.") && name[strlen ("home.create.")] != '\0')
      g_ptr_array_add (homes, g_strdup (name));
  /* The first one in sort order, for a stable answer. */
  g_ptr_array_sort (homes, compare_strings);
  for (guint i = 0; i < homes->len && ret->user_name == NULL; i++)
    read_home_credential (dir, g_ptr_array_index (homes, i), ret);
  if (ret->user_name != NULL)
    g_ptr_array_add (ret->decided, g_strdup ("user"));
}

/* ---- markers ------------------------------------------------------------------ */

char *
imprint_setup_state_dir (const char *root)
{
  const char *e = g_getenv ("STATE_DIRECTORY");

  if ((root == NULL || root[0] == '\0' || g_str_equal (root, "/")) && e != NULL && e[0] != '\0')
    {
      /* systemd may pass several, separated by ':'; ours is the first. */
      const char *colon = strchr (e, ':');
      return colon != NULL ? g_strndup (e, colon - e) : g_strdup (e);
    }
  return g_build_filename (root == NULL || root[0] == '\0' ? "/" : root, "var/lib/imprint", NULL);
}

char *
imprint_setup_machine_id_fd (int root_fd)
{
  g_autofree char *text = NULL;

  if (imprint_root_read_file (root_fd, "etc/machine-id", 4096, 0, &text, NULL) < 0)
    return NULL;
  g_strstrip (text);
  if (strlen (text) != 32)
    return NULL;
  for (const char *c = text; *c; c++)
    if (!g_ascii_isxdigit (*c))
      return NULL;
  return g_steal_pointer (&text);
}

char *
imprint_setup_machine_id (const char *root)
{
  _cleanup_close_ int fd = -1;

  if (open_root (root, &fd) < 0)
    return NULL;
  return imprint_setup_machine_id_fd (fd);
}

/* Imprint's state directory: $STATE_DIRECTORY (systemd's, trusted) for
 * the running system when set, else var/lib/imprint below @root_fd. */
static int
open_state_dir (int root_fd, bool running, bool create, int *ret_fd)
{
  const char *e = running ? g_getenv ("STATE_DIRECTORY") : NULL;

  if (e != NULL && e[0] != '\0')
    {
      const char *colon = strchr (e, ':');
      g_autofree char *dir = colon != NULL ? g_strndup (e, colon - e) : g_strdup (e);
      int fd;

      if (create && g_mkdir_with_parents (dir, 0755) < 0)
        return negative_errno ();
      fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        return negative_errno ();
      *ret_fd = fd;
      return 0;
    }
  if (create)
    return imprint_root_mkdir_p (root_fd, "var/lib/imprint", 0755, ret_fd);
  return imprint_root_openat (root_fd, "var/lib/imprint", O_RDONLY | O_DIRECTORY, 0, true, ret_fd);
}

static bool
root_exists (int root_fd, const char *path)
{
  struct stat st;
  return imprint_root_lstat (root_fd, path, &st) >= 0;
}

bool
imprint_setup_is_complete_fd (int root_fd, bool running)
{
  _cleanup_close_ int state = -1;

  if (open_state_dir (root_fd, running, false, &state) < 0)
    return false;
  return !root_exists (state, "setup-pending") && root_exists (state, "setup-complete");
}

bool
imprint_setup_is_pending_fd (int root_fd, bool running)
{
  _cleanup_close_ int state = -1;
  g_autofree char *machine_id = NULL;

  if (open_state_dir (root_fd, running, false, &state) >= 0)
    {
      if (root_exists (state, "setup-pending"))
        return true;
      if (root_exists (state, "setup-complete"))
        return false;
    }
  /* ConditionFirstBoot=: PID 1 finds /etc/machine-id missing, empty or
   * "uninitialized", and remembers that for the rest of the boot in
   * /run/systemd/first-boot (the machine ID itself is committed before
   * the boot ends, so that flag is what counts on a running system). */
  if (root_exists (root_fd, "run/systemd/first-boot"))
    return true;
  machine_id = imprint_setup_machine_id_fd (root_fd);
  return machine_id == NULL;
}

static bool
is_running_root (const char *root)
{
  return root == NULL || root[0] == '\0' || g_str_equal (root, "/");
}

bool
imprint_setup_is_pending (const char *root)
{
  _cleanup_close_ int fd = -1;

  if (open_root (root, &fd) < 0)
    return false;
  return imprint_setup_is_pending_fd (fd, is_running_root (root));
}

int
imprint_setup_mark_complete_fd (int root_fd, bool running)
{
  _cleanup_close_ int state = -1;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format_iso8601 (now);
  g_autofree char *line = g_strconcat (stamp, "\n", NULL);
  int r;

  r = open_state_dir (root_fd, running, true, &state);
  if (r < 0)
    return r;
  r = imprint_root_write_file (state, "setup-complete", line, strlen (line), 0644, (uid_t) -1, (gid_t) -1, 0755);
  if (r < 0)
    return r;
  r = imprint_root_unlink (state, "setup-pending");
  if (r < 0 && r != -ENOENT)
    return r;
  return 0;
}

int
imprint_setup_mark_complete (const char *root)
{
  _cleanup_close_ int fd = -1;
  int r = open_root (root, &fd);

  if (r < 0)
    return r;
  return imprint_setup_mark_complete_fd (fd, is_running_root (root));
}

static bool
group_exists (int root_fd, const char *name)
{
  g_autofree char *text = NULL;
  g_autofree char *prefix = g_strconcat (name, ":", NULL);
  g_auto(GStrv) lines = NULL;

  if (root_fd < 0)
    return getgrnam (name) != NULL;
  if (imprint_root_read_file (root_fd, "etc/group", IMPRINT_ROOT_READ_MAX, 0, &text, NULL) < 0)
    return false;
  lines = g_strsplit (text, "\n", -1);
  for (size_t i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return true;
  return false;
}

/* polkit and sudo call administrators "wheel" on most distributions and
 * "sudo" on Debian and its derivatives. @root_fd < 0: this system (NSS). */
char *
imprint_setup_admin_group_fd (int root_fd)
{
  if (group_exists (root_fd, "wheel"))
    return g_strdup ("wheel");
  if (group_exists (root_fd, "sudo"))
    return g_strdup ("sudo");
  return g_strdup ("wheel");
}

char *
imprint_setup_admin_group (const char *root)
{
  _cleanup_close_ int fd = -1;

  if (is_running_root (root))
    return imprint_setup_admin_group_fd (-1);
  if (open_root (root, &fd) < 0)
    return g_strdup ("wheel");
  return imprint_setup_admin_group_fd (fd);
}
