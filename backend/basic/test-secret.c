/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "secret.h"

static void
test_alloc (void)
{
  size_t page = (size_t) sysconf (_SC_PAGESIZE);
  const size_t sizes[] = { 0, 1, 15, 16, 17, page - 16, page - 15, page, 3 * page + 5 };

  for (size_t i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      uint8_t *p = imprint_secret_alloc (sizes[i]);

      g_assert_nonnull (p);
      g_assert_cmpuint (imprint_secret_size (p), ==, sizes[i]);
      g_assert_cmpuint ((uintptr_t) p % 16, ==, 0);
      for (size_t j = 0; j < sizes[i]; j++)
        g_assert_cmpuint (p[j], ==, 0);
      memset (p, 0xa5, sizes[i]);   /* all of it is writable */
      imprint_secret_free (p);
    }

  imprint_secret_free (NULL);
  g_assert_null (imprint_secret_alloc (SIZE_MAX));
  g_assert_null (imprint_secret_alloc (SIZE_MAX - 8));
}

static void
test_strdup (void)
{
  _cleanup_secret_ char *s = imprint_secret_strdup ("correct horse");
  _cleanup_secret_ char *m = imprint_secret_memdup0 ("abc\0def", 7);

  g_assert_cmpstr (s, ==, "correct horse");
  g_assert_cmpuint (imprint_secret_size (s), ==, strlen ("correct horse") + 1);
  g_assert_cmpmem (m, 8, "abc\0def\0", 8);
  g_assert_null (imprint_secret_strdup (NULL));

  imprint_secret_freep (&s);
  g_assert_null (s);
}

/* The pages are locked when the limit allows it, and never dumped. */
static void
test_protected (void)
{
  size_t page = (size_t) sysconf (_SC_PAGESIZE);
  g_autofree char *smaps = NULL;
  char *p = imprint_secret_strdup ("hunter2");
  uintptr_t start = ((uintptr_t) p) & ~(uintptr_t) (page - 1);
  g_autofree char *key = g_strdup_printf ("%" G_GINTPTR_MODIFIER "x-", (guintptr) start);
  const char *entry, *flags;

  g_assert_nonnull (p);
  if (!g_file_get_contents ("/proc/self/smaps", &smaps, NULL, NULL))
    {
      imprint_secret_free (p);
      g_test_skip ("no /proc/self/smaps");
      return;
    }

  /* The mapping's own entry: its VmFlags line says "dd" (don't dump). */
  entry = strstr (smaps, key);
  g_assert_nonnull (entry);
  g_assert_true (entry == smaps || entry[-1] == '\n');
  flags = strstr (entry, "VmFlags:");
  g_assert_nonnull (flags);
  g_assert_nonnull (g_strstr_len (flags, strcspn (flags, "\n"), " dd"));
  imprint_secret_free (p);
}

/* The old helpers free secret memory now, wiping all of it. */
static void
test_erase_helpers (void)
{
  char *s = imprint_secret_strdup ("recovery");
  char *t = imprint_secret_memdup0 ("\x01\x02\x03", 3);

  g_assert_nonnull (s);
  g_assert_nonnull (t);
  imprint_secret_freep (&s);
  imprint_secret_free (t);
  imprint_secret_free (NULL);
  {
    _cleanup_secret_ char *u = imprint_secret_strdup ("pin");
    g_assert_cmpstr (u, ==, "pin");
  }
}

/* A pointer that is not secret memory (here: from malloc()) handed to
 * imprint_secret_free() stops the process instead of being "wiped" and
 * unmapped by whatever length happens to sit in front of it. */
static void
test_foreign_pointer (void)
{
  if (g_test_subprocess ())
    {
      char *p = malloc (64);

      g_assert_nonnull (p);
      memset (p, 'x', 64);
      imprint_secret_free (p);
      return;   /* not reached */
    }
  g_test_trap_subprocess (NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
}

static void
test_foreign_pointer_size (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *p = g_strdup ("heap");

      (void) imprint_secret_size (p);
      return;   /* not reached */
    }
  g_test_trap_subprocess (NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/secret/alloc", test_alloc);
  g_test_add_func ("/secret/strdup", test_strdup);
  g_test_add_func ("/secret/protected", test_protected);
  g_test_add_func ("/secret/erase-helpers", test_erase_helpers);
  g_test_add_func ("/secret/foreign-pointer", test_foreign_pointer);
  g_test_add_func ("/secret/foreign-pointer-size", test_foreign_pointer_size);
  return g_test_run ();
}
