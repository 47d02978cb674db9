/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "buffer.h"
#include "source-once.h"

#define SAMPLE (64u * 1024)
#define EDGE (1024u * 1024)
#define N_SAMPLES 64

static gboolean
all_zero (const guint8 *p, size_t n)
{
  return n == 0 || (p[0] == 0 && memcmp (p, p + 1, n - 1) == 0);
}

/* Reads [at, at + len) (4 KiB aligned, the fd may be O_DIRECT) and says
 * whether it held anything but zeros; unreadable counts as data. */
static gboolean
range_has_data (int fd, guint8 *buf, guint64 at, size_t len)
{
  size_t got = 0;

  while (got < len)
    {
      ssize_t k = pread (fd, buf + got, len - got, (off_t) (at + got));
      if (k < 0 && errno == EINTR)
        continue;
      if (k < 0)
        return TRUE;
      if (k == 0)
        break;
      got += (size_t) k;
    }
  return !all_zero (buf, got);
}

gboolean
imprint_target_holds_data (int fd, guint64 size)
{
  struct stat st;
  guint8 *buf;
  gboolean data = FALSE;
  guint64 end = size & ~(guint64) 4095;

  /* A sparse image file without a single data extent. */
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) &&
      lseek (fd, 0, SEEK_DATA) < 0 && errno == ENXIO)
    return FALSE;

  buf = imprint_buffer_alloc (EDGE);
  if (buf == NULL)
    return TRUE;
  /* Tables and file system signatures live at the ends; old contents
   * without them (a wiped table) show in the samples between. */
  data = range_has_data (fd, buf, 0, (size_t) MIN ((guint64) EDGE, end));
  if (!data && end > EDGE)
    data = range_has_data (fd, buf, MAX (end - EDGE, (guint64) EDGE), (size_t) MIN ((guint64) EDGE, end - EDGE));
  for (guint i = 1; !data && i <= N_SAMPLES && end > 2 * EDGE + SAMPLE; i++)
    {
      guint64 at = EDGE + (end - 2 * EDGE - SAMPLE) / (N_SAMPLES + 1) * i;
      data = range_has_data (fd, buf, at & ~(guint64) 4095, SAMPLE);
    }
  imprint_buffer_free (buf, EDGE);
  return data;
}

guint64
imprint_source_cache_budget (void)
{
  g_autofree char *meminfo = NULL;
  const char *line;
  guint64 kib;

  if (!g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL))
    return 0;
  line = strstr (meminfo, "MemAvailable:");
  if (line == NULL)
    return 0;
  kib = g_ascii_strtoull (line + strlen ("MemAvailable:"), NULL, 10);
  /* Half: the live system runs from memory and needs the rest. */
  return kib * 1024 / 2;
}

gboolean
imprint_source_read_twice (const ImprintPlan *plan, const ImprintSource *source)
{
  return plan->overwrites_data && source->usr.size > imprint_source_cache_budget ();
}
