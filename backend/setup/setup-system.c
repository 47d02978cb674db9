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

static char *
root_path (const char *root, const char *path)
{
  if (root == NULL || root[0] == '\0')
    root = "/";
  return g_build_filename (root, path, NULL);
}

/* Writes @contents atomically: a temporary file next to @path, renamed
 * over it, so a reader never sees half a file. */
static gboolean
write_file_atomic (const char *path, const char *contents, mode_t mode, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      int e = errno;
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (-e),
                   _("Could not create %s: %s"), dir, g_strerror (e));
      return FALSE;
    }
  if (!g_file_set_contents_full (path, contents, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 mode, error))
    return FALSE;
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
env_file_get (const char *path, const char *key)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  size_t klen = strlen (key);

  if (!g_file_get_contents (path, &text, NULL, NULL))
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
          return env_unquote (v);
        }
    }
  return NULL;
}

/* Sets KEY=VALUE in an environment-style file, keeping its other lines
 * (FONT= next to KEYMAP=, ICON_NAME= next to PRETTY_HOSTNAME=). */
static gboolean
env_file_set (const char *path, const char *key, const char *value, GError **error)
{
  g_autofree char *text = NULL, *quoted = env_quote (value);
  g_auto(GStrv) lines = NULL;
  GString *out = g_string_new (NULL);
  size_t klen = strlen (key);
  bool done = false;
  gboolean ok;

  if (g_file_get_contents (path, &text, NULL, NULL))
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
  ok = write_file_atomic (path, out->str, 0644, error);
  g_string_free (out, TRUE);
  return ok;
}

static gboolean
write_localtime (const char *root, const char *tz, GPtrArray *warnings, GError **error)
{
  g_autofree char *link = root_path (root, "etc/localtime");
  g_autofree char *target = g_strconcat ("../usr/share/zoneinfo/", tz, NULL);
  g_autofree char *in_root = root_path (root, "usr/share/zoneinfo");
  g_autofree char *zone = g_build_filename (in_root, tz, NULL);
  g_autofree char *tmp = g_strconcat (link, ".imprint-new", NULL);
  g_autofree char *dir = g_path_get_dirname (link);

  /* An image-based target may not have its /usr below the root we were
   * given (it lives on the verity partition): then only the name can be
   * checked, against our own tz database. */
  if (!g_file_test (zone, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *here = g_build_filename ("/usr/share/zoneinfo", tz, NULL);
      if (g_file_test (in_root, G_FILE_TEST_IS_DIR) || !g_file_test (here, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                       _("The time zone “%s” is not known."), tz);
          return FALSE;
        }
      if (warnings != NULL)
        g_ptr_array_add (warnings, g_strdup_printf (_("The time zone “%s” could only be checked against this system’s time zone list."), tz));
    }

  (void) g_mkdir_with_parents (dir, 0755);
  (void) unlink (tmp);
  if (symlink (target, tmp) < 0 || rename (tmp, link) < 0)
    {
      int e = errno;
      (void) unlink (tmp);
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (-e),
                   _("Could not set the time zone: %s"), g_strerror (e));
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
imprint_setup_write_root (const char *root, const ImprintSystemSettings *s,
                          GPtrArray *warnings, GError **error)
{
  if (!imprint_system_settings_check (s, error))
    return FALSE;

  if (s->locale != NULL)
    {
      g_autofree char *p = root_path (root, "etc/locale.conf");
      if (!env_file_set (p, "LANG", s->locale, error))
        return FALSE;
    }
  if (s->keymap != NULL)
    {
      g_autofree char *p = root_path (root, "etc/vconsole.conf");
      if (!env_file_set (p, "KEYMAP", s->keymap, error))
        return FALSE;
      warn_initrd_keymap (s->keymap, warnings);
    }
  if (s->timezone != NULL && !write_localtime (root, s->timezone, warnings, error))
    return FALSE;
  if (s->hostname != NULL)
    {
      g_autofree char *p = root_path (root, "etc/hostname");
      g_autofree char *line = g_strconcat (s->hostname, "\n", NULL);
      if (!write_file_atomic (p, line, 0644, error))
        return FALSE;
    }
  if (s->pretty_hostname != NULL)
    {
      g_autofree char *p = root_path (root, "etc/machine-info");
      if (!env_file_set (p, "PRETTY_HOSTNAME", s->pretty_hostname, error))
        return FALSE;
    }
  return TRUE;
}

void
imprint_setup_read_root (const char *root, ImprintSystemSettings *ret)
{
  g_autofree char *locale = root_path (root, "etc/locale.conf");
  g_autofree char *vconsole = root_path (root, "etc/vconsole.conf");
  g_autofree char *localtime = root_path (root, "etc/localtime");
  g_autofree char *hostname = root_path (root, "etc/hostname");
  g_autofree char *machine_info = root_path (root, "etc/machine-info");
  g_autofree char *link = NULL, *text = NULL;

  ret->locale = env_file_get (locale, "LANG");
  ret->keymap = env_file_get (vconsole, "KEYMAP");
  ret->pretty_hostname = env_file_get (machine_info, "PRETTY_HOSTNAME");
  link = g_file_read_link (localtime, NULL);
  if (link != NULL)
    {
      const char *z = strstr (link, "zoneinfo/");
      if (z != NULL)
        ret->timezone = g_strdup (z + strlen ("zoneinfo/"));
    }
  if (g_file_get_contents (hostname, &text, NULL, NULL))
    {
      g_strstrip (text);
      if (text[0] != '\0')
        ret->hostname = g_strdup (text);
    }
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
  if (text[0] == '\0')
    return NULL;
  return g_steal_pointer (&text);
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
  return root_path (root, "var/lib/imprint");
}

char *
imprint_setup_machine_id (const char *root)
{
  g_autofree char *path = root_path (root, "etc/machine-id");
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  g_strstrip (text);
  if (strlen (text) != 32)
    return NULL;
  for (const char *c = text; *c; c++)
    if (!g_ascii_isxdigit (*c))
      return NULL;
  return g_steal_pointer (&text);
}

bool
imprint_setup_is_pending (const char *root)
{
  g_autofree char *state = imprint_setup_state_dir (root);
  g_autofree char *pending = g_build_filename (state, "setup-pending", NULL);
  g_autofree char *complete = g_build_filename (state, "setup-complete", NULL);
  g_autofree char *machine_id = NULL;

  if (g_file_test (pending, G_FILE_TEST_EXISTS))
    return true;
  if (g_file_test (complete, G_FILE_TEST_EXISTS))
    return false;
  /* ConditionFirstBoot=: PID 1 finds /etc/machine-id missing, empty or
   * "uninitialized", and remembers that for the rest of the boot in
   * /run/systemd/first-boot (the machine ID itself is committed before
   * the boot ends, so that flag is what counts on a running system). */
  {
    g_autofree char *flag = root_path (root, "run/systemd/first-boot");
    if (g_file_test (flag, G_FILE_TEST_EXISTS))
      return true;
  }
  machine_id = imprint_setup_machine_id (root);
  return machine_id == NULL;
}

int
imprint_setup_mark_complete (const char *root)
{
  g_autofree char *state = imprint_setup_state_dir (root);
  g_autofree char *pending = g_build_filename (state, "setup-pending", NULL);
  g_autofree char *complete = g_build_filename (state, "setup-complete", NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format_iso8601 (now);
  g_autofree char *line = g_strconcat (stamp, "\n", NULL);
  g_autoptr(GError) error = NULL;

  if (g_mkdir_with_parents (state, 0755) < 0)
    return -errno;
  if (!write_file_atomic (complete, line, 0644, &error))
    return -EIO;
  if (unlink (pending) < 0 && errno != ENOENT)
    return -errno;
  return 0;
}

static bool
group_exists (const char *root, const char *name)
{
  g_autofree char *path = NULL, *text = NULL;
  g_autofree char *prefix = g_strconcat (name, ":", NULL);
  g_auto(GStrv) lines = NULL;

  if (root == NULL || root[0] == '\0' || g_str_equal (root, "/"))
    return getgrnam (name) != NULL;
  path = root_path (root, "etc/group");
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return false;
  lines = g_strsplit (text, "\n", -1);
  for (size_t i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return true;
  return false;
}

/* polkit and sudo call administrators "wheel" on most distributions and
 * "sudo" on Debian and its derivatives. */
char *
imprint_setup_admin_group (const char *root)
{
  if (group_exists (root, "wheel"))
    return g_strdup ("wheel");
  if (group_exists (root, "sudo"))
    return g_strdup ("sudo");
  return g_strdup ("wheel");
}
