/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* System settings (locale, keymap, time zone, host names): checked, and
 * written to or read from an installed root's /etc like systemd-firstboot
 * --root. The running system is setup-running.c; credentials and the
 * setup markers setup-state.c. */
#include "setup-private.h"
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
#include "setup-private.h"
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
int
imprint_setup_open_root (const char *root, int *ret_fd)
{
  if (root == NULL || root[0] == '\0')
    root = "/";
  return imprint_root_open (root, ret_fd);
}

/* A value read from a file of a root, shown to the caller and sent over
 * D-Bus: only valid UTF-8 of sensible length, else nothing. */
char *
imprint_setup_valid_value (char *s)
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
          return imprint_setup_valid_value (env_unquote (v));
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
void
imprint_setup_warn_initrd_keymap (const char *keymap, GPtrArray *warnings)
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
      imprint_setup_warn_initrd_keymap (s->keymap, warnings);
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
  int r = imprint_setup_open_root (root, &fd);

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
        ret->timezone = imprint_setup_valid_value (g_strdup (z + strlen ("zoneinfo/")));
    }
  if (imprint_root_read_file (root_fd, "etc/hostname", CONFIG_FILE_MAX, reader, &text, NULL) >= 0)
    {
      g_strstrip (text);
      ret->hostname = imprint_setup_valid_value (g_strdup (text));
    }
}

void
imprint_setup_read_root (const char *root, ImprintSystemSettings *ret)
{
  _cleanup_close_ int fd = -1;

  if (imprint_setup_open_root (root, &fd) < 0)
    return;
  imprint_setup_read_root_fd (fd, 0, ret);
}
