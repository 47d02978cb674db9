/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib.h>

#include "macros.h"
#include "recovery-key.h"
#include "secret.h"

static void
test_generate (void)
{
  _cleanup_secret_ char *a = NULL, *b = NULL;

  g_assert_cmpint (imprint_recovery_key_generate (&a), ==, 0);
  g_assert_cmpint (imprint_recovery_key_generate (&b), ==, 0);
  g_assert_cmpuint (strlen (a), ==, 71);
  g_assert_true (imprint_recovery_key_is_valid (a));
  g_assert_true (g_regex_match_simple ("^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$", a, 0, 0));
  g_assert_cmpstr (a, !=, b);
  /* In secret memory (imprint_secret_size() stops the process otherwise). */
  g_assert_cmpuint (imprint_secret_size (a), ==, 72);
}

static void
test_normalize (void)
{
  const char *canonical = "cbdefghi-jklnrtuv-cccccccc-vvvvvvvv-bbbbbbbb-dddddddd-eeeeeeee-ffffffff";
  const char *good[] = {
    "cbdefghi-jklnrtuv-cccccccc-vvvvvvvv-bbbbbbbb-dddddddd-eeeeeeee-ffffffff",
    "CBDEFGHI-JKLNRTUV-CCCCCCCC-VVVVVVVV-BBBBBBBB-DDDDDDDD-EEEEEEEE-FFFFFFFF",
    "cbdefghijklnrtuvccccccccvvvvvvvvbbbbbbbbddddddddeeeeeeeeffffffff",
    "  cbdefghi jklnrtuv cccccccc vvvvvvvv\nbbbbbbbb dddddddd eeeeeeee ffffffff ",
    "cbdefghi-JKLNRTUV cccccccc-vvvvvvvvbbbbbbbb-dddd dddd-eeeeeeee-ffffffff",
  };
  const char *bad[] = {
    "",
    "cbdefghi",
    "abdefghi-jklnrtuv-cccccccc-vvvvvvvv-bbbbbbbb-dddddddd-eeeeeeee-ffffffff", /* 'a' is not modhex */
    "cbdefghi-jklnrtuv-cccccccc-vvvvvvvv-bbbbbbbb-dddddddd-eeeeeeee-fffffff",   /* short */
    "cbdefghi-jklnrtuv-cccccccc-vvvvvvvv-bbbbbbbb-dddddddd-eeeeeeee-ffffffffc", /* long */
    "cbdefgh-ijklnrtuv-cccccccc-vvvvvvvv-bbbbbbbb-dddddddd-eeeeeeee-ffffffff",  /* misplaced dash */
    "-cbdefghi-jklnrtuv-cccccccc-vvvvvvvv-bbbbbbbb-dddddddd-eeeeeeee-ffffffff",
    "cbdefghi--jklnrtuv-cccccccc-vvvvvvvv-bbbbbbbb-dddddddd-eeeeeeee-ffffffff",
    "cbdefghi-jklnrtuv-cccccccc-vvvvvvvv-bbbbbbbb-dddddddd-eeeeeeee-ffffffff-",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      _cleanup_secret_ char *n = NULL;
      g_assert_cmpint (imprint_recovery_key_normalize (good[i], &n), ==, 0);
      g_assert_cmpstr (n, ==, canonical);
      g_assert_cmpuint (imprint_secret_size (n), ==, 72);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      char *n = NULL;
      g_assert_cmpint (imprint_recovery_key_normalize (bad[i], &n), ==, -EINVAL);
      g_assert_null (n);
      g_assert_false (imprint_recovery_key_is_valid (bad[i]));
    }

  g_assert_false (imprint_recovery_key_is_valid (good[1]));
  g_assert_false (imprint_recovery_key_is_valid (good[2]));
  g_assert_true (imprint_recovery_key_is_valid (canonical));
}

static void
test_round_trip (void)
{
  for (int i = 0; i < 50; i++)
    {
      _cleanup_secret_ char *k = NULL, *n = NULL;
      g_autofree char *mangled = NULL;
      g_autoptr (GString) s = g_string_new (NULL);

      g_assert_cmpint (imprint_recovery_key_generate (&k), ==, 0);
      for (const char *p = k; *p; p++)
        if (*p != '-')
          g_string_append_c (s, g_ascii_toupper (*p));
      mangled = g_string_free (g_steal_pointer (&s), FALSE);
      g_assert_cmpint (imprint_recovery_key_normalize (mangled, &n), ==, 0);
      g_assert_cmpstr (n, ==, k);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recovery-key/generate", test_generate);
  g_test_add_func ("/recovery-key/normalize", test_normalize);
  g_test_add_func ("/recovery-key/round-trip", test_round_trip);
  return g_test_run ();
}
