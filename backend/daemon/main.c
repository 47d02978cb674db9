/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <locale.h>
#include <stdlib.h>

#include "imprintd-auth.h"
#include "imprint-error.h"
#include "imprintd-daemon.h"
#include "imprintd-scratch.h"

typedef struct {
  GMainLoop *loop;
  ImprintdDaemon *daemon;
  guint owner_id;
  int exit_code;
  guint stop_timeout;
  guint signals_seen;
} Context;

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  g_debug ("acquired %s", name);
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Context *ctx = user_data;

  if (connection == NULL)
    g_warning ("lost the connection to the system bus");
  else
    g_warning ("could not own %s (is another imprintd running?)", name);
  ctx->exit_code = EXIT_FAILURE;
  g_main_loop_quit (ctx->loop);
}

static void
on_idle_timeout (ImprintdDaemon *daemon, gpointer user_data)
{
  Context *ctx = user_data;

  /* Give the name back first: a request arriving from now on activates a
   * fresh imprintd instead of reaching one that is going away. */
  g_bus_unown_name (ctx->owner_id);
  ctx->owner_id = 0;
  g_main_loop_quit (ctx->loop);
}

static void
on_stopped (ImprintdDaemon *daemon, gpointer user_data)
{
  Context *ctx = user_data;

  /* Only now, and after what is queued went out: a client watching a job
   * gets its Completed signal before it sees the name go. */
  g_dbus_connection_flush_sync (imprintd_daemon_get_connection (daemon), NULL, NULL);
  if (ctx->owner_id != 0)
    {
      g_bus_unown_name (ctx->owner_id);
      ctx->owner_id = 0;
    }
  g_main_loop_quit (ctx->loop);
}

/* SIGTERM (systemctl stop, shutdown) or SIGINT: running jobs are cancelled
 * and clean up (unmount, close LUKS and loop devices, remove scratch
 * files) before imprintd exits, within --stop-timeout (the unit's
 * TimeoutStopSec= is longer). A second signal exits at once. */
static gboolean
on_sigterm (gpointer user_data)
{
  Context *ctx = user_data;

  if (ctx->signals_seen++ > 0)
    {
      g_warning ("second stop signal: exiting without waiting for jobs");
      g_main_loop_quit (ctx->loop);
      return G_SOURCE_CONTINUE;
    }
  imprintd_daemon_stop (ctx->daemon, ctx->stop_timeout);
  return G_SOURCE_CONTINUE;
}

static void
init_i18n (void)
{
  setlocale (LC_ALL, "");
  /* IMPRINT_LOCALEDIR: translations of a build tree, for running imprintd
   * uninstalled (the tests do). */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("IMPRINT_LOCALEDIR") ?: LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

static gboolean
make_scratch (void)
{
  g_autofree char *scratch = NULL;
  int r = imprintd_scratch_setup (&scratch);

  if (r < 0)
    {
      g_printerr ("imprintd: cannot make a private scratch directory: %s\n", g_strerror (-r));
      return FALSE;
    }
  g_debug ("scratch directory %s", scratch);
  return TRUE;
}

typedef struct {
  int idle_timeout;
  int polkit_timeout;
  int stop_timeout;
} Options;

/* -1: go on; else the exit code. */
static int
parse_options (int *argc, char ***argv, Options *o)
{
  g_autoptr(GOptionContext) option_context = NULL;
  g_autoptr(GError) error = NULL;
  gboolean debug = FALSE;
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &o->idle_timeout,
      "Exit after this many idle seconds (0: never; default 120)", "SECONDS" },
    { "polkit-timeout", 0, 0, G_OPTION_ARG_INT, &o->polkit_timeout,
      "Give up on a non-interactive polkit check after this many seconds (default 25)", "SECONDS" },
    { "stop-timeout", 0, 0, G_OPTION_ARG_INT, &o->stop_timeout,
      "On SIGTERM, wait this many seconds at most for cancelled jobs to clean up (default 80)", "SECONDS" },
    { "debug", 'd', 0, G_OPTION_ARG_NONE, &debug, "Print debug messages", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL }
  };

  option_context = g_option_context_new ("- Imprint's privileged helper");
  g_option_context_add_main_entries (option_context, entries, NULL);
  if (!g_option_context_parse (option_context, argc, argv, &error))
    {
      g_printerr ("imprintd: %s\n", error->message);
      return EXIT_FAILURE;
    }
  if (version)
    {
      g_print ("imprintd %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }
  if (debug)
    g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
  if (o->idle_timeout < 0 || o->polkit_timeout <= 0 || o->stop_timeout <= 0)
    {
      g_printerr ("imprintd: timeouts must be positive\n");
      return EXIT_FAILURE;
    }

  return -1;
}

int
main (int argc, char **argv)
{
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  Context ctx = { 0 };
  Options o = { .idle_timeout = 120, .polkit_timeout = 25, .stop_timeout = 80 };
  int r;

  init_i18n ();

  r = parse_options (&argc, &argv, &o);
  if (r >= 0)
    return r;

  /* Before the bus connection starts GDBus's thread (this sets TMPDIR). */
  if (!make_scratch ())
    return EXIT_FAILURE;

  /* Make sure the error names are registered before any call arrives. */
  (void) IMPRINT_ERROR;
  imprintd_auth_set_timeouts (o.polkit_timeout, MAX (o.polkit_timeout, 300));

  /* G_BUS_TYPE_SYSTEM honours DBUS_SYSTEM_BUS_ADDRESS: tests run imprintd
   * on a private bus next to a polkit stand-in. */
  connection = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (connection == NULL)
    {
      g_printerr ("imprintd: cannot connect to the system bus: %s\n", error->message);
      return EXIT_FAILURE;
    }
  g_dbus_connection_set_exit_on_close (connection, FALSE);

  ctx.loop = g_main_loop_new (NULL, FALSE);
  ctx.stop_timeout = (guint) o.stop_timeout;
  ctx.daemon = imprintd_daemon_new (connection, (guint) o.idle_timeout);
  g_signal_connect (ctx.daemon, "idle-timeout", G_CALLBACK (on_idle_timeout), &ctx);
  g_signal_connect (ctx.daemon, "stopped", G_CALLBACK (on_stopped), &ctx);
  if (!imprintd_daemon_start (ctx.daemon, &error))
    {
      g_printerr ("imprintd: %s\n", error->message);
      return EXIT_FAILURE;
    }

  ctx.owner_id = g_bus_own_name_on_connection (connection, IMPRINT_BUS_NAME,
                                               G_BUS_NAME_OWNER_FLAGS_NONE,
                                               on_name_acquired, on_name_lost,
                                               &ctx, NULL);
  g_unix_signal_add (SIGTERM, on_sigterm, &ctx);
  g_unix_signal_add (SIGINT, on_sigterm, &ctx);

  g_main_loop_run (ctx.loop);

  if (ctx.owner_id != 0)
    g_bus_unown_name (ctx.owner_id);
  g_dbus_connection_flush_sync (connection, NULL, NULL);
  g_clear_object (&ctx.daemon);
  g_main_loop_unref (ctx.loop);
  /* Not after a second stop signal: a job may still be using it. */
  if (ctx.signals_seen < 2)
    imprintd_scratch_teardown ();
  return ctx.exit_code;
}
