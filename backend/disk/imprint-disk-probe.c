/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Test helper (not installed): prints what the disk library sees as JSON.
 *   imprint-disk-probe [--include-loop] [--min-size=BYTES] [--live-device=NODE]
 *                      [--file=PATH ...]                    list (enumerate)
 *   imprint-disk-probe [options] --describe NODE|FILE        one disk
 *   imprint-disk-probe [options] --monitor --timeout=SECONDS
 *       one JSON object per line: {"event": "added"|"changed"|"removed", ...}
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>

#include "disk-enumerate.h"

static void
print_variant (GVariant *v, gboolean pretty)
{
  g_autoptr(JsonNode) node = json_gvariant_serialize (v);
  g_autofree char *s = json_to_string (node, pretty);

  printf ("%s\n", s);
  fflush (stdout);
}

static void
print_event (const char *event, GVariant *disk, const char *device)
{
  GVariantBuilder b;
  g_autoptr(GVariant) v = NULL;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&b, "{sv}", "event", g_variant_new_string (event));
  if (disk != NULL)
    g_variant_builder_add (&b, "{sv}", "disk", disk);
  if (device != NULL)
    g_variant_builder_add (&b, "{sv}", "device", g_variant_new_string (device));
  v = g_variant_ref_sink (g_variant_builder_end (&b));
  print_variant (v, FALSE);
}

static void
on_added (ImprintDiskMonitor *m, GVariant *disk, gpointer user_data)
{
  print_event ("added", disk, NULL);
}

static void
on_changed (ImprintDiskMonitor *m, GVariant *disk, gpointer user_data)
{
  print_event ("changed", disk, NULL);
}

static void
on_removed (ImprintDiskMonitor *m, const char *device, gpointer user_data)
{
  print_event ("removed", NULL, device);
}

static gboolean
on_timeout (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  gboolean include_loop = FALSE, monitor = FALSE, compact = FALSE, probe_shrink = FALSE;
  gint64 min_size = 0;
  int timeout = 10;
  g_autofree char *live_device = NULL;
  g_autofree char *describe = NULL;
  g_auto(GStrv) files = NULL;
  g_autoptr(GOptionContext) octx = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "include-loop", 0, 0, G_OPTION_ARG_NONE, &include_loop, "List loop devices as usable", NULL },
    { "probe-shrink", 0, 0, G_OPTION_ARG_NONE, &probe_shrink, "NTFS shrink facts (ntfsresize)", NULL },
    { "min-size", 0, 0, G_OPTION_ARG_INT64, &min_size, "Smallest usable disk in bytes", "BYTES" },
    { "live-device", 0, 0, G_OPTION_ARG_FILENAME, &live_device, "Live medium (\"\" for none)", "NODE" },
    { "file", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, "Also describe this image file", "PATH" },
    { "describe", 0, 0, G_OPTION_ARG_FILENAME, &describe, "Describe one disk or file", "PATH" },
    { "monitor", 0, 0, G_OPTION_ARG_NONE, &monitor, "Print disk events", NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Stop monitoring after SECONDS", "SECONDS" },
    { "compact", 0, 0, G_OPTION_ARG_NONE, &compact, "One line of JSON", NULL },
    { NULL }
  };
  ImprintDiskEnumerateOptions opts = { 0 };
  g_autoptr(GVariant) result = NULL;
  int r;

  setlocale (LC_ALL, "");
  octx = g_option_context_new ("- show what Imprint's disk discovery sees");
  g_option_context_add_main_entries (octx, entries, NULL);
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 2;
    }

  opts.include_loop = include_loop;
  opts.probe_shrink = probe_shrink;
  opts.min_size = (guint64) MAX (min_size, 0);
  opts.live_device = live_device;
  opts.files = (const char * const *) files;

  if (monitor)
    {
      g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
      g_autoptr(ImprintDiskMonitor) m = imprint_disk_monitor_new (&opts, &error);

      if (m == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      g_signal_connect (m, "disk-added", G_CALLBACK (on_added), NULL);
      g_signal_connect (m, "disk-changed", G_CALLBACK (on_changed), NULL);
      g_signal_connect (m, "disk-removed", G_CALLBACK (on_removed), NULL);
      /* Tells the caller the monitor listens: events from now on are seen. */
      print_event ("ready", NULL, NULL);
      g_timeout_add_seconds (timeout, on_timeout, loop);
      g_main_loop_run (loop);
      return 0;
    }

  if (describe != NULL)
    r = imprint_disk_describe (describe, &opts, &result);
  else
    r = imprint_disk_enumerate (&opts, &result);
  if (r < 0)
    {
      fprintf (stderr, "%s: %s\n", describe != NULL ? describe : "enumerate", g_strerror (-r));
      return 1;
    }
  print_variant (result, !compact);
  return 0;
}
