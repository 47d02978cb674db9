/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Drives first-boot setup's real window and pages under Xvfb against the
 * real imprintd on a private bus (run-ui-setup.sh), with homed, localed,
 * timedated and hostnamed replaced by python-dbusmock stand-ins. Checks
 * each page's accessible names and keyboard reachability, then asserts the
 * exact calls localed/timedated/hostnamed got and the exact user record
 * homed received. With IMPRINT_SCREENSHOT_DIR set it saves every page,
 * light and dark (setup-*.png). */
#include "config.h"

#include <crypt.h>
#include <locale.h>
#include <string.h>
#include <glib/gi18n.h>
#include <gtk/gtk.h>
#include <adwaita.h>
#include <json-glib/json-glib.h>

#include "imprint-choice-list.h"
#include "imprint-client.h"
#include "imprint-page.h"
#include "imprint-util.h"
#include "imprint-window.h"
#include "ui-harness.h"
#include "language/imprint-language-page.h"
#include "keyboard/imprint-keyboard-page.h"
#include "timezone/imprint-timezone-page.h"
#include "network/imprint-network-page.h"
#include "hostname/imprint-hostname-page.h"
#include "user/imprint-user-page.h"
#include "setup-summary/imprint-setup-summary-page.h"
#include "setup-done/imprint-setup-done-page.h"

#define PASSWORD "Tr0ub4dor&3 horse battery"

typedef struct {
  ImprintWindow *window;
  const char    *page_id;
} Ctx;

static gboolean
on_page (gpointer data)
{
  Ctx *c = data;

  return imprint_window_get_current_page (c->window) == imprint_window_get_page (c->window, c->page_id);
}

static gboolean
page_complete (gpointer data)
{
  Ctx *c = data;

  return imprint_page_get_complete (imprint_window_get_page (c->window, c->page_id));
}

static void
snap (ImprintWindow *window,
      const char    *name)
{
  g_autofree char *light = g_strdup_printf ("setup-%s", name);
  g_autofree char *dark = g_strdup_printf ("setup-%s-dark", name);
  AdwStyleManager *style = adw_style_manager_get_default ();

  if (shot_dir == NULL)
    return;
  settle (400);
  save_png (GTK_WINDOW (window), light);
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  settle (400);
  save_png (GTK_WINDOW (window), dark);
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  settle (200);
}

/* Waits for the page, checks its names, snaps it. */
static ImprintPage *
arrive (Ctx        *c,
        const char *id)
{
  ImprintPage *page;

  c->page_id = id;
  g_assert_true (wait_for (on_page, c, id));
  page = imprint_window_get_page (c->window, id);
  settle (100);
  check_names (GTK_WIDGET (page), id);
  return page;
}

static void
next (ImprintWindow *window)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.next", NULL));
}

/* Searches the page's list like a person: types, then Enter. */
static void
search_and_pick (ImprintPage *page,
                 GType        type,
                 const char  *text)
{
  GtkWidget *list = child (page, type, "choice_list");
  g_autoptr(GPtrArray) entries = g_ptr_array_new ();
  GtkWidget *entry, *focus;

  collect (list, GTK_TYPE_SEARCH_ENTRY, entries);
  g_assert_cmpuint (entries->len, ==, 1);
  entry = g_ptr_array_index (entries, 0);
  /* Keyboard users land in the search field (the list of a few hundred
   * time zones is many Tab stops long; arrows and search get through it). */
  focus = gtk_root_get_focus (gtk_widget_get_root (entry));
  g_test_message ("%s: focus on %s", G_OBJECT_TYPE_NAME (page), focus ? G_OBJECT_TYPE_NAME (focus) : "nothing");
  g_assert_true (focus != NULL && (focus == entry || gtk_widget_is_ancestor (focus, entry)));
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
  settle (300);   /* GtkSearchEntry's delay */
  g_signal_emit_by_name (entry, "activate");
}

static GVariant *
bus_call (const char         *name,
          const char         *path,
          const char         *interface,
          const char         *method,
          GVariant           *params,
          const GVariantType *reply_type)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *reply;

  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (bus, name, path, interface, method, params, reply_type,
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  return reply;
}

/* The arguments of each call a dbusmock stand-in got, as GVariant text. */
static char *
mock_calls (const char *name,
            const char *path,
            const char *method)
{
  g_autoptr(GVariant) reply = bus_call (name, path, "org.freedesktop.DBus.Mock", "GetMethodCalls",
                                        g_variant_new ("(s)", method), G_VARIANT_TYPE ("(a(tav))"));
  g_autoptr(GVariantIter) iter = NULL;
  GVariant *args;
  GString *s = g_string_new (NULL);

  g_variant_get (reply, "(a(tav))", &iter);
  while (g_variant_iter_next (iter, "(t@av)", NULL, &args))
    {
      g_autofree char *text = NULL;
      GString *one = g_string_new ("[");

      for (gsize i = 0; i < g_variant_n_children (args); i++)
        {
          g_autoptr(GVariant) boxed = g_variant_get_child_value (args, i);
          g_autoptr(GVariant) v = g_variant_get_variant (boxed);
          g_autofree char *p = g_variant_print (v, FALSE);

          g_string_append_printf (one, "%s%s", i ? ", " : "", p);
        }
      g_string_append (one, "]");
      text = g_string_free (one, FALSE);
      g_string_append_printf (s, "%s%s", s->len ? "; " : "", text);
      g_variant_unref (args);
    }
  return g_string_free (s, FALSE);
}

static void
assert_hash (const char *plaintext,
             const char *hashed)
{
  struct crypt_data data = { 0 };
  const char *again;

  g_assert_true (g_str_has_prefix (hashed, "$y$") || g_str_has_prefix (hashed, "$6$"));
  again = crypt_r (plaintext, hashed, &data);
  g_assert_cmpstr (again, ==, hashed);
}

static char *
member_names (JsonObject *o)
{
  g_autoptr(GList) names = json_object_get_members (o);
  GString *s = g_string_new (NULL);

  names = g_list_sort (names, (GCompareFunc) g_strcmp0);
  for (GList *l = names; l; l = l->next)
    g_string_append_printf (s, "%s%s", s->len ? " " : "", (const char *) l->data);
  return g_string_free (s, FALSE);
}

/* What homed's CreateHome got, exactly. */
static void
assert_homed_record (const char *recovery_key)
{
  g_autoptr(GVariant) reply = bus_call ("org.freedesktop.home1", "/org/freedesktop/home1",
                                        "org.freedesktop.DBus.Mock", "GetRecords", NULL,
                                        G_VARIANT_TYPE ("(as)"));
  g_autofree const char **records = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *members = NULL;
  g_autofree char *privileged = NULL;
  g_autofree char *normalized = g_ascii_strdown (recovery_key, -1);
  JsonObject *rec, *priv, *secret;
  JsonArray *a;

  g_variant_get (reply, "(^a&s)", &records);
  g_assert_cmpuint (g_strv_length ((char **) records), ==, 1);
  g_assert_true (json_parser_load_from_data (parser, records[0], -1, &error));
  g_assert_no_error (error);
  rec = json_node_get_object (json_parser_get_root (parser));

  /* No diskSize (homed sizes it from free space), no autoLogin (off). */
  members = member_names (rec);
  g_assert_cmpstr (members, ==, "memberOf privileged realName recoveryKeyType secret storage userName");
  g_assert_cmpstr (json_object_get_string_member (rec, "userName"), ==, "anna");
  g_assert_cmpstr (json_object_get_string_member (rec, "realName"), ==, "Anna Example");
  g_assert_cmpstr (json_object_get_string_member (rec, "storage"), ==, "luks");
  a = json_object_get_array_member (rec, "recoveryKeyType");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (a, 0), ==, "modhex64");

  priv = json_object_get_object_member (rec, "privileged");
  privileged = member_names (priv);
  g_assert_cmpstr (privileged, ==, "hashedPassword recoveryKey");
  a = json_object_get_array_member (priv, "hashedPassword");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  assert_hash (PASSWORD, json_array_get_string_element (a, 0));
  a = json_object_get_array_member (priv, "recoveryKey");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (a, 0), "type"), ==, "modhex64");
  assert_hash (normalized, json_object_get_string_member (json_array_get_object_element (a, 0), "hashedPassword"));

  secret = json_object_get_object_member (rec, "secret");
  a = json_object_get_array_member (secret, "password");
  g_assert_cmpuint (json_array_get_length (a), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (a, 0), ==, PASSWORD);
  g_assert_cmpstr (json_array_get_string_element (a, 1), ==, normalized);
}

static void
defaults_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  GVariant **out = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (imprint_client_get_setup_defaults_finish (IMPRINT_CLIENT (object), result, out, &error));
  g_assert_no_error (error);
}

static gboolean
is_set (gpointer data)
{
  return *(GVariant **) data != NULL;
}

/* What `imprint --setup` does: the defaults first, then the window. */
static ImprintWindow *
new_setup_window (GVariant *defaults_override)
{
  g_autoptr(ImprintClient) client = imprint_client_new ();
  g_autoptr(ImprintInstallChoices) install = imprint_install_choices_new ();
  g_autoptr(ImprintSetupChoices) setup = imprint_setup_choices_new ();
  ImprintWindow *window;

  imprint_setup_choices_set_target (setup, "");
  if (defaults_override != NULL)
    imprint_setup_choices_set_defaults (setup, defaults_override);
  else
    {
      g_autoptr(GVariant) defaults = NULL;

      imprint_client_get_setup_defaults_async (client, "", NULL, defaults_cb, &defaults);
      g_assert_true (wait_for (is_set, &defaults, "GetSetupDefaults"));
      imprint_setup_choices_set_defaults (setup, defaults);
    }
  window = imprint_window_new (NULL, client, install, setup);
  gtk_window_set_default_size (GTK_WINDOW (window), 800, 640);
  gtk_window_present (GTK_WINDOW (window));
  settle (300);
  return window;
}

/* Setup defaults as GetSetupDefaults gives them: whether the machine is
 * online and the system's keymap and language; callers add more. */
static void
init_defaults (GVariantBuilder *b,
               gboolean         online,
               const char      *keymap,
               const char      *locale)
{
  g_variant_builder_init (b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (b, "{sv}", "online", g_variant_new_boolean (online));
  g_variant_builder_add (b, "{sv}", "keymap", g_variant_new_string (keymap));
  g_variant_builder_add (b, "{sv}", "locale", g_variant_new_string (locale));
}

/* The time zone page's line about the location, once it says more than
 * that it is looking. */
static gboolean
location_line_settled (gpointer data)
{
  GtkWidget *label = child (data, IMPRINT_TYPE_TIMEZONE_PAGE, "status_label");

  return gtk_widget_get_visible (label) &&
         !g_str_has_prefix (gtk_label_get_label (GTK_LABEL (label)), "Finding");
}

static const char *
location_line (ImprintPage *page)
{
  g_assert_true (wait_for (location_line_settled, page, "the time zone page's location line"));
  return gtk_label_get_label (GTK_LABEL (child (page, IMPRINT_TYPE_TIMEZONE_PAGE, "status_label")));
}

static void
test_flow (void)
{
  ImprintWindow *window;
  ImprintSetupChoices *setup;
  ImprintPage *page;
  GtkWidget *w;
  Ctx c = { 0 };
  g_autofree char *key = NULL;
  g_autofree char *calls = NULL;
  g_autofree char *marker = NULL;
  const char *state = g_getenv ("IMPRINT_UI_STATE");

  window = new_setup_window (NULL);
  c.window = window;
  setup = imprint_window_get_setup_choices (window);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Set Up the System");

  /* Language: the system's (localed stand-in: en_US) is preselected. */
  page = arrive (&c, "language");
  g_assert_true (imprint_page_get_complete (page));
  g_assert_cmpstr (imprint_choice_list_get_selected (IMPRINT_CHOICE_LIST (child (page, IMPRINT_TYPE_LANGUAGE_PAGE, "choice_list"))),
                   ==, "en_US.UTF-8");
  snap (window, "1-language");
  search_and_pick (page, IMPRINT_TYPE_LANGUAGE_PAGE, "Kingdom");
  g_assert_cmpstr (imprint_setup_choices_get_setting (setup, "locale"), ==, "en_GB.UTF-8");
  /* (After the search: Tab moves the focus the search expects.) */
  assert_screen_reader_row (GTK_WINDOW (window), GTK_WIDGET (page));
  next (window);

  /* Keyboard: search the layout's name, the test field, the warning. */
  page = arrive (&c, "keyboard");
  g_assert_cmpstr (imprint_setup_choices_get_setting (setup, "keymap"), ==, "us");
  search_and_pick (page, IMPRINT_TYPE_KEYBOARD_PAGE, "German");
  w = child (page, IMPRINT_TYPE_KEYBOARD_PAGE, "test_entry");
  assert_reachable (GTK_WINDOW (window), w, "the keyboard test field");
  g_assert_true (gtk_widget_get_visible (child (page, IMPRINT_TYPE_KEYBOARD_PAGE, "warning_box")));
  g_assert_cmpstr (imprint_setup_choices_get_setting (setup, "keymap"), ==, "de");
  gtk_editable_set_text (GTK_EDITABLE (w), "äöü");
  snap (window, "2-keyboard");
  next (window);

  /* Network: only when imprintd finds no default route (this host may
   * have one); never in the way. */
  settle (100);
  if (imprint_window_get_current_page (window) == imprint_window_get_page (window, "network"))
    {
      g_assert_true (imprint_page_get_complete (imprint_window_get_current_page (window)));
      next (window);
    }

  /* Time zone: the tz database, searched by city. */
  page = arrive (&c, "timezone");
  /* Online (GIO_USE_NETWORK_MONITOR=base) without GeoClue on the bus:
   * no dialog, UTC and the search stay, a quiet line says why. */
  g_assert_cmpstr (location_line (page), ==, "The location of this computer could not be found.");
  g_assert_cmpstr (imprint_setup_choices_get_setting (setup, "timezone"), ==, "Etc/UTC");
  search_and_pick (page, IMPRINT_TYPE_TIMEZONE_PAGE, "Berlin");
  g_assert_false (gtk_widget_get_visible (child (page, IMPRINT_TYPE_TIMEZONE_PAGE, "status_label")));
  g_assert_cmpstr (imprint_setup_choices_get_setting (setup, "timezone"), ==, "Europe/Berlin");
  snap (window, "4-timezone");
  next (window);

  /* Computer name: the network name is derived and checked. */
  page = arrive (&c, "hostname");
  g_assert_false (imprint_page_get_complete (page));   /* "live" is not offered */
  gtk_editable_set_text (GTK_EDITABLE (child (page, IMPRINT_TYPE_HOSTNAME_PAGE, "pretty_row")), "Anna's Laptop");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (page, IMPRINT_TYPE_HOSTNAME_PAGE, "hostname_row"))),
                   ==, "annas-laptop");
  g_assert_true (imprint_page_get_complete (page));
  gtk_editable_set_text (GTK_EDITABLE (child (page, IMPRINT_TYPE_HOSTNAME_PAGE, "hostname_row")), "-bad");
  g_assert_false (imprint_page_get_complete (page));
  gtk_editable_set_text (GTK_EDITABLE (child (page, IMPRINT_TYPE_HOSTNAME_PAGE, "hostname_row")), "annas-laptop");
  g_assert_true (imprint_page_get_complete (page));
  assert_reachable (GTK_WINDOW (window), child (page, IMPRINT_TYPE_HOSTNAME_PAGE, "pretty_row"), "the computer name");
  snap (window, "5-hostname");
  next (window);

  /* User: name derived, password rated by imprintd, confirmed. */
  page = arrive (&c, "user");
  gtk_editable_set_text (GTK_EDITABLE (child (page, IMPRINT_TYPE_USER_PAGE, "real_row")), "Anna Example");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (page, IMPRINT_TYPE_USER_PAGE, "user_row"))), ==, "anna");
  gtk_editable_set_text (GTK_EDITABLE (child (page, IMPRINT_TYPE_USER_PAGE, "user_row")), "Root");
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (child (page, IMPRINT_TYPE_USER_PAGE, "hint_label"))),
                   ==, "The user name must start with a lower-case letter.");
  gtk_editable_set_text (GTK_EDITABLE (child (page, IMPRINT_TYPE_USER_PAGE, "user_row")), "anna");
  gtk_editable_set_text (GTK_EDITABLE (child (page, IMPRINT_TYPE_USER_PAGE, "password_row")), PASSWORD);
  gtk_editable_set_text (GTK_EDITABLE (child (page, IMPRINT_TYPE_USER_PAGE, "confirm_row")), "typo");
  settle (600);
  g_assert_false (imprint_page_get_complete (page));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (child (page, IMPRINT_TYPE_USER_PAGE, "hint_label"))),
                   ==, "The passwords do not match.");
  gtk_editable_set_text (GTK_EDITABLE (child (page, IMPRINT_TYPE_USER_PAGE, "confirm_row")), PASSWORD);
  g_assert_true (wait_for (page_complete, &c, "the password rating"));
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (child (page, IMPRINT_TYPE_USER_PAGE, "autologin_switch"))));
  assert_reachable (GTK_WINDOW (window), child (page, IMPRINT_TYPE_USER_PAGE, "autologin_switch"), "the auto-login switch");
  /* The page from its top, as a person arrives at it. */
  gtk_widget_grab_focus (child (page, IMPRINT_TYPE_USER_PAGE, "real_row"));
  settle (100);
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (
    gtk_widget_get_ancestor (child (page, IMPRINT_TYPE_USER_PAGE, "real_row"), GTK_TYPE_SCROLLED_WINDOW))), 0);
  snap (window, "6-user");
  next (window);

  /* Recovery key for the home: the installer's page. */
  page = arrive (&c, "recovery");
  key = confirm_recovery_key (window, page);
  snap (window, "7-recovery");
  next (window);

  /* Summary: only its button applies. */
  page = arrive (&c, "summary");
  g_assert_false (imprint_page_get_complete (page));
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (window), "win.next", NULL) &&
                  imprint_window_get_current_page (window) != page);
  snap (window, "8-summary");
  g_signal_emit_by_name (child (page, IMPRINT_TYPE_SETUP_SUMMARY_PAGE, "apply_button"), "clicked");

  /* Progress, then done. */
  c.page_id = "progress";
  g_assert_true (wait_for (on_page, &c, "the progress page"));
  c.page_id = "done";
  g_assert_true (wait_for_ms (on_page, &c, "the end of the setup", 60000));
  g_test_message ("log:\n%s", imprint_client_get_log (imprint_window_get_client (window)));
  page = imprint_window_get_page (window, "done");
  g_assert_true (imprint_client_get_job_succeeded (imprint_window_get_client (window)));
  g_assert_cmpstr (adw_status_page_get_title (ADW_STATUS_PAGE (child (page, IMPRINT_TYPE_SETUP_DONE_PAGE, "status_page"))),
                   ==, "All Set");
  check_names (GTK_WIDGET (page), "done");
  snap (window, "10-done");

  /* What the system services got, exactly. */
  calls = mock_calls ("org.freedesktop.locale1", "/org/freedesktop/locale1", "SetLocale");
  g_assert_cmpstr (calls, ==, "[['LANG=en_GB.UTF-8'], false]");
  g_free (calls);
  calls = mock_calls ("org.freedesktop.locale1", "/org/freedesktop/locale1", "SetVConsoleKeyboard");
  g_assert_cmpstr (calls, ==, "['de', '', true, false]");
  g_free (calls);
  calls = mock_calls ("org.freedesktop.timedate1", "/org/freedesktop/timedate1", "SetTimezone");
  g_assert_cmpstr (calls, ==, "['Europe/Berlin', false]");
  g_free (calls);
  calls = mock_calls ("org.freedesktop.hostname1", "/org/freedesktop/hostname1", "SetStaticHostname");
  g_assert_cmpstr (calls, ==, "['annas-laptop', false]");
  g_free (calls);
  calls = mock_calls ("org.freedesktop.hostname1", "/org/freedesktop/hostname1", "SetPrettyHostname");
  g_assert_cmpstr (calls, ==, "[\"Anna's Laptop\", false]");
  assert_homed_record (key);

  if (state != NULL)
    {
      marker = g_build_filename (state, "setup-complete", NULL);
      g_assert_true (g_file_test (marker, G_FILE_TEST_EXISTS));
    }

  gtk_window_destroy (GTK_WINDOW (window));
  settle (100);
}

/* Pages an OEM decided are skipped both ways; the user page stays with
 * the name fixed. */
static void
test_decided (void)
{
  GVariantBuilder b, user;
  const char *decided[] = { "locale", "keymap", "user", NULL };
  ImprintWindow *window;
  ImprintPage *page;
  Ctx c = { 0 };

  init_defaults (&b, TRUE, "fr", "fr_FR.UTF-8");
  g_variant_builder_add (&b, "{sv}", "timezone", g_variant_new_string ("Europe/Paris"));
  g_variant_builder_init (&user, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&user, "{sv}", "user-name", g_variant_new_string ("zoe"));
  g_variant_builder_add (&user, "{sv}", "real-name", g_variant_new_string ("Zoé Martin"));
  g_variant_builder_add (&b, "{sv}", "user", g_variant_builder_end (&user));
  g_variant_builder_add (&b, "{sv}", "decided", g_variant_new_strv (decided, -1));

  window = new_setup_window (g_variant_builder_end (&b));
  c.window = window;
  page = arrive (&c, "timezone");
  g_assert_cmpstr (imprint_setup_choices_get_setting (imprint_window_get_setup_choices (window), "timezone"), ==, "Europe/Paris");
  /* Nothing to go back to. */
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (window), "win.back", NULL) &&
                  imprint_window_get_current_page (window) != page);
  g_assert_true (imprint_window_get_current_page (window) == page);
  next (window);
  page = arrive (&c, "hostname");
  gtk_editable_set_text (GTK_EDITABLE (child (page, IMPRINT_TYPE_HOSTNAME_PAGE, "pretty_row")), "Zoé’s PC");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (page, IMPRINT_TYPE_HOSTNAME_PAGE, "hostname_row"))),
                   ==, "zoes-pc");
  next (window);
  page = arrive (&c, "user");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (page, IMPRINT_TYPE_USER_PAGE, "user_row"))), ==, "zoe");
  g_assert_false (gtk_widget_is_sensitive (child (page, IMPRINT_TYPE_USER_PAGE, "user_row")));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.back", NULL));
  arrive (&c, "hostname");
  gtk_window_destroy (GTK_WINDOW (window));
  settle (100);
}

static void
pick (ImprintPage *page,
      GType        type,
      const char  *id)
{
  imprint_choice_list_set_selected (IMPRINT_CHOICE_LIST (child (page, type, "choice_list")), id);
  settle (100);
}

/* No keymap from the system or the OEM: the chosen language's layout is
 * preselected and follows the language until the person picks one. */
static void
test_keyboard_guess (void)
{
  GVariantBuilder b;
  ImprintWindow *window;
  ImprintSetupChoices *setup;
  ImprintPage *page;
  Ctx c = { 0 };
  g_autofree char *language = g_strdup (g_getenv ("LANGUAGE"));

  init_defaults (&b, TRUE, "", "en_GB.UTF-8");
  window = new_setup_window (g_variant_builder_end (&b));
  c.window = window;
  setup = imprint_window_get_setup_choices (window);

  arrive (&c, "language");
  next (window);
  page = arrive (&c, "keyboard");
  g_assert_cmpstr (imprint_setup_choices_get_setting (setup, "keymap"), ==, "uk");
  g_assert_true (imprint_page_get_complete (page));

  /* Another language: the guess follows it. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.back", NULL));
  page = arrive (&c, "language");
  pick (page, IMPRINT_TYPE_LANGUAGE_PAGE, "fr_FR.UTF-8");
  next (window);
  page = arrive (&c, "keyboard");
  g_assert_cmpstr (imprint_setup_choices_get_setting (setup, "keymap"), ==, "fr");

  /* A layout the person picked stays when the language changes again. */
  pick (page, IMPRINT_TYPE_KEYBOARD_PAGE, "de");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.back", NULL));
  page = arrive (&c, "language");
  pick (page, IMPRINT_TYPE_LANGUAGE_PAGE, "en_GB.UTF-8");
  next (window);
  arrive (&c, "keyboard");
  g_assert_cmpstr (imprint_setup_choices_get_setting (setup, "keymap"), ==, "de");

  gtk_window_destroy (GTK_WINDOW (window));
  settle (100);
  if (language != NULL)
    g_setenv ("LANGUAGE", language, TRUE);
  else
    g_unsetenv ("LANGUAGE");
}

static gboolean
has_rows (gpointer data)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();

  collect (data, ADW_TYPE_ACTION_ROW, rows);
  return rows->len >= 2;
}

/* Offline with NetworkManager (dbusmock's) on the bus: its Wi-Fi networks,
 * a password for a secured one, and Next always works. */
static void
test_network (void)
{
  GVariantBuilder b;
  ImprintWindow *window;
  ImprintPage *page;
  Ctx c = { 0 };
  g_autoptr(GVariant) dev = NULL;
  g_autoptr(GVariant) ap = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  const char *dev_path;
  GtkWidget *group;

  dev = bus_call ("org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager", "org.freedesktop.DBus.Mock",
                  "AddWiFiDevice", g_variant_new ("(ssi)", "wlan0", "wlan0", 30), G_VARIANT_TYPE ("(s)"));
  g_variant_get (dev, "(&s)", &dev_path);
  ap = bus_call ("org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager", "org.freedesktop.DBus.Mock",
                 "AddAccessPoint", g_variant_new ("(ssssuuuyu)", dev_path, "ap1", "Home Network", "00:11:22:33:44:55",
                                                  2, 2437, 54000, 80, 2), G_VARIANT_TYPE ("(s)"));
  g_clear_pointer (&ap, g_variant_unref);
  ap = bus_call ("org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager", "org.freedesktop.DBus.Mock",
                 "AddAccessPoint", g_variant_new ("(ssssuuuyu)", dev_path, "ap2", "Café Guest", "00:11:22:33:44:66",
                                                  2, 2437, 54000, 40, 0), G_VARIANT_TYPE ("(s)"));

  init_defaults (&b, FALSE, "us", "en_US.UTF-8");
  window = new_setup_window (g_variant_builder_end (&b));
  c.window = window;
  arrive (&c, "language");
  next (window);
  arrive (&c, "keyboard");
  next (window);
  page = arrive (&c, "network");
  g_assert_true (imprint_page_get_complete (page));
  group = child (page, IMPRINT_TYPE_NETWORK_PAGE, "networks_group");
  g_assert_true (wait_for (has_rows, group, "the Wi-Fi networks"));
  collect (group, ADW_TYPE_ACTION_ROW, rows);
  g_assert_cmpuint (rows->len, ==, 2);
  check_names (GTK_WIDGET (page), "network");
  for (guint i = 0; i < rows->len; i++)
    if (g_str_equal (adw_preferences_row_get_title (g_ptr_array_index (rows, i)), "Home Network"))
      g_signal_emit_by_name (g_ptr_array_index (rows, i), "activated");
  g_assert_true (gtk_widget_get_visible (child (page, IMPRINT_TYPE_NETWORK_PAGE, "password_group")));
  snap (window, "3-network");
  next (window);
  arrive (&c, "timezone");
  gtk_window_destroy (GTK_WINDOW (window));
  settle (100);
}

static gboolean
has_name_owner (gpointer data)
{
  g_autoptr(GVariant) reply = bus_call ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                        "NameHasOwner", g_variant_new ("(s)", (const char *) data),
                                        G_VARIANT_TYPE ("(b)"));
  gboolean owned;

  g_variant_get (reply, "(b)", &owned);
  return owned;
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* wait_for() sleeps until the main loop has something to do; what
 * happens in another process alone gives it nothing, so poll. */
static gboolean
wait_polling (Condition   cond,
              gpointer    data,
              const char *what)
{
  guint tick = g_timeout_add (50, tick_cb, NULL);
  gboolean ok = wait_for (cond, data, what);

  g_source_remove (tick);
  return ok;
}

static gboolean
geoclue_stopped (gpointer data)
{
  g_autofree char *calls = mock_calls ("org.freedesktop.GeoClue2", "/org/freedesktop/GeoClue2/Client/1", "Stop");

  return calls[0] != '\0';
}

/* GeoClue (tests/lib/geoclue2_imprint.py) puts this computer in Paris:
 * the page preselects Europe/Paris and says so; the person can still
 * pick another zone. */
static void
test_located (void)
{
  const char *libdir = g_getenv ("IMPRINT_UI_LIBDIR");
  g_autofree char *template = NULL;
  g_autoptr(GSubprocess) geoclue = NULL;
  g_autoptr(GVariant) desktop_id = NULL;
  g_autoptr(GError) error = NULL;
  GVariantBuilder b;
  ImprintWindow *window;
  ImprintSetupChoices *setup;
  ImprintPage *page;
  Ctx c = { 0 };

  g_assert_nonnull (libdir);
  template = g_build_filename (libdir, "geoclue2_imprint.py", NULL);
  geoclue = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error,
                              "/usr/bin/python3", "-m", "dbusmock", "--system", "--template", template,
                              "--parameters", "{\"Latitude\": 48.8566, \"Longitude\": 2.3522}", NULL);
  g_assert_no_error (error);
  g_assert_true (wait_polling (has_name_owner, (gpointer) "org.freedesktop.GeoClue2", "the GeoClue stand-in"));

  init_defaults (&b, TRUE, "us", "en_US.UTF-8");
  g_variant_builder_add (&b, "{sv}", "timezone", g_variant_new_string ("Etc/UTC"));
  window = new_setup_window (g_variant_builder_end (&b));
  c.window = window;
  setup = imprint_window_get_setup_choices (window);
  arrive (&c, "language");
  next (window);
  arrive (&c, "keyboard");
  next (window);
  page = arrive (&c, "timezone");

  g_assert_cmpstr (location_line (page), ==, "Detected from this computer’s location");
  g_assert_cmpstr (imprint_setup_choices_get_setting (setup, "timezone"), ==, "Europe/Paris");
  g_assert_cmpstr (imprint_choice_list_get_selected (IMPRINT_CHOICE_LIST (child (page, IMPRINT_TYPE_TIMEZONE_PAGE, "choice_list"))),
                   ==, "Europe/Paris");
  g_assert_true (imprint_page_get_complete (page));
  /* Asked as setup's desktop id (data/90-imprint-setup.conf), at city
   * accuracy, and let go afterwards. */
  desktop_id = bus_call ("org.freedesktop.GeoClue2", "/org/freedesktop/GeoClue2/Client/1",
                         "org.freedesktop.DBus.Properties", "Get",
                         g_variant_new ("(ss)", "org.freedesktop.GeoClue2.Client", "DesktopId"),
                         G_VARIANT_TYPE ("(v)"));
  {
    g_autoptr(GVariant) v = NULL;
    g_variant_get (desktop_id, "(v)", &v);
    g_assert_cmpstr (g_variant_get_string (v, NULL), ==, "dev.imprint.Imprint.Setup");
  }
  g_assert_true (wait_polling (geoclue_stopped, NULL, "GeoClue's Stop"));
  snap (window, "4-timezone-located");

  /* Another zone by hand: theirs, and the line goes. */
  search_and_pick (page, IMPRINT_TYPE_TIMEZONE_PAGE, "Tokyo");
  g_assert_cmpstr (imprint_setup_choices_get_setting (setup, "timezone"), ==, "Asia/Tokyo");
  g_assert_false (gtk_widget_get_visible (child (page, IMPRINT_TYPE_TIMEZONE_PAGE, "status_label")));

  gtk_window_destroy (GTK_WINDOW (window));
  settle (100);
  g_subprocess_force_exit (geoclue);
  g_subprocess_wait (geoclue, NULL, NULL);
}

int
main (int   argc,
      char *argv[])
{
  if (!ui_test_init (&argc, &argv))
    {
      g_print ("1..0 # SKIP no display\n");
      return 77;
    }

  g_test_add_func ("/ui/setup/decided", test_decided);
  g_test_add_func ("/ui/setup/network", test_network);
  g_test_add_func ("/ui/setup/flow", test_flow);
  g_test_add_func ("/ui/setup/located", test_located);
  g_test_add_func ("/ui/setup/keyboard-guess", test_keyboard_guess);
  return g_test_run ();
}
