/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A source image: GPT (libfdisk), layout checks, signature partition JSON,
 * verity superblock and hash tree, all through imprint_source_inspect(). */
#include "config.h"

#include "fuzz.h"
#include "source.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int fd = fuzz_memfd (data, size);
  g_autofree char *path = g_strdup_printf ("/proc/self/fd/%d", fd);
  g_autoptr(GError) error = NULL;
  ImprintSource *s;

  s = imprint_source_inspect (path, NULL, &error);
  g_assert ((s == NULL) == (error != NULL));
  /* For triage and for checking that a seed gets all the way through. */
  if (g_getenv ("FUZZ_VERBOSE"))
    g_printerr ("%s\n", s ? "accepted" : error->message);
  imprint_source_free (s);
  close (fd);
  return 0;
}
