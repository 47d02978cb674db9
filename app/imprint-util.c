/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <locale.h>
#include <math.h>
#include <string.h>
#include <glib/gi18n.h>

#include "imprint-error.h"
#include "imprint-util.h"

/* Sets up gettext for the app. GLib decides once, on the first
 * g_dgettext() (GtkBuilder's), whether to translate at all, and says no
 * for a C.UTF-8 session without an English catalogue. A live session often
 * starts like that and switches language later, so make that first call
 * while LC_MESSAGES is plain "C", which GLib always translates for. */
void
imprint_i18n_init (const char *localedir)
{
  g_autofree char *saved = NULL;

  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  saved = g_strdup (setlocale (LC_MESSAGES, NULL));
  setlocale (LC_MESSAGES, "C");
  (void) g_dgettext (GETTEXT_PACKAGE, "");
  setlocale (LC_MESSAGES, saved);
}

void
imprint_secret_free (char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

/* A string GVariant whose bytes are wiped when the last reference goes, so
 * secrets passed to imprintd do not linger in freed memory. */
GVariant *
imprint_secret_variant_new (const char *secret)
{
  g_autoptr(GBytes) bytes = NULL;
  char *copy = g_strdup (secret);

  bytes = g_bytes_new_with_free_func (copy, strlen (copy) + 1,
                                      (GDestroyNotify) imprint_secret_free, copy);
  return g_variant_new_from_bytes (G_VARIANT_TYPE_STRING, bytes, TRUE);
}

static const char *
error_headline (const GError *error)
{
  if (error->domain == IMPRINT_ERROR)
    {
      switch ((ImprintError) error->code)
        {
        case IMPRINT_ERROR_NOT_AUTHORIZED:
          return _("You are not allowed to do this. Ask the person who administers this computer.");
        case IMPRINT_ERROR_AUTH_DISMISSED:
          return _("The password prompt was closed, so nothing was done.");
        case IMPRINT_ERROR_INVALID_ARGUMENT:
          return _("The installer asked for something the system could not do.");
        case IMPRINT_ERROR_NOT_FOUND:
          return _("A disk or file the installation needs is no longer there.");
        case IMPRINT_ERROR_BUSY:
          return _("The disk is in use by something else.");
        case IMPRINT_ERROR_NOT_SUPPORTED:
          return _("This computer cannot do what was asked.");
        case IMPRINT_ERROR_CANCELLED:
          return _("The installation was cancelled.");
        case IMPRINT_ERROR_SOURCE_INVALID:
          return _("The installation medium is damaged or incomplete.");
        case IMPRINT_ERROR_NO_SPACE:
          return _("The disk is too small for this system.");
        case IMPRINT_ERROR_UNAVAILABLE:
          return _("A security device (TPM or security key) could not be used.");
        case IMPRINT_ERROR_FAILED:
        default:
          return _("The installation failed.");
        }
    }

  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_FAILED) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_CHILD_EXITED) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_DISCONNECTED) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    return _("The installer service stopped or could not be started.");
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED))
    return _("You are not allowed to do this. Ask the person who administers this computer.");
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return _("The installation was cancelled.");

  return _("Something went wrong.");
}

/* The update and reset errors of imprintd are whole sentences already
 * ("The update server cannot be reached..."): they stand alone, under a
 * headline only when the daemon said nothing. */
static char *
panel_sentence (const GError *error,
                const char   *headline)
{
  if (g_error_matches (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED) ||
      g_error_matches (error, IMPRINT_ERROR, IMPRINT_ERROR_AUTH_DISMISSED) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED))
    return g_strdup (error_headline (error));
  if (error->domain == G_DBUS_ERROR || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    return g_strdup (_("The system service stopped or could not be started."));
  /* A cancel asked for: say what it left behind, in the same words
   * whichever layer noticed it. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_error_matches (error, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED))
    return g_strdup (headline);
  if (error->message != NULL && error->message[0] != '\0')
    return g_strdup (error->message);
  return g_strdup (headline);
}

/* Errors from imprintd become sentences: a headline chosen by code, then
 * the daemon's own (translated) explanation. D-Bus error names are never
 * shown; a message from an unregistered remote error is stripped first. */
char *
imprint_error_to_sentence_for (const GError *error,
                               ImprintTopic  topic)
{
  g_autoptr(GError) copy = NULL;
  const char *headline;

  g_return_val_if_fail (error != NULL, NULL);

  copy = g_error_copy (error);
  if (g_dbus_error_is_remote_error (copy))
    g_dbus_error_strip_remote_error (copy);
  if (topic == IMPRINT_TOPIC_UPDATE)
    return panel_sentence (copy, g_error_matches (copy, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED)
                                 ? _("The update was cancelled. The running system is unchanged.")
                                 : _("The update failed."));
  if (topic == IMPRINT_TOPIC_RESET)
    return panel_sentence (copy, _("The factory reset could not be requested."));
  headline = error_headline (copy);

  /* The daemon's own words follow the headline; messages GLib made up
   * about the bus itself are too technical and are left out. */
  /* For a refusal, a dismissed prompt or a cancel the headline says all. */
  if (g_error_matches (copy, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED) ||
      g_error_matches (copy, IMPRINT_ERROR, IMPRINT_ERROR_AUTH_DISMISSED) ||
      g_error_matches (copy, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED))
    return g_strdup (headline);
  if ((copy->domain == IMPRINT_ERROR || g_error_matches (copy, G_IO_ERROR, G_IO_ERROR_DBUS_ERROR)) &&
      copy->message != NULL && copy->message[0] != '\0' &&
      !g_str_equal (copy->message, headline))
    return g_strdup_printf ("%s %s", headline, copy->message);
  return g_strdup (headline);
}

char *
imprint_error_to_sentence (const GError *error)
{
  return imprint_error_to_sentence_for (error, IMPRINT_TOPIC_INSTALL);
}

char *
imprint_error_what_is_safe (const GError *error,
                            gboolean      writing_started)
{
  if (!writing_started ||
      (error != NULL && (g_error_matches (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID) ||
                         g_error_matches (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED) ||
                         g_error_matches (error, IMPRINT_ERROR, IMPRINT_ERROR_AUTH_DISMISSED))))
    return g_strdup (_("Nothing was written to any disk. Your files are as they were."));

  return g_strdup (_("Only the disk you chose was changed, and it will not start this system. "
                     "Other disks were not touched. You can try the installation again."));
}

char *
imprint_format_rate (guint64 bytes_per_second)
{
  g_autofree char *size = NULL;

  if (bytes_per_second == 0)
    return g_strdup ("");
  size = g_format_size (bytes_per_second);
  /* Translators: a transfer rate, e.g. "120 MB/s" */
  return g_strdup_printf (_("%s/s"), size);
}

char *
imprint_format_time_left (gint64 seconds)
{
  if (seconds < 0)
    return g_strdup ("");
  if (seconds < 60)
    return g_strdup (_("Less than a minute left"));
  if (seconds < 60 * 60)
    {
      int minutes = (int) ((seconds + 59) / 60);
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "About %d minute left",
                                           "About %d minutes left", minutes), minutes);
    }
  else
    {
      int hours = (int) (seconds / 3600);
      int minutes = (int) ((seconds % 3600) / 60);
      g_autofree char *h = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d hour", "%d hours", hours), hours);
      g_autofree char *m = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d minute", "%d minutes", minutes), minutes);
      /* Translators: time left, e.g. "About 1 hour 5 minutes left" */
      return g_strdup_printf (_("About %s %s left"), h, m);
    }
}

/* A string or boolean from an a{sv} imprintd answered; "" or FALSE when
 * it is missing. */
const char *
imprint_lookup_str (GVariant   *dict,
                    const char *key)
{
  const char *value = NULL;

  if (!g_variant_lookup (dict, key, "&s", &value))
    return "";
  return value;
}

gboolean
imprint_lookup_bool (GVariant   *dict,
                     const char *key)
{
  gboolean value = FALSE;

  g_variant_lookup (dict, key, "b", &value);
  return value;
}

char *
imprint_disk_dup_title (GVariant *disk)
{
  const char *vendor = imprint_lookup_str (disk, "vendor");
  const char *model = imprint_lookup_str (disk, "model");
  const char *device = imprint_lookup_str (disk, "device");
  guint64 size = 0;
  g_autofree char *size_str = NULL;
  g_autofree char *name = NULL;

  g_variant_lookup (disk, "size", "t", &size);
  size_str = g_format_size (size);

  if (*model != '\0' && *vendor != '\0' && !g_str_has_prefix (model, vendor))
    name = g_strdup_printf ("%s %s", vendor, model);
  else if (*model != '\0')
    name = g_strdup (model);
  else if (*vendor != '\0')
    name = g_strdup (vendor);
  else
    name = g_path_get_basename (device);

  /* Translators: a disk: "<model> (<size>)", e.g. "Samsung SSD 980 (1.0 TB)" */
  return g_strdup_printf (_("%s (%s)"), name, size_str);
}

char *
imprint_disk_dup_description (GVariant *disk)
{
  const char *contents = imprint_lookup_str (disk, "contents");
  const char *device = imprint_lookup_str (disk, "device");

  if (*contents == '\0')
    return g_strdup (device);
  /* Translators: "<what is on the disk> · <device>", e.g. "Empty · /dev/sda" */
  return g_strdup_printf (_("%s · %s"), contents, device);
}

const char *
imprint_disk_get_icon_name (GVariant *disk)
{
  const char *transport = imprint_lookup_str (disk, "transport");
  gboolean rotational = FALSE;

  g_variant_lookup (disk, "rotational", "b", &rotational);

  if (g_str_equal (transport, "usb"))
    return "drive-harddisk-usb-symbolic";
  if (g_str_equal (transport, "mmc"))
    return "media-flash-symbolic";
  if (g_str_equal (transport, "file") || g_str_equal (transport, "loop"))
    return "drive-harddisk-system-symbolic";
  if (g_str_equal (transport, "nvme") || !rotational)
    return "drive-harddisk-solidstate-symbolic";
  return "drive-harddisk-symbolic";
}

guint64
imprint_disk_get_largest_free (GVariant *disk)
{
  g_autoptr(GVariant) free_regions = NULL;
  GVariantIter iter;
  guint64 start, size, largest = 0;

  free_regions = g_variant_lookup_value (disk, "free", G_VARIANT_TYPE ("a(tt)"));
  if (free_regions == NULL)
    return 0;
  g_variant_iter_init (&iter, free_regions);
  while (g_variant_iter_next (&iter, "(tt)", &start, &size))
    largest = MAX (largest, size);
  return largest;
}

/* ---- first-boot setup ---------------------------------------------------- */

/* The languages offered, each named in itself, in the order a reader of
 * that script expects (Latin alphabetical, then by script). The English
 * name is only used for searching, translated into the current language. */
static const ImprintLanguage languages[] = {
  { "ca_ES.UTF-8", "Català", N_("Catalan") },
  { "cs_CZ.UTF-8", "Čeština", N_("Czech") },
  { "da_DK.UTF-8", "Dansk", N_("Danish") },
  { "de_DE.UTF-8", "Deutsch", N_("German") },
  { "en_GB.UTF-8", "English (United Kingdom)", N_("English (United Kingdom)") },
  { "en_US.UTF-8", "English (United States)", N_("English (United States)") },
  { "es_ES.UTF-8", "Español", N_("Spanish") },
  { "fr_FR.UTF-8", "Français", N_("French") },
  { "it_IT.UTF-8", "Italiano", N_("Italian") },
  { "hu_HU.UTF-8", "Magyar", N_("Hungarian") },
  { "nl_NL.UTF-8", "Nederlands", N_("Dutch") },
  { "nb_NO.UTF-8", "Norsk bokmål", N_("Norwegian Bokmål") },
  { "pl_PL.UTF-8", "Polski", N_("Polish") },
  { "pt_BR.UTF-8", "Português (Brasil)", N_("Portuguese (Brazil)") },
  { "pt_PT.UTF-8", "Português (Portugal)", N_("Portuguese (Portugal)") },
  { "ro_RO.UTF-8", "Română", N_("Romanian") },
  { "fi_FI.UTF-8", "Suomi", N_("Finnish") },
  { "sv_SE.UTF-8", "Svenska", N_("Swedish") },
  { "tr_TR.UTF-8", "Türkçe", N_("Turkish") },
  { "el_GR.UTF-8", "Ελληνικά", N_("Greek") },
  { "ru_RU.UTF-8", "Русский", N_("Russian") },
  { "uk_UA.UTF-8", "Українська", N_("Ukrainian") },
  { "he_IL.UTF-8", "עברית", N_("Hebrew") },
  { "ar_EG.UTF-8", "العربية", N_("Arabic") },
  { "hi_IN.UTF-8", "हिन्दी", N_("Hindi") },
  { "zh_CN.UTF-8", "中文（简体）", N_("Chinese (Simplified)") },
  { "zh_TW.UTF-8", "中文（繁體）", N_("Chinese (Traditional)") },
  { "ja_JP.UTF-8", "日本語", N_("Japanese") },
  { "ko_KR.UTF-8", "한국어", N_("Korean") },
};

const ImprintLanguage *
imprint_languages (guint *n)
{
  *n = G_N_ELEMENTS (languages);
  return languages;
}

/* ---- names -------------------------------------------------------------- */

/* Lower-case ASCII letters and digits of @text (accents dropped the way the
 * current locale spells them in ASCII), every other run of characters one
 * @sep; none at either end; at most @max bytes. */
static char *
ascii_slug (const char *text,
            char        sep,
            gsize       max)
{
  g_autofree char *ascii = g_str_to_ascii (text ? text : "", NULL);
  GString *s = g_string_new (NULL);
  gboolean pending = FALSE;

  for (const char *p = ascii; *p && s->len < max; p++)
    {
      if (g_ascii_isalnum (*p))
        {
          if (pending && s->len > 0 && s->len + 1 < max)
            g_string_append_c (s, sep);
          pending = FALSE;
          g_string_append_c (s, g_ascii_tolower (*p));
        }
      else
        pending = TRUE;
    }
  while (s->len > 0 && s->str[s->len - 1] == sep)
    g_string_truncate (s, s->len - 1);
  return g_string_free (s, FALSE);
}

/* "Anna's Laptop" → "annas-laptop": what hostnamed would accept as the
 * static host name (one DNS label). */
char *
imprint_hostname_from_pretty (const char *pretty)
{
  g_autofree char *cleaned = NULL;
  GString *s;

  /* Apostrophes join words ("Anna's" → "annas"), not split them. */
  s = g_string_new (pretty ? pretty : "");
  g_string_replace (s, "'", "", 0);
  g_string_replace (s, "’", "", 0);
  cleaned = g_string_free (s, FALSE);
  return ascii_slug (cleaned, '-', 63);
}

/* RFC 1123 labels, dot-separated, as hostnamed's SetStaticHostname takes
 * them: letters, digits and inner dashes, 1..63 each, 64 in all. */
gboolean
imprint_hostname_is_valid (const char *name)
{
  g_auto(GStrv) labels = NULL;

  if (name == NULL || *name == '\0' || strlen (name) > 64)
    return FALSE;
  labels = g_strsplit (name, ".", -1);
  for (guint i = 0; labels[i]; i++)
    {
      gsize n = strlen (labels[i]);

      if (n == 0 || n > 63 || labels[i][0] == '-' || labels[i][n - 1] == '-')
        return FALSE;
      for (gsize j = 0; j < n; j++)
        if (!g_ascii_isalnum (labels[i][j]) && labels[i][j] != '-')
          return FALSE;
    }
  return TRUE;
}

/* "Zoé Martin" → "zoe": the first name, as people are used to from other
 * systems; the person may change it. */
char *
imprint_user_name_from_real_name (const char *real_name)
{
  g_autofree char *slug = ascii_slug (real_name, ' ', 31);
  char *space = strchr (slug, ' ');
  char *name;

  if (space != NULL)
    *space = '\0';
  /* A name starting with a digit is not allowed: prefix it. */
  if (g_ascii_isdigit (slug[0]))
    name = g_strconcat ("u", slug, NULL);
  else
    name = g_strdup (slug);
  if (strlen (name) > 31)
    name[31] = '\0';
  return name;
}

/* The names the base system owns; homed refuses them too. */
static const char *const reserved_user_names[] = {
  "root", "nobody", "nfsnobody", "daemon", "bin", "sys", "sync", "adm", "wheel",
  "systemd-coredump", "systemd-network", "systemd-resolve", "systemd-timesync",
  "messagebus", "polkitd", "gdm", "sddm",
};

/* NULL when @name is a user name homed accepts (systemd's strict rule,
 * which imprintd checks again), else why not, in a sentence. */
const char *
imprint_user_name_problem (const char *name)
{
  gsize n = name ? strlen (name) : 0;

  if (n == 0)
    return _("Choose a user name.");
  if (n > 31)
    return _("The user name is too long: at most 31 characters.");
  if (!(g_ascii_islower (name[0]) || name[0] == '_'))
    return _("The user name must start with a lower-case letter.");
  for (gsize i = 1; i < n; i++)
    if (!(g_ascii_islower (name[i]) || g_ascii_isdigit (name[i]) || name[i] == '_' || name[i] == '-'))
      return _("Use only lower-case letters, digits, “-” and “_”.");
  for (gsize i = 0; i < G_N_ELEMENTS (reserved_user_names); i++)
    if (g_str_equal (name, reserved_user_names[i]))
      return _("That name is reserved for the system.");
  return NULL;
}

/* ---- restart ------------------------------------------------------------ */

static void
reboot_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/* Restarts the computer through systemd-logind, which asks polkit (and so
 * the person) itself when others are logged in. */
void
imprint_reboot_async (GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GDBusConnection) bus = NULL;
  GError *error = NULL;

  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, cancellable, &error);
  if (bus == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_dbus_connection_call (bus, "org.freedesktop.login1", "/org/freedesktop/login1",
                          "org.freedesktop.login1.Manager", "Reboot",
                          g_variant_new ("(b)", TRUE), NULL,
                          G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, -1,
                          cancellable, reboot_done_cb, g_steal_pointer (&task));
}

gboolean
imprint_reboot_finish (GAsyncResult  *result,
                       GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* One ISO 6709 component: sign, then DD(D)MM or DD(D)MMSS; @deg_digits
 * is 2 for a latitude, 3 for a longitude. Returns the end, or NULL. */
static const char *
parse_iso6709_part (const char *p,
                    guint       deg_digits,
                    double      max,
                    double     *ret)
{
  int sign, n = 0, digits[7];
  double deg = 0, min, sec = 0;

  if (*p != '+' && *p != '-')
    return NULL;
  sign = *p == '-' ? -1 : 1;
  for (p++; g_ascii_isdigit (*p) && n < 7; p++)
    digits[n++] = *p - '0';
  if (n != (int) deg_digits + 2 && n != (int) deg_digits + 4)
    return NULL;
  for (guint i = 0; i < deg_digits; i++)
    deg = deg * 10 + digits[i];
  min = digits[deg_digits] * 10 + digits[deg_digits + 1];
  if (n == (int) deg_digits + 4)
    sec = digits[deg_digits + 2] * 10 + digits[deg_digits + 3];
  if (min >= 60 || sec >= 60)
    return NULL;
  deg += min / 60 + sec / 3600;
  if (deg > max)
    return NULL;
  *ret = sign * deg;
  return p;
}

/* "+5230+01322" or "+404251-0740023" (the tz tables' coordinates column)
 * → degrees, north and east positive. */
gboolean
imprint_parse_iso6709 (const char *text,
                       double     *ret_latitude,
                       double     *ret_longitude)
{
  double lat, lon;
  const char *p;

  g_return_val_if_fail (text != NULL, FALSE);

  p = parse_iso6709_part (text, 2, 90, &lat);
  if (p == NULL)
    return FALSE;
  p = parse_iso6709_part (p, 3, 180, &lon);
  if (p == NULL || *p != '\0')
    return FALSE;
  if (ret_latitude)
    *ret_latitude = lat;
  if (ret_longitude)
    *ret_longitude = lon;
  return TRUE;
}

/* The central angle between two points (haversine): enough to compare
 * distances, no need for the earth's radius. */
static double
central_angle (double lat1, double lon1, double lat2, double lon2)
{
  double rad = G_PI / 180;
  double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
  double a = sin (dlat / 2) * sin (dlat / 2) +
             cos (lat1 * rad) * cos (lat2 * rad) * sin (dlon / 2) * sin (dlon / 2);

  return 2 * atan2 (sqrt (a), sqrt (1 - a));
}

/* Reads the table at @tab_path (tab separated: countries, coordinates,
 * zone, comment; '#' comments) and returns the zone whose location is
 * nearest, or NULL when the file cannot be read or lists no zone.
 * Malformed lines are skipped. */
char *
imprint_timezone_nearest (const char *tab_path,
                          double      latitude,
                          double      longitude)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  char *best = NULL;
  double best_angle = G_MAXDOUBLE;

  g_return_val_if_fail (tab_path != NULL, NULL);

  if (!g_file_get_contents (tab_path, &text, NULL, NULL))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto(GStrv) fields = NULL;
      double lat, lon, angle;

      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      fields = g_strsplit (lines[i], "\t", 4);
      if (g_strv_length (fields) < 3 || fields[2][0] == '\0' ||
          !imprint_parse_iso6709 (fields[1], &lat, &lon))
        continue;
      angle = central_angle (latitude, longitude, lat, lon);
      if (angle < best_angle)
        {
          best_angle = angle;
          g_free (best);
          best = g_strdup (fields[2]);
        }
    }
  return best;
}

/* The layout is usually named like the territory (de_DE → de, en_GB → gb,
 * fr_CA → ca, pt_BR → br); English speakers elsewhere mostly type on the
 * US layout (en_CA's "ca" is the French Canadian one), Spanish speakers
 * outside Spain on the Latin American one. Then the language itself, then
 * the US layout. */
const char *
imprint_locale_guess_layout (const char *locale,
                             GHashTable *known)
{
  g_autofree char *language = NULL;
  g_autofree char *territory = NULL;
  const char *candidates[4] = { NULL };
  size_t n, t;
  guint i = 0;

  if (locale == NULL)
    locale = "";
  n = strcspn (locale, "_.@");
  language = g_ascii_strdown (locale, n);
  if (locale[n] == '_')
    {
      t = strcspn (locale + n + 1, ".@");
      territory = g_ascii_strdown (locale + n + 1, t);
    }

  if (g_str_equal (language, "en"))
    {
      if (territory != NULL && (g_str_equal (territory, "gb") || g_str_equal (territory, "ie")))
        candidates[i++] = territory;
    }
  else if (g_str_equal (language, "es") && territory != NULL && !g_str_equal (territory, "es"))
    candidates[i++] = "latam";
  else if (territory != NULL)
    candidates[i++] = territory;
  if (*language != '\0' && !g_str_equal (language, "c") && !g_str_equal (language, "posix"))
    candidates[i++] = language;
  candidates[i++] = "us";

  for (i = 0; candidates[i] != NULL; i++)
    {
      gpointer key;

      if (g_hash_table_lookup_extended (known, candidates[i], &key, NULL))
        return key;
    }
  return NULL;
}
