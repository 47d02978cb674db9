/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib.h>

#include "passphrase-quality.h"

static void
test_weak (void)
{
  g_autofree char *msg = NULL;
  int score = 42;

  g_assert_cmpint (imprint_passphrase_quality ("abc", &score, &msg), ==, 0);
  g_assert_cmpint (score, ==, -1);
  g_assert_nonnull (msg);
  g_assert_cmpstr (msg, !=, "");
  g_test_message ("'abc': %s", msg);

  /* A dictionary word: refused when cracklib's dictionary is installed
   * (cracklib-runtime); without it, still rated (not refused wholesale). */
  g_clear_pointer (&msg, g_free);
  g_assert_cmpint (imprint_passphrase_quality ("password", &score, &msg), ==, 0);
  if (g_file_test ("/var/cache/cracklib/cracklib_dict.pwd", G_FILE_TEST_EXISTS))
    {
      g_assert_cmpint (score, ==, -1);
      g_assert_cmpstr (msg, !=, "");
    }
  else
    g_test_message ("no cracklib dictionary: 'password' scored %d", score);
}

static void
test_strong (void)
{
  g_autofree char *msg = NULL, *msg2 = NULL;
  int score = -5, score2 = -5;

  g_assert_cmpint (imprint_passphrase_quality ("Vq7#mZ2p!Lx9-tRw4&Hs", &score, &msg), ==, 0);
  g_assert_cmpint (score, >=, 0);
  g_assert_cmpint (score, <=, 100);
  g_assert_cmpstr (msg, ==, "");

  g_assert_cmpint (imprint_passphrase_quality ("Vq7#mZ2p!Lx9-tRw4&Hs plus a good deal more text 81!", &score2, &msg2), ==, 0);
  g_assert_cmpint (score2, >=, score);
}

static void
test_keyboard_warning (void)
{
  const char *plain, *strong;

  g_assert_null (imprint_passphrase_keyboard_warning ("123 456 789"));
  plain = imprint_passphrase_keyboard_warning ("correct horse");
  g_assert_nonnull (plain);
  strong = imprint_passphrase_keyboard_warning ("Grüße aus Köln");
  g_assert_nonnull (strong);
  g_assert_cmpstr (plain, !=, strong);
  g_assert_nonnull (strstr (strong, "impossible"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/passphrase-quality/keyboard-warning", test_keyboard_warning);
  g_test_add_func ("/passphrase-quality/weak", test_weak);
  g_test_add_func ("/passphrase-quality/strong", test_strong);
  return g_test_run ();
}
