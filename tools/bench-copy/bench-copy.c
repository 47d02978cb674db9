/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Measures Imprint's streaming copy with verification on: the ESP, usr
 * (every block checked against the verity tree), usr-verity (checked
 * against the verified tree) and usr-verity-sig of SOURCE, written to the
 * same offsets of TARGET (an existing file or device of at least the
 * source's size), fdatasync included. Prints one line: "<bytes> <seconds>". */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>

#include "copy.h"
#include "imprint-error.h"
#include "source.h"

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImprintSource) src = NULL;
  ImprintProgress progress = { 0 };
  gboolean is_block;
  guint64 size;
  size_t tree_size;
  int fd;

  if (argc != 3 && argc != 4)
    {
      fprintf (stderr, "usage: %s SOURCE TARGET [BUFFER_MIB]\n", argv[0]);
      return 2;
    }
  size_t bufsize = argc == 4 ? (size_t) atoi (argv[3]) * 1024 * 1024 : 0;

  gint64 t0 = g_get_monotonic_time ();
  src = imprint_source_inspect (argv[1], NULL, &error);
  if (src == NULL)
    goto fail;
  fd = imprint_open_target (argv[2], &is_block, &size, &error);
  if (fd < 0)
    goto fail;
  /* Bench knob: direct I/O on a file target too, as dd oflag=direct. */
  if (g_getenv ("IMPRINT_BENCH_DIRECT"))
    (void) fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_DIRECT);
  if (size < src->size)
    {
      fprintf (stderr, "target smaller than the source\n");
      return 1;
    }

  const guint8 *tree = imprint_verity_tree_bytes (src->tree, &tree_size);
  ImprintCopyJob jobs[] = {
    { .src_fd = src->fd, .src_offset = src->esp.offset, .dst_fd = fd, .dst_offset = src->esp.offset,
      .length = src->esp.size, .what = "ESP", .buffer_size = bufsize },
    { .src_fd = src->fd, .src_offset = src->usr.offset, .dst_fd = fd, .dst_offset = src->usr.offset,
      .length = src->usr.size, .what = "usr", .verify_tree = src->tree, .buffer_size = bufsize },
    { .src_fd = src->fd, .src_offset = src->usr_verity.offset, .dst_fd = fd,
      .dst_offset = src->usr_verity.offset, .length = src->usr_verity.size, .what = "usr-verity",
      .expect = tree, .expect_size = tree_size, .expect_is_source = TRUE, .buffer_size = bufsize },
    { .src_fd = src->fd, .src_offset = src->usr_verity_sig.offset, .dst_fd = fd,
      .dst_offset = src->usr_verity_sig.offset, .length = src->usr_verity_sig.size,
      .what = "usr-verity-sig", .buffer_size = bufsize },
  };
  gint64 t1 = g_get_monotonic_time ();
  if (g_getenv ("IMPRINT_BENCH_NBUF"))
    for (gsize i = 0; i < G_N_ELEMENTS (jobs); i++)
      jobs[i].n_buffers = (unsigned) atoi (g_getenv ("IMPRINT_BENCH_NBUF"));
  if (g_getenv ("IMPRINT_BENCH_NO_VERIFY"))
    for (gsize i = 0; i < G_N_ELEMENTS (jobs); i++)
      {
        jobs[i].verify_tree = NULL;
        jobs[i].expect = NULL;
        jobs[i].expect_is_source = FALSE;
      }
  for (gsize i = 0; i < G_N_ELEMENTS (jobs); i++)
    if (!imprint_copy (&jobs[i], &progress, &error))
      goto fail;
  close (fd);
  printf ("%" G_GUINT64_FORMAT " %.3f\n", progress.done, (g_get_monotonic_time () - t0) / 1e6);
  if (g_getenv ("IMPRINT_BENCH_DEBUG"))
    fprintf (stderr, "inspect %.3f s, copy %.3f s\n", (t1 - t0) / 1e6, (g_get_monotonic_time () - t1) / 1e6);
  return 0;

fail:
  fprintf (stderr, "%s\n", error->message);
  return 1;
}
