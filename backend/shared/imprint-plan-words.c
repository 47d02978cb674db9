/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-names.h"
#include "imprint-plan-words.h"

/* GLib's default (SI) units, as the app's pages and imprintctl's tables
 * have them: the same size must read the same on the disk page's split
 * and in the summary's partition list. */
static char *
size_words (guint64 bytes)
{
  return g_format_size (bytes);
}

char *
imprint_plan_words_summary (const ImprintPlanInfo *p)
{
  g_autofree char *sz = size_words (p->target_size);
  const char *later = p->defer_data_partitions ? _(", data partitions at first boot") : "";
  const char *name = p->name ? p->name : "", *version = p->version ? p->version : "";
  guint ncreate = 0;
  gboolean shrinks = FALSE;

  for (guint i = 0; p->partitions != NULL && i < p->partitions->len; i++)
    {
      const ImprintPlanPartitionInfo *part = p->partitions->pdata[i];

      if (g_strcmp0 (part->action, IMPRINT_ACTION_CREATE) == 0)
        ncreate++;
      shrinks |= part->shrink_from > part->size;
    }
  /* Beside Windows there was no free space: the room is made first. */
  if (p->mode == IMPRINT_REQUEST_MODE_FREE_SPACE && shrinks)
    return g_strdup_printf (_("Install %s %s beside Windows on %s (%s): Windows is made smaller first, then %u new "
                              "partitions; the others are kept%s."),
                            name, version, p->target, sz, ncreate, later);
  if (p->mode == IMPRINT_REQUEST_MODE_FREE_SPACE)
    return g_strdup_printf (_("Install %s %s into free space on %s (%s): %u new partitions, the others kept%s."),
                            name, version, p->target, sz, ncreate, later);
  return g_strdup_printf (_("Erase %s (%s) and install %s %s: %u partitions%s."), p->target, sz, name,
                          version, ncreate, later);
}

GStrv
imprint_plan_words_erased (const ImprintPlanInfo *p)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

  for (guint i = 0; p->erased_partitions != NULL && i < p->erased_partitions->len; i++)
    {
      const ImprintPlanPartitionInfo *e = p->erased_partitions->pdata[i];
      g_autofree char *sz = size_words (e->size);
      g_autofree char *line = g_strdup_printf (_("partition %u \"%s\" (%s, %s)"), e->number,
                                               e->label ? e->label : "",
                                               e->type_name ? e->type_name : "", sz);
      g_strv_builder_add (b, line);
    }
  if (p->mode != IMPRINT_REQUEST_MODE_FREE_SPACE)
    {
      g_autofree char *all = size_words (p->target_size);
      g_autofree char *line = g_strdup_printf (_("everything on %s (%s)"), p->target, all);
      g_strv_builder_add (b, line);
    }
  return g_strv_builder_end (b);
}

static char *
boot_files_words (const ImprintPlanPartitionInfo *part, const char *name)
{
  if (part->adds_boot_loader && part->adds_kernels)
    return g_strdup_printf (_("kept; systemd-boot and the %s kernel images are added"), name);
  if (part->adds_boot_loader)
    return g_strdup (_("kept; systemd-boot is added"));
  return g_strdup_printf (_("kept; the %s kernel images are added"), name);
}

char *
imprint_plan_words_source (const ImprintPlanInfo *p, const ImprintPlanPartitionInfo *part)
{
  const char *name = p->name ? p->name : "", *version = p->version ? p->version : "";
  const char *c = part->content ? part->content : "";

  if (g_str_equal (c, IMPRINT_CONTENT_NAME_NONE))
    return g_strdup (_("empty slot for updates"));
  if (g_str_equal (c, IMPRINT_CONTENT_NAME_ESP))
    return g_strdup_printf (_("copy of the %s boot partition (systemd-boot, kernel images)"), name);
  if (g_str_equal (c, IMPRINT_CONTENT_NAME_BOOT_FILES))
    return boot_files_words (part, name);
  if (g_str_equal (c, IMPRINT_CONTENT_NAME_XBOOTLDR))
    return g_strdup_printf (_("new boot partition for the %s kernel images"), name);
  if (g_str_equal (c, IMPRINT_CONTENT_NAME_USR))
    return g_strdup_printf (_("%s %s system (verified copy)"), name, version);
  if (g_str_equal (c, IMPRINT_CONTENT_NAME_USR_VERITY))
    return g_strdup_printf (_("%s %s verity hashes (verified copy)"), name, version);
  if (g_str_equal (c, IMPRINT_CONTENT_NAME_USR_VERITY_SIG))
    return g_strdup_printf (_("%s %s verity signature"), name, version);
  if (g_str_equal (c, IMPRINT_CONTENT_NAME_REPART))
    return g_strdup_printf (_("created by systemd-repart from %s"), part->definition ? part->definition : "");
  if (part->leftover)
    return g_strdup (_("left over from an interrupted installation"));
  if (part->shrink_from != 0 && part->shrink_from > part->size)
    {
      g_autofree char *from = g_format_size (part->shrink_from);
      g_autofree char *to = g_format_size (part->size);
      /* Translators: Windows' NTFS partition, made smaller to make room. */
      return g_strdup_printf (_("Windows (NTFS), shrunk from %s to %s first; Windows stays"), from, to);
    }
  if (g_str_equal (c, IMPRINT_CONTENT_NAME_EXISTING))
    return g_strdup (_("kept as it is"));
  /* A plan without facts (an older imprintd): its own words. */
  return g_strdup (part->source ? part->source : "");
}

char *
imprint_plan_words_definitions (const ImprintPlanInfo *p)
{
  const char *s = p->definitions_source ? p->definitions_source : "";
  const char *dir = p->definitions_directory ? p->definitions_directory : "";

  if (g_str_equal (s, IMPRINT_DEFINITIONS_FROM_CALLER))
    return g_strdup_printf (_("Data partitions from the partition definitions in %s."), dir);
  if (g_str_equal (s, IMPRINT_DEFINITIONS_FROM_RUNNING))
    return g_strdup_printf (_("Data partitions from the running system’s partition definitions (%s)."), dir);
  if (g_str_equal (s, IMPRINT_DEFINITIONS_FROM_IMAGE))
    return g_strdup_printf (_("Data partitions from the partition definitions the image ships (%s, verified)."), dir);
  return NULL;
}

char *
imprint_plan_words_read_twice (const ImprintPlanInfo *p)
{
  if (!p->source_read_twice)
    return NULL;
  return g_strdup (_("The installation medium is read twice: the disk holds data, so the system "
                     "is checked in full before anything on it is overwritten, and it is too "
                     "large to keep in memory until it is copied."));
}

void
imprint_plan_words_fill (ImprintPlanInfo *p)
{
  g_free (p->summary);
  p->summary = imprint_plan_words_summary (p);
  g_strfreev (p->erased);
  p->erased = imprint_plan_words_erased (p);
  for (guint i = 0; p->partitions != NULL && i < p->partitions->len; i++)
    {
      ImprintPlanPartitionInfo *part = p->partitions->pdata[i];
      char *words = imprint_plan_words_source (p, part);
      g_free (part->source);
      part->source = words;
    }
}
