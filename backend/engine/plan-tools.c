/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

/* External tools the engine runs: a command with its output captured,
 * and FAT usage through mtools (no mount needed). */
#include <glib/gi18n.h>
#include <inttypes.h>
#include <string.h>

#include "imprint-error.h"
#include "plan-private.h"

/* Runs a command, capturing stdout; stderr goes into the error. */
gboolean
imprint_run (const char *const *argv, char **ret_stdout, GError **error)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) local = NULL;
  int status = 0;
  const char *env[] = { "LC_ALL=C", "MTOOLS_SKIP_CHECK=1", "SYSTEMD_LOG_LEVEL=notice",
                        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL };

  if (!g_spawn_sync (NULL, (char **) argv, (char **) env, G_SPAWN_SEARCH_PATH, NULL, NULL,
                     &out, &err, &status, &local))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_UNAVAILABLE, _("Cannot run %s: %s"),
                   argv[0], local->message);
      return FALSE;
    }
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_strstrip (err);
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("%s failed: %s"), argv[0],
                   err[0] ? err : _("no message"));
      return FALSE;
    }
  if (ret_stdout)
    *ret_stdout = g_steal_pointer (&out);
  return TRUE;
}

/* mdir prints "N bytes" for the listed files and "M bytes free"; numbers
 * carry spaces as thousands separators. */
/* Parses the number in front of " bytes" on a line of mdir's output;
 * mdir writes thousands separated by spaces. */
static gboolean
mdir_number (const char *line, const char *suffix, guint64 *ret)
{
  const char *end = strstr (line, suffix);
  g_autoptr(GString) digits = g_string_new (NULL);
  const char *q;

  if (end == NULL)
    return FALSE;
  for (q = end; q > line && (g_ascii_isdigit (q[-1]) || q[-1] == ' '); q--)
    ;
  for (; q < end; q++)
    if (g_ascii_isdigit (*q))
      g_string_append_c (digits, *q);
  if (digits->len == 0)
    return FALSE;
  *ret = g_ascii_strtoull (digits->str, NULL, 10);
  return TRUE;
}

gboolean
imprint_vfat_usage (const char *image, guint64 offset, guint64 *ret_used, guint64 *ret_free,
                    GError **error)
{
  g_autofree char *spec = g_strdup_printf ("%s@@%" G_GUINT64_FORMAT, image, offset);
  g_autofree char *out = NULL;
  guint64 used = 0, free_ = 0;
  gboolean have = FALSE;

  /* Free space from a plain listing of the root (works on an empty one);
   * used space from a recursive listing (needs files, which a source ESP
   * has). */
  if (ret_free)
    {
      const char *argv[] = { "mdir", "-a", "-i", spec, "::/", NULL };
      if (!imprint_run (argv, &out, error))
        return FALSE;
      g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
      for (char **l = lines; *l; l++)
        if (mdir_number (*l, " bytes free", &free_))
          have = TRUE;
      if (!have)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                       _("Cannot read the free space of the FAT file system at offset %" PRIu64),
                       offset);
          return FALSE;
        }
      g_clear_pointer (&out, g_free);
    }
  if (ret_used)
    {
      const char *argv[] = { "mdir", "-/", "-a", "-i", spec, "::/", NULL };
      if (!imprint_run (argv, &out, error))
        return FALSE;
      g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
      /* "Total files listed:" is followed by "N files   X bytes". */
      for (char **l = lines; *l; l++)
        if (strstr (*l, " files ") && !strstr (*l, "free"))
          mdir_number (*l, " bytes", &used);
    }
  if (ret_used)
    *ret_used = used;
  if (ret_free)
    *ret_free = free_;
  return TRUE;
}
