/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test-only driver for the install engine (not installed): inspects a
 * source, prints or runs the plan, prints progress as JSON lines. Tests
 * kill it mid-copy; IMPRINT_TEST_SLOW_MS slows each progress report so a
 * kill lands inside a step. */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>

#include "imprint-error.h"
#include "install.h"

static void
on_progress (const char *step, guint64 done, guint64 total, gpointer user_data)
{
  static guint slow_ms = G_MAXUINT;
  g_autofree char *s = g_strescape (step, NULL);

  if (slow_ms == G_MAXUINT)
    {
      const char *e = g_getenv ("IMPRINT_TEST_SLOW_MS");
      slow_ms = e ? (guint) atoi (e) : 0;
    }
  printf ("{\"step\":\"%s\",\"done\":%" G_GUINT64_FORMAT ",\"total\":%" G_GUINT64_FORMAT "}\n", s, done, total);
  fflush (stdout);
  if (slow_ms)
    g_usleep (slow_ms * 1000);
}

int
main (int argc, char **argv)
{
  g_autofree char *source_path = NULL, *target = NULL, *defs = NULL, *efivars = NULL, *cert = NULL;
  gboolean erase = FALSE, free_space = FALSE, defer = FALSE, dry_run = FALSE, inspect = FALSE;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "source", 0, 0, G_OPTION_ARG_FILENAME, &source_path, "Source image or device", "PATH" },
    { "target", 0, 0, G_OPTION_ARG_FILENAME, &target, "Target disk or image file", "PATH" },
    { "erase", 0, 0, G_OPTION_ARG_NONE, &erase, "Erase the target", NULL },
    { "use-free-space", 0, 0, G_OPTION_ARG_NONE, &free_space, "Use free space", NULL },
    { "defer-data-partitions", 0, 0, G_OPTION_ARG_NONE, &defer, "Leave data partitions to first boot", NULL },
    { "definitions", 0, 0, G_OPTION_ARG_FILENAME, &defs, "repart.d directory", "DIR" },
    { "efivars", 0, 0, G_OPTION_ARG_FILENAME, &efivars, "efivarfs directory", "DIR" },
    { "certificate", 0, 0, G_OPTION_ARG_FILENAME, &cert, "Certificate the verity signature must verify with", "PEM" },
    { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run, "Print the plan only", NULL },
    { "inspect", 0, 0, G_OPTION_ARG_NONE, &inspect, "Inspect the source only", NULL },
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

  ImprintSourceOptions sopts = { .certificate_path = cert };
  src = imprint_source_inspect (source_path, &sopts, &error);
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
              .defer_data_partitions = defer, .definitions_dir = defs },
    .progress = on_progress,
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
  return error->code == IMPRINT_ERROR_NO_SPACE ? 3 : error->code == IMPRINT_ERROR_SOURCE_INVALID ? 4 : 1;
}
