/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gprintf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imprintctl.h"

/* Helpers the verbs share: option parsing, secrets read from and written
 * to files, dictionary look-ups. */

gboolean
ctl_parse_options (Ctl *ctl, GOptionContext *context, int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;

  /* --help is GOption's: it prints and exits 0 from in here, before the
   * verb has touched the bus. */
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (ctl->verb_summary != NULL)
    g_option_context_set_summary (context, _(ctl->verb_summary));
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("imprintctl: %s\n", error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
ctl_parse_no_options (Ctl *ctl, const char *parameters, int max_args, int *argc, char ***argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (parameters);

  if (!ctl_parse_options (ctl, context, argc, argv))
    return FALSE;
  if (*argc - 1 > max_args)
    {
      if (max_args == 0)
        g_printerr (_("imprintctl: %s takes no arguments.\n"), (*argv)[0]);
      else
        g_printerr (_("imprintctl: %s takes at most one argument.\n"), (*argv)[0]);
      return FALSE;
    }
  return TRUE;
}

const char *
ctl_lookup_s (GVariant *dict, const char *key)
{
  const char *s = "";

  g_variant_lookup (dict, key, "&s", &s);
  return s;
}

gboolean
ctl_lookup_b (GVariant *dict, const char *key)
{
  gboolean b = FALSE;

  g_variant_lookup (dict, key, "b", &b);
  return b;
}

char *
ctl_secret_take (char *heap)
{
  char *s;

  if (heap == NULL)
    return NULL;
  s = imprint_secret_strdup (heap);
  explicit_bzero (heap, strlen (heap));
  g_free (heap);
  if (s == NULL)
    g_error ("%s: %s", G_STRLOC, g_strerror (errno));
  return s;
}

char *
ctl_resolve_path (const char *path)
{
  g_autofree char *real = NULL;

  if (path == NULL || *path == '\0')
    return g_strdup ("");
  real = realpath (path, NULL);
  if (real != NULL)
    return g_steal_pointer (&real);
  /* Missing or unreadable: imprintd says why, for the name as typed. */
  return g_canonicalize_filename (path, NULL);
}

char *
ctl_read_secret_file (const char *path, GError **error)
{
  char *text;

  if (g_str_equal (path, "-"))
    {
      char buf[1024];
      if (fgets (buf, sizeof buf, stdin) == NULL)
        {
          explicit_bzero (buf, sizeof buf);
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Nothing to read on standard input."));
          return NULL;
        }
      text = imprint_secret_strdup (buf);
      explicit_bzero (buf, sizeof buf);
      if (text == NULL)
        g_error ("%s: %s", G_STRLOC, g_strerror (errno));
    }
  else
    {
      char *heap = NULL;
      gsize len = 0;

      if (!g_file_get_contents (path, &heap, &len, error))
        return NULL;
      /* GLib reads onto the heap: move it into secret memory at once. The
       * copy stops at a NUL, as the string did before. */
      text = imprint_secret_strdup (heap);
      explicit_bzero (heap, len);
      g_free (heap);
      if (text == NULL)
        g_error ("%s: %s", G_STRLOC, g_strerror (errno));
    }
  /* One line: a trailing newline is not part of the secret. */
  text[strcspn (text, "\r\n")] = '\0';
  return text;
}

int
ctl_write_secret_file (const char *path, const char *secret)
{
  size_t n = strlen (secret);
  int fd;

  /* 0600 from the start: a key must never be readable by others, not even
   * for a moment. */
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return -errno;
  if (fchmod (fd, 0600) < 0 || write (fd, secret, n) != (ssize_t) n ||
      write (fd, "\n", 1) != 1 || fsync (fd) < 0)
    {
      int r = -errno;
      close (fd);
      return r;
    }
  return close (fd) < 0 ? -errno : 0;
}

char *
ctl_new_recovery_key (Ctl *ctl, const char *save_to, int *ret_exit)
{
  g_autoptr(GError) error = NULL;
  char *reply = NULL, *key;
  int w;

  if (!imprint_manager_call_generate_recovery_key_sync (ctl->manager, ctl_options_new (ctl),
                                                        &reply, NULL, &error))
    {
      *ret_exit = ctl_report_error (error);
      return NULL;
    }
  key = ctl_secret_take (reply);
  /* Saved before the disk changes: a disk must never be encrypted with a
   * key nobody has. */
  if (save_to != NULL && (w = ctl_write_secret_file (save_to, key)) < 0)
    {
      g_printerr (_("imprintctl: cannot write the recovery key to %s: %s\n"), save_to, g_strerror (-w));
      imprint_secret_freep (&key);
      *ret_exit = EXIT_CODE_FAILED;
      return NULL;
    }
  return key;
}

void
ctl_print_key_event (const char *event, const char *key)
{
  g_autoptr(GVariantBuilder) b = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
  g_autofree char *text = NULL;

  g_variant_builder_add (b, "{sv}", "event", g_variant_new_string (event));
  g_variant_builder_add (b, "{sv}", "recovery-key", g_variant_new_string (key));
  text = ctl_variant_to_json (g_variant_builder_end (b), FALSE);
  g_print ("%s\n", text);
  explicit_bzero (text, strlen (text));
}

void
ctl_show_recovery_key (Ctl *ctl, const char *event, const char *key, const char *format, ...)
{
  va_list args;

  if (ctl->json)
    {
      ctl_print_key_event (event, key);
      return;
    }
  va_start (args, format);
  g_vprintf (format, args);
  va_end (args);
}
