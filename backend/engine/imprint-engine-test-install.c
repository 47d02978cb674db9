/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test-only driver for the install engine (not installed): inspects a
 * source, prints or runs the plan, prints progress as JSON lines. Tests
 * kill it mid-copy; IMPRINT_TEST_SLOW_MS slows each progress report so a
 * kill lands inside a step. */
#include "config.h"

#include <glib/gi18n.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>

#include "imprint-error.h"
#include "install.h"

static guint64 cancel_after = 0;

/* Test stand-in for the encryption library: marks the root partition so
 * the test can see the hook got the right one, with no file system made by
 * systemd-repart on it. */
static gboolean
test_encrypt_hook (const ImprintRootPartition *root, gpointer user_data, GError **error)
{
  g_autofree char *line = g_strdup_printf ("IMPRINT-TEST-HOOK %u %s %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "\n",
                                           root->number, root->uuid, root->offset, root->size);
  int fd = open (root->target, O_WRONLY | O_CLOEXEC);
  gboolean ok = fd >= 0 && pwrite (fd, line, strlen (line), (off_t) root->offset) == (ssize_t) strlen (line);
  if (fd >= 0)
    close (fd);
  if (!ok)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, "hook failed to write");
  printf ("{\"hook\":\"%s\"}\n", g_strchomp (line));
  return ok;
}

static void
on_progress (const char *step, guint64 done, guint64 total, gpointer user_data)
{
  static guint slow_ms = G_MAXUINT;
  static char utf8_bytes[129];
  g_autofree char *s = NULL;

  /* Step names are UTF-8 (typographic apostrophes): keep them as they are,
   * escape only what JSON needs. */
  if (utf8_bytes[0] == '\0')
    for (int i = 0; i < 128; i++)
      utf8_bytes[i] = (char) (0x80 + i);
  s = g_strescape (step, utf8_bytes);

  if (slow_ms == G_MAXUINT)
    {
      const char *e = g_getenv ("IMPRINT_TEST_SLOW_MS");
      slow_ms = e ? (guint) atoi (e) : 0;
    }
  printf ("{\"step\":\"%s\",\"done\":%" G_GUINT64_FORMAT ",\"total\":%" G_GUINT64_FORMAT "}\n", s, done, total);
  fflush (stdout);
  if (slow_ms)
    g_usleep (slow_ms * 1000);
  if (cancel_after && done >= cancel_after)
    g_cancellable_cancel (user_data);
}

int
main (int argc, char **argv)
{
  g_autofree char *source_path = NULL, *target = NULL, *defs = NULL, *efivars = NULL, *cert = NULL;
  gboolean erase = FALSE, free_space = FALSE, defer = FALSE, dry_run = FALSE, inspect = FALSE;
  gboolean hook = FALSE, verify_first = FALSE;
  gint64 cancel_bytes = 0, shrink_size = 0;
  gint shrink_partition = 0;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "source", 0, 0, G_OPTION_ARG_FILENAME, &source_path, "Source image or device, or @running", "PATH" },
    { "target", 0, 0, G_OPTION_ARG_FILENAME, &target, "Target disk or image file", "PATH" },
    { "erase", 0, 0, G_OPTION_ARG_NONE, &erase, "Erase the target", NULL },
    { "use-free-space", 0, 0, G_OPTION_ARG_NONE, &free_space, "Use free space", NULL },
    { "defer-data-partitions", 0, 0, G_OPTION_ARG_NONE, &defer, "Leave data partitions to first boot", NULL },
    { "definitions", 0, 0, G_OPTION_ARG_FILENAME, &defs, "repart.d directory", "DIR" },
    { "efivars", 0, 0, G_OPTION_ARG_FILENAME, &efivars, "efivarfs directory", "DIR" },
    { "certificate", 0, 0, G_OPTION_ARG_FILENAME, &cert, "Certificate the verity signature must verify with", "PEM" },
    { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run, "Print the plan only", NULL },
    { "inspect", 0, 0, G_OPTION_ARG_NONE, &inspect, "Inspect the source only", NULL },
    { "cancel-after-bytes", 0, 0, G_OPTION_ARG_INT64, &cancel_bytes, "Cancel once this much was copied", "N" },
    { "verify-first", 0, 0, G_OPTION_ARG_NONE, &verify_first, "Verify the source before writing", NULL },
    { "shrink-partition", 0, 0, G_OPTION_ARG_INT, &shrink_partition, "Shrink this NTFS partition first", "N" },
    { "shrink-size", 0, 0, G_OPTION_ARG_INT64, &shrink_size, "to this many bytes", "BYTES" },
    { "test-encrypt-hook", 0, 0, G_OPTION_ARG_NONE, &hook, "Use the test encryption hook", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(ImprintSource) src = NULL;
  g_autoptr(ImprintPlan) plan = NULL;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || source_path == NULL ||
      (!inspect && (target == NULL || erase == free_space)))
    {
      fprintf (stderr, "usage: --source PATH [--inspect | --target PATH (--erase|--use-free-space) ...]\n");
      return 2;
    }

  cancel_after = (guint64) cancel_bytes;
  ImprintSourceOptions sopts = { .certificate_path = cert };
  /* "@running": the disk behind this system's /usr, trusted via usrhash=. */
  src = g_str_equal (source_path, "@running") ? imprint_source_inspect_running (&error)
                                              : imprint_source_inspect (source_path, &sopts, &error);
  if (src == NULL)
    goto fail;
  if (inspect)
    {
      printf ("{\"name\":\"%s\",\"version\":\"%s\",\"root_hash\":\"%s\",\"usr\":%u,\"usr_verity\":%u,"
              "\"usr_verity_sig\":%u,\"esp\":%u}\n", src->name, src->version, src->root_hash,
              src->usr.partno + 1, src->usr_verity.partno + 1, src->usr_verity_sig.partno + 1,
              src->esp.partno + 1);
      return 0;
    }

  ImprintInstallOptions o = {
    .plan = { .mode = erase ? IMPRINT_INSTALL_MODE_ERASE : IMPRINT_INSTALL_MODE_FREE_SPACE,
              .defer_data_partitions = defer, .definitions_dir = defs,
              .shrink_partition = (guint) MAX (shrink_partition, 0),
              .shrink_size = (guint64) MAX (shrink_size, 0) },
    .progress = on_progress,
    .progress_data = cancellable,
    .cancellable = cancellable,
    .encrypt_root_test_hook = hook ? test_encrypt_hook : NULL,
    .verify_source_first = verify_first,
    .efivars_dir = efivars,
  };
  plan = imprint_plan_compute (src, target, &o.plan, &error);
  if (plan == NULL)
    goto fail;
  if (dry_run)
    {
      g_autoptr(GVariant) v = g_variant_ref_sink (imprint_plan_to_variant (plan, src));
      g_autofree char *s = g_variant_print (v, TRUE);
      printf ("%s\n", s);
      return 0;
    }
  if (!imprint_install (src, target, plan, &o, &error))
    goto fail;
  return 0;

fail:
  fprintf (stderr, "error %s %d: %s\n", imprint_error_to_dbus_name (error->code), error->code, error->message);
  switch (error->code)
    {
    case IMPRINT_ERROR_NO_SPACE: return 3;
    case IMPRINT_ERROR_SOURCE_INVALID: return 4;
    case IMPRINT_ERROR_CANCELLED: return 5;
    case IMPRINT_ERROR_BUSY: return 6;
    default: return 1;
    }
}
