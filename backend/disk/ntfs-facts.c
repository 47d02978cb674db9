/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

/* ntfsresize's words as facts, and the rules for shrinking NTFS. The
 * output is untrusted: ntfsresize prints names and numbers from a file
 * system anyone could have written, so every line is bounded, every
 * number checked, and anything unexpected makes the result incomplete. */
#include <glib/gi18n.h>
#include <string.h>

#include "ntfs-facts.h"

#define MiB (G_GUINT64_CONSTANT (1024) * 1024)
#define LINE_MAX_LEN 512

/* The decimal number at *p (after spaces), advancing *p past it. */
static gboolean
take_number (const char **p, const char *end, guint64 *ret)
{
  const char *q = *p;
  guint64 v = 0;
  gboolean any = FALSE;

  while (q < end && *q == ' ')
    q++;
  for (; q < end && g_ascii_isdigit (*q); q++)
    {
      if (!g_uint64_checked_mul (&v, v, 10) || !g_uint64_checked_add (&v, v, (guint64) (*q - '0')))
        return FALSE;
      any = TRUE;
    }
  *p = q;
  *ret = v;
  return any;
}

/* "<prefix>N <unit>": N when the line starts with @prefix and the number
 * is followed by @unit. */
static gboolean
field (const char *line, const char *end, const char *prefix, const char *unit, guint64 *ret)
{
  gsize n = strlen (prefix), u = strlen (unit);
  const char *p = line;
  guint64 v;

  if ((gsize) (end - line) < n || memcmp (line, prefix, n) != 0)
    return FALSE;
  p += n;
  if (!take_number (&p, end, &v) || (gsize) (end - p) < u || memcmp (p, unit, u) != 0)
    return FALSE;
  *ret = v;
  return TRUE;
}

static gboolean
contains (const char *line, const char *end, const char *needle)
{
  gsize n = strlen (needle);

  for (const char *p = line; (gsize) (end - p) >= n; p++)
    if (memcmp (p, needle, n) == 0)
      return TRUE;
  return FALSE;
}

static void
parse_line (const char *line, const char *end, ImprintNtfsInfo *ret, gboolean *have_volume,
            gboolean *have_min)
{
  guint64 v;

  /* The progress bar writes "xx.xx percent completed" with carriage
   * returns; -P turns it off, and such lines match nothing below. */
  if (field (line, end, "Cluster size       :", " bytes", &v))
    ret->cluster_size = v;
  else if (field (line, end, "Current volume size:", " bytes", &v))
    {
      ret->volume_size = v;
      *have_volume = TRUE;
    }
  else if (field (line, end, "Space in use       :", " MB", &v))
    {
      if (!g_uint64_checked_mul (&ret->used, v, 1000 * 1000))
        ret->errors = TRUE;
    }
  else if (field (line, end, "You might resize at", " bytes", &v))
    {
      ret->min_size = v;
      *have_min = TRUE;
    }
  else if (contains (line, end, "Volume is scheduled for check"))
    ret->dirty = TRUE;
  else if (end - line >= 5 && memcmp (line, "ERROR", 5) == 0 &&
           !contains (line, end, "scheduled for check"))
    ret->errors = TRUE;
}

gboolean
imprint_ntfs_parse_info (const char *text, gsize len, ImprintNtfsInfo *ret)
{
  gboolean have_volume = FALSE, have_min = FALSE;
  const char *p, *end;

  memset (ret, 0, sizeof *ret);
  if (text == NULL)
    return FALSE;
  len = MIN (len, IMPRINT_NTFS_OUTPUT_MAX);
  p = text;
  end = text + len;
  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      const char *cr;
      const char *line_end = nl ? nl : end;

      /* A progress bar's carriage return starts a new line too. */
      cr = memchr (p, '\r', (gsize) (line_end - p));
      if (cr)
        line_end = cr;
      /* Lines longer than any ntfsresize writes are cut, not skipped:
       * what matters is at their start. */
      parse_line (p, MIN (line_end, p + LINE_MAX_LEN), ret, &have_volume, &have_min);
      p = line_end + 1;
    }
  /* Only a minimum that fits the volume and a known cluster size count. */
  ret->complete = have_volume && have_min && !ret->errors && !ret->dirty &&
                  ret->cluster_size > 0 && ret->min_size > 0 && ret->min_size <= ret->volume_size;
  return ret->complete;
}

gboolean
imprint_ntfs_hiberfile_hibernated (const guint8 *head, gsize len)
{
  return head != NULL && len >= 4 &&
         (memcmp (head, "hibr", 4) == 0 || memcmp (head, "HIBR", 4) == 0);
}

guint64
imprint_ntfs_floor_size (const ImprintNtfsInfo *info)
{
  guint64 margin, floor;

  if (info == NULL || !info->complete)
    return 0;
  /* Windows writes updates, a page file and restore points: a volume
   * shrunk to its last used cluster would be full the next time it
   * starts. */
  margin = MAX (info->min_size / 10, 64 * MiB);
  if (!g_uint64_checked_add (&floor, info->min_size, margin) ||
      !g_uint64_checked_add (&floor, floor, MiB - 1))
    return G_MAXUINT64;
  return floor / MiB * MiB;
}

ImprintNtfsRefusals
imprint_ntfs_refusals (const ImprintNtfsInfo *info, gboolean bitlocker, gboolean hibernated,
                       guint64 part_size, guint64 need)
{
  ImprintNtfsRefusals r = 0;
  guint64 floor;

  if (bitlocker)
    return IMPRINT_NTFS_REFUSE_BITLOCKER;
  if (hibernated)
    r |= IMPRINT_NTFS_REFUSE_HIBERNATED;
  /* ntfsresize refuses a dirty volume before checking it: only one of
   * the two can be known. */
  if (info != NULL && info->dirty)
    r |= IMPRINT_NTFS_REFUSE_DIRTY;
  else if (info == NULL || !info->complete)
    r |= IMPRINT_NTFS_REFUSE_CHECK_ERRORS;
  if (r != 0)
    return r;
  floor = imprint_ntfs_floor_size (info);
  if (floor >= part_size || part_size - floor < MAX (need, MiB))
    r |= IMPRINT_NTFS_REFUSE_TOO_FULL;
  return r;
}

const char *
imprint_ntfs_refusal_code (ImprintNtfsRefusals one)
{
  switch (one)
    {
    case IMPRINT_NTFS_REFUSE_BITLOCKER:    return "bitlocker";
    case IMPRINT_NTFS_REFUSE_HIBERNATED:   return "hibernated";
    case IMPRINT_NTFS_REFUSE_DIRTY:        return "dirty";
    case IMPRINT_NTFS_REFUSE_CHECK_ERRORS: return "check-errors";
    case IMPRINT_NTFS_REFUSE_TOO_FULL:     return "too-full";
    }
  return "check-errors";
}

const char *
imprint_ntfs_refusal_sentence (ImprintNtfsRefusals one)
{
  switch (one)
    {
    case IMPRINT_NTFS_REFUSE_BITLOCKER:
      return _("Windows is encrypted with BitLocker. In Windows, turn off BitLocker (Settings, "
               "Device encryption, or Control Panel, BitLocker Drive Encryption, Turn off "
               "BitLocker), wait until decryption has finished, then start this installer again.");
    case IMPRINT_NTFS_REFUSE_HIBERNATED:
      return _("Windows is hibernated or was shut down with Fast Startup. Start Windows, turn off "
               "Fast Startup (Control Panel, Power Options, Choose what the power buttons do), "
               "then choose Restart, not Shut down, and start this installer.");
    case IMPRINT_NTFS_REFUSE_DIRTY:
      return _("Windows has marked this drive to be checked. Start Windows and let it finish the "
               "check, or run \"chkdsk C: /f\" in a Command Prompt as administrator and restart, "
               "then start this installer again.");
    case IMPRINT_NTFS_REFUSE_CHECK_ERRORS:
      return _("The Windows file system has errors. Start Windows, run \"chkdsk C: /f\" in a "
               "Command Prompt as administrator, restart, then start this installer again.");
    case IMPRINT_NTFS_REFUSE_TOO_FULL:
      return _("Windows does not leave enough free space. In Windows, delete or move files "
               "(Settings, System, Storage, Cleanup recommendations) to free more space, then "
               "start this installer again.");
    }
  return "";
}

void
imprint_ntfs_refusals_describe (ImprintNtfsRefusals r, GPtrArray *ret_codes, GPtrArray *ret_words)
{
  for (guint bit = 1; bit <= IMPRINT_NTFS_REFUSE_LAST; bit <<= 1)
    {
      if (!(r & bit))
        continue;
      if (ret_codes)
        g_ptr_array_add (ret_codes, (gpointer) imprint_ntfs_refusal_code (bit));
      if (ret_words)
        g_ptr_array_add (ret_words, (gpointer) imprint_ntfs_refusal_sentence (bit));
    }
}
