/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "disk-usable.h"

#include <glib/gi18n.h>

ImprintDiskReasons
imprint_disk_compute_reasons (const ImprintDiskFacts *f)
{
  ImprintDiskReasons r = 0;
  const char *name = f->kernel_name;

  if (f->live)
    r |= IMPRINT_DISK_REASON_LIVE_MEDIUM;
  if (f->mountpoints != NULL && f->mountpoints[0] != NULL)
    r |= IMPRINT_DISK_REASON_MOUNTED;
  if ((f->holders != NULL && f->holders[0] != NULL) || f->swap)
    r |= IMPRINT_DISK_REASON_IN_USE;
  if (f->read_only)
    r |= IMPRINT_DISK_REASON_READ_ONLY;
  if (f->size == 0)
    r |= IMPRINT_DISK_REASON_NO_MEDIA;
  else if (f->min_size > 0 && f->size < f->min_size)
    r |= IMPRINT_DISK_REASON_TOO_SMALL;
  if (name != NULL && g_str_has_prefix (name, "zram"))
    r |= IMPRINT_DISK_REASON_ZRAM;
  if (name != NULL && g_str_has_prefix (name, "loop") && !f->include_loop)
    r |= IMPRINT_DISK_REASON_LOOP;
  return r;
}

const char *
imprint_disk_reason_code (ImprintDiskReasons reason)
{
  switch (reason)
    {
    case IMPRINT_DISK_REASON_LIVE_MEDIUM: return "live-medium";
    case IMPRINT_DISK_REASON_MOUNTED:     return "mounted";
    case IMPRINT_DISK_REASON_IN_USE:      return "in-use";
    case IMPRINT_DISK_REASON_READ_ONLY:   return "read-only";
    case IMPRINT_DISK_REASON_TOO_SMALL:   return "too-small";
    case IMPRINT_DISK_REASON_ZRAM:        return "zram";
    case IMPRINT_DISK_REASON_LOOP:        return "loop";
    case IMPRINT_DISK_REASON_NO_MEDIA:    return "no-media";
    }
  return NULL;
}

static char *
reason_words (ImprintDiskReasons reason, const ImprintDiskFacts *f)
{
  switch (reason)
    {
    case IMPRINT_DISK_REASON_LIVE_MEDIUM:
      return g_strdup (_("The running system is on this disk"));
    case IMPRINT_DISK_REASON_MOUNTED:
      {
        g_autofree char *list = g_strjoinv (", ", (char **) f->mountpoints);
        /* TRANSLATORS: %s is a list of mount points, "/mnt, /media/usb" */
        return g_strdup_printf (_("In use: mounted at %s"), list);
      }
    case IMPRINT_DISK_REASON_IN_USE:
      if (f->holders != NULL && f->holders[0] != NULL)
        {
          g_autofree char *list = g_strjoinv (", ", (char **) f->holders);
          /* TRANSLATORS: %s lists kernel devices, "dm-0" */
          return g_strdup_printf (_("In use by %s"), list);
        }
      return g_strdup (_("In use as swap space"));
    case IMPRINT_DISK_REASON_READ_ONLY:
      return g_strdup (_("Read-only"));
    case IMPRINT_DISK_REASON_TOO_SMALL:
      {
        g_autofree char *need = g_format_size (f->min_size);
        /* TRANSLATORS: %s is a size, "8.6 GB" */
        return g_strdup_printf (_("Too small: the system needs %s"), need);
      }
    case IMPRINT_DISK_REASON_ZRAM:
      return g_strdup (_("Compressed memory (zram), not a disk"));
    case IMPRINT_DISK_REASON_LOOP:
      return g_strdup (_("Loop device (used for tests)"));
    case IMPRINT_DISK_REASON_NO_MEDIA:
      return g_strdup (_("No medium"));
    }
  g_assert_not_reached ();
}

void
imprint_disk_reasons_describe (ImprintDiskReasons reasons,
                               const ImprintDiskFacts *facts,
                               GPtrArray *ret_words,
                               GPtrArray *ret_codes)
{
  for (guint bit = 0; bit < 8; bit++)
    {
      ImprintDiskReasons r = 1u << bit;
      if (!(reasons & r))
        continue;
      g_ptr_array_add (ret_words, reason_words (r, facts));
      g_ptr_array_add (ret_codes, g_strdup (imprint_disk_reason_code (r)));
    }
}

gsize
imprint_disk_align_free_regions (ImprintDiskRegion *regions,
                                 gsize n_regions,
                                 guint64 grain,
                                 guint64 min_size)
{
  gsize kept = 0;

  if (grain == 0)
    grain = 1;

  for (gsize i = 0; i < n_regions; i++)
    {
      guint64 start = regions[i].start, end;

      if (regions[i].size == 0 || start > G_MAXUINT64 - regions[i].size)
        continue;
      end = start + regions[i].size;

      /* Round the start up and the end down to the grain. */
      if (start % grain != 0)
        {
          if (start > G_MAXUINT64 - grain)
            continue;
          start += grain - start % grain;
        }
      end -= end % grain;
      if (end <= start || end - start < min_size)
        continue;

      regions[kept].start = start;
      regions[kept].size = end - start;
      kept++;
    }
  return kept;
}
