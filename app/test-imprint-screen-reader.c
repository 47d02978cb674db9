/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ImprintScreenReader without Orca: PATH decides whether it is available,
 * and a stand-in `orca` on PATH shows it started with --replace, stopped,
 * and the switch going off when Orca quits by itself. No display needed:
 * no widget is made. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <glib/gstdio.h>

#include "imprint-screen-reader.h"

typedef struct {
  char *dir;     /* PATH for the test */
  char *stamp;   /* what the stand-in writes: its pid and arguments */
} Fixture;

static void
write_orca (Fixture    *f,
            const char *tail)
{
  g_autofree char *path = g_build_filename (f->dir, "orca", NULL);
  g_autofree char *script = g_strdup_printf ("#!/bin/sh\nPATH=/usr/bin:/bin\necho \"$$ $*\" > '%s.tmp'\nmv '%s.tmp' '%s'\n%s\n",
                                             f->stamp, f->stamp, f->stamp, tail);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, script, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
}

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("imprint-screen-reader-XXXXXX", &error);
  g_assert_no_error (error);
  f->stamp = g_build_filename (f->dir, "stamp", NULL);
  g_setenv ("PATH", f->dir, TRUE);
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  g_autofree char *orca = g_build_filename (f->dir, "orca", NULL);

  g_unlink (f->stamp);
  g_unlink (orca);
  g_rmdir (f->dir);
  g_free (f->stamp);
  g_free (f->dir);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

typedef gboolean (*Condition) (gpointer data);

/* Runs the main loop until @cond holds, at most 10 s. */
static gboolean
wait_until (Condition cond,
            gpointer  data)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (10000, timeout_cb, &timed_out);
  guint tick = g_timeout_add (20, tick_cb, NULL);   /* checks @cond even when idle */

  while (!cond (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  if (!timed_out)
    g_source_remove (id);
  return !timed_out;
}

static gboolean
file_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static gboolean
reader_off (gpointer data)
{
  return !imprint_screen_reader_get_active (data);
}

static gboolean
process_gone (gpointer data)
{
  return kill (GPOINTER_TO_INT (data), 0) < 0 && errno == ESRCH;
}

static void
test_unavailable (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(ImprintScreenReader) reader = imprint_screen_reader_new ();

  g_assert_false (imprint_screen_reader_get_available (reader));
  imprint_screen_reader_set_active (reader, TRUE);
  g_assert_false (imprint_screen_reader_get_active (reader));
}

static void
test_start_stop (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(ImprintScreenReader) reader = NULL;
  g_autoptr(GAction) action = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autofree char *stamp = NULL;
  g_auto(GStrv) words = NULL;
  int pid;

  write_orca (f, "exec sleep 60");
  reader = imprint_screen_reader_new ();
  g_assert_true (imprint_screen_reader_get_available (reader));
  action = imprint_screen_reader_create_action (reader);
  g_assert_cmpstr (g_action_get_name (action), ==, "screen-reader");

  /* On, through the action as Super+Alt+S does. */
  g_action_activate (action, NULL);
  g_assert_true (imprint_screen_reader_get_active (reader));
  state = g_action_get_state (action);
  g_assert_true (g_variant_get_boolean (state));
  g_assert_true (wait_until (file_exists, f->stamp));
  g_assert_true (g_file_get_contents (f->stamp, &stamp, NULL, NULL));
  words = g_strsplit (g_strstrip (stamp), " ", -1);
  g_assert_cmpuint (g_strv_length (words), ==, 2);
  g_assert_cmpstr (words[1], ==, "--replace");
  pid = atoi (words[0]);
  g_assert_cmpint (pid, >, 1);
  g_assert_cmpint (kill (pid, 0), ==, 0);

  /* Off: the process goes. */
  imprint_screen_reader_set_active (reader, FALSE);
  g_assert_false (imprint_screen_reader_get_active (reader));
  g_assert_true (wait_until (process_gone, GINT_TO_POINTER (pid)));
}

static void
test_exits (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(ImprintScreenReader) reader = NULL;

  /* Orca that quits by itself: the switch goes off. */
  write_orca (f, "exit 1");
  reader = imprint_screen_reader_new ();
  imprint_screen_reader_set_active (reader, TRUE);
  g_assert_true (imprint_screen_reader_get_active (reader));
  g_assert_true (wait_until (reader_off, reader));
  g_assert_true (g_file_test (f->stamp, G_FILE_TEST_EXISTS));
}

static void
test_dispose (Fixture       *f,
              gconstpointer  data)
{
  ImprintScreenReader *reader;
  g_autofree char *stamp = NULL;
  int pid;

  /* The app going takes its Orca with it. */
  write_orca (f, "exec sleep 60");
  reader = imprint_screen_reader_new ();
  imprint_screen_reader_set_active (reader, TRUE);
  g_assert_true (wait_until (file_exists, f->stamp));
  g_assert_true (g_file_get_contents (f->stamp, &stamp, NULL, NULL));
  pid = atoi (stamp);
  g_object_unref (reader);
  g_assert_true (wait_until (process_gone, GINT_TO_POINTER (pid)));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/screen-reader/unavailable", Fixture, NULL, setup, test_unavailable, teardown);
  g_test_add ("/screen-reader/start-stop", Fixture, NULL, setup, test_start_stop, teardown);
  g_test_add ("/screen-reader/exits", Fixture, NULL, setup, test_exits, teardown);
  g_test_add ("/screen-reader/dispose", Fixture, NULL, setup, test_dispose, teardown);
  return g_test_run ();
}
