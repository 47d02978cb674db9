/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "update.h"

void
imprint_update_paths_from_env (ImprintUpdatePaths *paths)
{
  /* Test hooks: imprintd is started by D-Bus activation with a clean
   * environment, so only someone who already runs it as root can set
   * these. */
  paths->root = g_getenv ("IMPRINTD_TEST_ROOT");
  paths->efivars = g_getenv ("IMPRINTD_TEST_EFIVARS");
  paths->sysfs = g_getenv ("IMPRINTD_TEST_SYSFS");
  paths->usr_disk = g_getenv ("IMPRINTD_TEST_USR_DISK");
  paths->sysupdate = g_getenv ("IMPRINTD_TEST_SYSUPDATE");
}

/* One value: the os-release(5) subset of shell quoting (single quotes,
 * double quotes with backslash escapes, bare words with escapes). */
static int
unquote (const char *s, char **ret)
{
  GString *out = g_string_new (NULL);
  char quote = 0;

  for (; *s; s++)
    {
      if (quote == '\'')
        {
          if (*s == '\'')
            quote = 0;
          else
            g_string_append_c (out, *s);
        }
      else if (*s == '\\' && s[1] != '\0')
        {
          s++;
          g_string_append_c (out, *s);
        }
      else if (quote == '"')
        {
          if (*s == '"')
            quote = 0;
          else
            g_string_append_c (out, *s);
        }
      else if (*s == '"' || *s == '\'')
        quote = *s;
      else if (*s == ' ' || *s == '\t')
        break;  /* trailing words or comments after a bare value */
      else
        g_string_append_c (out, *s);
    }
  if (quote != 0)
    {
      g_string_free (out, TRUE);
      return -EBADMSG;
    }
  *ret = g_string_free (out, FALSE);
  return 0;
}

int
imprint_os_release_parse (const char *text, GHashTable **ret)
{
  g_autoptr(GHashTable) table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (gsize i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      char *eq, *value = NULL;

      if (*line == '\0' || *line == '#')
        continue;
      eq = strchr (line, '=');
      if (eq == NULL || eq == line)
        continue;  /* not an assignment: ignored, as systemd does */
      *eq = '\0';
      if (unquote (eq + 1, &value) < 0)
        continue;
      g_hash_table_replace (table, g_strdup (g_strstrip (line)), value);
    }
  *ret = g_steal_pointer (&table);
  return 0;
}

int
imprint_os_release_read (const char *root, GHashTable **ret)
{
  const char *candidates[] = { "etc/os-release", "usr/lib/os-release" };

  for (gsize i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      g_autofree char *path = g_build_filename (root ? root : "/", candidates[i], NULL);
      g_autofree char *text = NULL;
      g_autoptr(GError) error = NULL;

      if (!g_file_get_contents (path, &text, NULL, &error))
        {
          if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            continue;
          return -EIO;
        }
      return imprint_os_release_parse (text, ret);
    }
  return -ENOENT;
}
