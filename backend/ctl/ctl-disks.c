/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "imprintctl.h"

static void
print_disk_table (GVariant *disks)
{
  GVariantIter iter;
  GVariant *disk;

  /* Column titles are translatable; the widths fit the common values. */
  g_print ("%-16s %9s %-9s %-24s %-5s %s\n",
           _("DEVICE"), _("SIZE"), _("TRANSPORT"), _("MODEL"), _("TABLE"), _("CONTENTS"));

  g_variant_iter_init (&iter, disks);
  while ((disk = g_variant_iter_next_value (&iter)))
    {
      g_autofree char *size = NULL;
      g_autofree char *model = NULL;
      g_autofree const char **reasons = NULL;
      guint64 bytes = 0;
      gboolean usable = FALSE;

      g_variant_lookup (disk, "size", "t", &bytes);
      g_variant_lookup (disk, "usable", "b", &usable);
      g_variant_lookup (disk, "reasons", "^a&s", &reasons);
      size = ctl_format_size (bytes);
      model = g_strstrip (g_strdup_printf ("%s %s", ctl_lookup_s (disk, "vendor"), ctl_lookup_s (disk, "model")));

      g_print ("%-16s %9s %-9s %-24.24s %-5s %s\n",
               ctl_lookup_s (disk, "device"), size, ctl_lookup_s (disk, "transport"),
               *model ? model : "-", *ctl_lookup_s (disk, "table") ? ctl_lookup_s (disk, "table") : "-",
               ctl_lookup_s (disk, "contents"));
      if (!usable && reasons != NULL)
        {
          g_autofree char *joined = g_strjoinv ("; ", (char **) reasons);
          g_print ("%-16s %s\n", "", joined);
        }
      g_variant_unref (disk);
    }
}

int
ctl_verb_list_disks (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_auto(ImprintListDisksRequest) req = { 0 };
  g_autoptr(GVariant) disks = NULL;
  g_autoptr(GError) error = NULL;
  gboolean include_loop = FALSE, probe_shrink = FALSE;
  gboolean json = FALSE;
  int r;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "include-loop", 0, 0, G_OPTION_ARG_NONE, &include_loop, N_("Also offer loop devices"), NULL },
    { "probe-shrink", 0, 0, G_OPTION_ARG_NONE, &probe_shrink, N_("Say how far Windows (NTFS) partitions can shrink (slow)"), NULL },
    { "file", 'f', 0, G_OPTION_ARG_FILENAME_ARRAY, &req.include_files, N_("Also describe this image file"), N_("FILE") },
    { NULL }
  };

  imprint_list_disks_request_init (&req);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!ctl_parse_options (ctl, context, &argc, &argv))
    return EXIT_CODE_USAGE;
  if (argc > 1)
    {
      g_printerr (_("imprintctl: list-disks takes no arguments.\n"));
      return EXIT_CODE_USAGE;
    }
  if ((r = ctl_connect (ctl)) != EXIT_CODE_OK)
    return r;

  ctl_call_options (ctl, &req.call);
  if (include_loop)
    req.include_loop = IMPRINT_OPT_TRUE;
  if (probe_shrink)
    req.probe_shrink = IMPRINT_OPT_TRUE;
  /* The daemon does not share our working directory and takes no
   * symlink. */
  for (gsize i = 0; req.include_files != NULL && req.include_files[i] != NULL; i++)
    {
      char *abs = ctl_resolve_path (req.include_files[i]);
      g_free (req.include_files[i]);
      req.include_files[i] = abs;
    }

  if (!imprint_manager_call_list_disks_sync (ctl->manager, imprint_list_disks_request_to_variant (&req),
                                             &disks, NULL, &error))
    return ctl_report_error (error);

  if (json || ctl->json)
    {
      g_autofree char *text = ctl_variant_to_json (disks, TRUE);
      g_print ("%s\n", text);
    }
  else
    print_disk_table (disks);

  return EXIT_CODE_OK;
}
