/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n.h>

#include "imprint-setup-util.h"

/* What first-boot setup's pages derive and check: the languages offered,
 * computer and user names, the time zone nearest a location and the
 * keyboard layout a locale suggests. Pure functions, tested by app-util. */

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
