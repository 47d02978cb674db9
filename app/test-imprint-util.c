/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <glib/gstdio.h>

#include "imprint-error.h"
#include "imprint-request.h"
#include "imprint-util.h"

/* Every daemon error becomes a sentence without a D-Bus name in it. */
static void
test_error_sentences (void)
{
  (void) imprint_error_quark ();

  for (int code = 0; code < IMPRINT_ERROR_N_ERRORS; code++)
    {
      g_autoptr(GError) remote = NULL;
      g_autofree char *sentence = NULL;

      remote = g_dbus_error_new_for_dbus_error (imprint_error_to_dbus_name (code), "The daemon's words.");
      g_assert_true (g_error_matches (remote, IMPRINT_ERROR, code));
      sentence = imprint_error_to_sentence (remote);
      g_assert_null (strstr (sentence, "dev.imprint"));
      g_assert_null (strstr (sentence, "GDBus"));
      g_assert_cmpuint (strlen (sentence), >, 10);
      /* The daemon's explanation follows, except where the headline says all. */
      if (code != IMPRINT_ERROR_NOT_AUTHORIZED && code != IMPRINT_ERROR_AUTH_DISMISSED &&
          code != IMPRINT_ERROR_CANCELLED)
        g_assert_nonnull (strstr (sentence, "The daemon's words."));
    }
}

static void
test_error_unregistered (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sentence = NULL;

  error = g_dbus_error_new_for_dbus_error ("org.example.Weird.Failure", "it broke");
  sentence = imprint_error_to_sentence (error);
  g_assert_null (strstr (sentence, "org.example"));
  g_assert_nonnull (strstr (sentence, "it broke"));

  g_clear_error (&error);
  g_clear_pointer (&sentence, g_free);
  error = g_dbus_error_new_for_dbus_error ("org.freedesktop.DBus.Error.ServiceUnknown", "no such name");
  sentence = imprint_error_to_sentence (error);
  g_assert_cmpstr (sentence, ==, "The installer service stopped or could not be started.");
}

/* The panels' sentences: the daemon's own when it gave one (its update
 * and reset errors are whole sentences), else the topic's headline. */
static void
test_error_topics (void)
{
  g_autoptr(GError) remote = NULL;
  g_autoptr(GError) cancelled = NULL;
  g_autoptr(GError) gone = NULL;
  g_autoptr(GError) denied = NULL;
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;

  remote = g_dbus_error_new_for_dbus_error (imprint_error_to_dbus_name (IMPRINT_ERROR_UNAVAILABLE),
                                            "The update server cannot be reached.");
  a = imprint_error_to_sentence_for (remote, IMPRINT_TOPIC_UPDATE);
  g_assert_cmpstr (a, ==, "The update server cannot be reached.");
  b = imprint_error_to_sentence_for (remote, IMPRINT_TOPIC_RESET);
  g_assert_cmpstr (b, ==, "The update server cannot be reached.");

  cancelled = g_dbus_error_new_for_dbus_error (imprint_error_to_dbus_name (IMPRINT_ERROR_CANCELLED),
                                               "The operation was cancelled.");
  c = imprint_error_to_sentence_for (cancelled, IMPRINT_TOPIC_UPDATE);
  g_assert_cmpstr (c, ==, "The update was cancelled. The running system is unchanged.");

  gone = g_dbus_error_new_for_dbus_error ("org.freedesktop.DBus.Error.ServiceUnknown", "no such name");
  d = imprint_error_to_sentence_for (gone, IMPRINT_TOPIC_RESET);
  g_assert_null (strstr (d, "org.freedesktop"));
  g_assert_null (strstr (d, "installer"));

  denied = g_dbus_error_new_for_dbus_error (imprint_error_to_dbus_name (IMPRINT_ERROR_NOT_AUTHORIZED), "polkit said no");
  e = imprint_error_to_sentence_for (denied, IMPRINT_TOPIC_RESET);
  g_assert_null (strstr (e, "polkit"));
  g_assert_nonnull (strstr (e, "not allowed"));
}

static void
test_time_left (void)
{
  g_autofree char *a = imprint_format_time_left (30);
  g_autofree char *b = imprint_format_time_left (61);
  g_autofree char *c = imprint_format_time_left (3600 + 5 * 60);
  g_autofree char *d = imprint_format_time_left (-1);

  g_assert_cmpstr (a, ==, "Less than a minute left");
  g_assert_cmpstr (b, ==, "About 2 minutes left");
  g_assert_cmpstr (c, ==, "About 1 hour 5 minutes left");
  g_assert_cmpstr (d, ==, "");
}

static void
test_secret_variant (void)
{
  g_autoptr(GVariant) v = g_variant_ref_sink (imprint_request_secret_variant_new ("hunter2 hunter2"));

  g_assert_true (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING));
  g_assert_cmpstr (g_variant_get_string (v, NULL), ==, "hunter2 hunter2");
  g_assert_true (g_variant_is_normal_form (v));
}

static void
test_disk_words (void)
{
  g_autoptr(GVariant) disk = NULL;
  g_autofree char *title = NULL;
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "device", g_variant_new_string ("/dev/sda"));
  g_variant_builder_add (&b, "{sv}", "vendor", g_variant_new_string ("ATA"));
  g_variant_builder_add (&b, "{sv}", "model", g_variant_new_string ("Disk 1"));
  g_variant_builder_add (&b, "{sv}", "size", g_variant_new_uint64 (G_GUINT64_CONSTANT (2000000000000)));
  g_variant_builder_add (&b, "{sv}", "transport", g_variant_new_string ("usb"));
  g_variant_builder_add (&b, "{sv}", "free", g_variant_new_parsed ("[(@t 1, @t 10), (20, 300)]"));
  disk = g_variant_ref_sink (g_variant_builder_end (&b));

  title = imprint_disk_dup_title (disk);
  g_assert_cmpstr (title, ==, "ATA Disk 1 (2.0\u00a0TB)");   /* g_format_size uses a no-break space */
  g_assert_cmpstr (imprint_disk_get_icon_name (disk), ==, "drive-harddisk-usb-symbolic");
  g_assert_cmpuint (imprint_disk_get_largest_free (disk), ==, 300);
}

static void
test_names (void)
{
  static const struct { const char *in, *out; } hosts[] = {
    { "Anna's Laptop", "annas-laptop" },
    { "  Zoé’s  PC!! ", "zoes-pc" },
    { "Büro-Rechner 2", "buro-rechner-2" },
    { "日本語", "" },
  };
  static const struct { const char *in, *out; } users[] = {
    { "Anna Example", "anna" },
    { "Zoé Martin", "zoe" },
    { "007 Bond", "u007" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      g_autofree char *h = imprint_hostname_from_pretty (hosts[i].in);

      g_assert_cmpstr (h, ==, hosts[i].out);
      g_assert_true (*h == '\0' || imprint_hostname_is_valid (h));
    }
  g_assert_true (imprint_hostname_is_valid ("a"));
  g_assert_true (imprint_hostname_is_valid ("host.example"));
  g_assert_false (imprint_hostname_is_valid ("-bad"));
  g_assert_false (imprint_hostname_is_valid ("bad-"));
  g_assert_false (imprint_hostname_is_valid ("two..dots"));
  g_assert_false (imprint_hostname_is_valid ("under_score"));
  g_assert_false (imprint_hostname_is_valid (""));

  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autofree char *u = imprint_user_name_from_real_name (users[i].in);

      g_assert_cmpstr (u, ==, users[i].out);
    }
  g_assert_null (imprint_user_name_problem ("anna"));
  g_assert_null (imprint_user_name_problem ("_svc-1"));
  g_assert_nonnull (imprint_user_name_problem (""));
  g_assert_nonnull (imprint_user_name_problem ("Anna"));
  g_assert_nonnull (imprint_user_name_problem ("1anna"));
  g_assert_nonnull (imprint_user_name_problem ("an na"));
  g_assert_nonnull (imprint_user_name_problem ("root"));
  g_assert_nonnull (imprint_user_name_problem ("abcdefghijklmnopqrstuvwxyzabcdef"));
}

static void
test_iso6709 (void)
{
  double lat = 0, lon = 0;

  /* ±DDMM±DDDMM */
  g_assert_true (imprint_parse_iso6709 ("+5230+01322", &lat, &lon));
  g_assert_cmpfloat_with_epsilon (lat, 52.5, 1e-9);
  g_assert_cmpfloat_with_epsilon (lon, 13 + 22.0 / 60, 1e-9);
  /* ±DDMMSS±DDDMMSS, south and west negative */
  g_assert_true (imprint_parse_iso6709 ("+404251-0740023", &lat, &lon));
  g_assert_cmpfloat_with_epsilon (lat, 40 + 42.0 / 60 + 51.0 / 3600, 1e-9);
  g_assert_cmpfloat_with_epsilon (lon, -(74 + 0.0 / 60 + 23.0 / 3600), 1e-9);
  g_assert_true (imprint_parse_iso6709 ("-3352+15113", &lat, &lon));
  g_assert_cmpfloat_with_epsilon (lat, -(33 + 52.0 / 60), 1e-9);

  /* Malformed: the out-parameters stay as they were. */
  lat = lon = 7;
  g_assert_false (imprint_parse_iso6709 ("", &lat, &lon));
  g_assert_false (imprint_parse_iso6709 ("5230+01322", &lat, &lon));
  g_assert_false (imprint_parse_iso6709 ("+5230", &lat, &lon));
  g_assert_false (imprint_parse_iso6709 ("+523+01322", &lat, &lon));
  g_assert_false (imprint_parse_iso6709 ("+5230+01322x", &lat, &lon));
  g_assert_false (imprint_parse_iso6709 ("+5290+01322", &lat, &lon));
  g_assert_false (imprint_parse_iso6709 ("+9130+01322", &lat, &lon));
  g_assert_false (imprint_parse_iso6709 ("+5230+18100", &lat, &lon));
  g_assert_false (imprint_parse_iso6709 ("+523000+0132", &lat, &lon));
  g_assert_cmpfloat (lat, ==, 7);
  g_assert_cmpfloat (lon, ==, 7);
}

static void
assert_nearest (const char *tab,
                double      lat,
                double      lon,
                const char *expected)
{
  g_autofree char *zone = imprint_timezone_nearest (tab, lat, lon);

  g_assert_cmpstr (zone, ==, expected);
}

/* A small table of our own, with lines the function must skip. */
static void
test_timezone_nearest (void)
{
  g_autofree char *dir = g_dir_make_tmp ("imprint-tz-XXXXXX", NULL);
  g_autofree char *tab = g_build_filename (dir, "zone1970.tab", NULL);
  const char *text =
    "# comment\tline\n"
    "DE,DK,NO\t+5230+01322\tEurope/Berlin\tmost of Germany\n"
    "FR,MC\t+4852+00220\tEurope/Paris\n"
    "US\t+404251-0740023\tAmerica/New_York\tEastern (most areas)\n"
    "AU\t-3352+15113\tAustralia/Sydney\tNew South Wales (most areas)\n"
    "\n"
    "XX\tgarbage\tEtc/Broken\n"
    "XX\t+0000+00000\n"
    "XX\t+4852+00220x\tEtc/AlsoBroken\n"
    "XX\t+5230+01322\t\n";

  g_assert_nonnull (dir);
  g_assert_true (g_file_set_contents (tab, text, -1, NULL));

  assert_nearest (tab, 52.52, 13.405, "Europe/Berlin");       /* Berlin, Mitte */
  assert_nearest (tab, 51.34, 12.37, "Europe/Berlin");        /* Leipzig */
  assert_nearest (tab, 48.8566, 2.3522, "Europe/Paris");      /* Paris */
  assert_nearest (tab, 40.7128, -74.006, "America/New_York"); /* New York */
  assert_nearest (tab, -33.8688, 151.2093, "Australia/Sydney");
  assert_nearest (tab, 0, 0, "Europe/Paris");                 /* nearest of four */
  /* Across the antimeridian: Fiji is nearer Sydney than New York. */
  assert_nearest (tab, -18.1, 178.4, "Australia/Sydney");

  g_assert_null (imprint_timezone_nearest ("/nonexistent/zone1970.tab", 0, 0));
  g_assert_true (g_file_set_contents (tab, "# only comments\nXX\tbad\tEtc/Bad\n", -1, NULL));
  g_assert_null (imprint_timezone_nearest (tab, 0, 0));

  g_unlink (tab);
  g_rmdir (dir);
}

/* The host's own table, when there is one: the same cities. */
static void
test_timezone_nearest_system (void)
{
  const char *tab = "/usr/share/zoneinfo/zone1970.tab";

  if (!g_file_test (tab, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no /usr/share/zoneinfo/zone1970.tab (tzdata not installed)");
      return;
    }
  assert_nearest (tab, 52.52, 13.405, "Europe/Berlin");
  assert_nearest (tab, 48.8566, 2.3522, "Europe/Paris");
  assert_nearest (tab, 40.7128, -74.006, "America/New_York");
  assert_nearest (tab, -33.8688, 151.2093, "Australia/Sydney");
}

static void
test_guess_layout (void)
{
  g_autoptr(GHashTable) known = g_hash_table_new (g_str_hash, g_str_equal);
  const char *layouts[] = { "br", "ca", "ch", "de", "es", "fr", "gb", "latam", "us" };
  const struct { const char *locale, *layout; } cases[] = {
    { "de_DE.UTF-8", "de" }, { "de_AT.UTF-8", "de" }, { "de_CH.UTF-8", "ch" },
    { "en_US.UTF-8", "us" }, { "en_GB.UTF-8", "gb" }, { "en_CA.UTF-8", "us" },
    { "en_IN", "us" }, { "fr_CA.UTF-8", "ca" }, { "fr_FR.UTF-8@euro", "fr" },
    { "pt_BR.UTF-8", "br" }, { "es_ES.UTF-8", "es" }, { "es_MX.UTF-8", "latam" },
    { "fr", "fr" }, { "C.UTF-8", "us" }, { "POSIX", "us" }, { "", "us" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (layouts); i++)
    g_hash_table_add (known, (gpointer) layouts[i]);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpstr (imprint_locale_guess_layout (cases[i].locale, known), ==, cases[i].layout);
  g_assert_cmpstr (imprint_locale_guess_layout (NULL, known), ==, "us");

  /* Nothing fits: no guess. */
  g_hash_table_remove_all (known);
  g_hash_table_add (known, (gpointer) "de");
  g_assert_null (imprint_locale_guess_layout ("ja_JP.UTF-8", known));
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "C.UTF-8");
  g_setenv ("LANGUAGE", "C", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/util/error/sentences", test_error_sentences);
  g_test_add_func ("/util/error/unregistered", test_error_unregistered);
  g_test_add_func ("/util/error/topics", test_error_topics);
  g_test_add_func ("/util/time-left", test_time_left);
  g_test_add_func ("/util/secret-variant", test_secret_variant);
  g_test_add_func ("/util/disk-words", test_disk_words);
  g_test_add_func ("/util/names", test_names);
  g_test_add_func ("/util/iso6709", test_iso6709);
  g_test_add_func ("/util/guess-layout", test_guess_layout);
  g_test_add_func ("/util/timezone-nearest", test_timezone_nearest);
  g_test_add_func ("/util/timezone-nearest-system", test_timezone_nearest_system);
  return g_test_run ();
}
