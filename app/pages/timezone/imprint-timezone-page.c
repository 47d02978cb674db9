/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "imprint-application.h"
#include "imprint-choice-list.h"
#include "imprint-geoclue.h"
#include "imprint-names.h"
#include "imprint-timezone-page.h"
#include "imprint-util.h"

/* The tz database's list of zones, one line per zone and country. */
#define ZONE_TAB "/usr/share/zoneinfo/zone.tab"
/* One line per zone, with the coordinates of its principal city: the
 * table to find the zone nearest a location in. */
#define ZONE1970_TAB "/usr/share/zoneinfo/zone1970.tab"
/* GeoClue usually answers in a few seconds from Wi-Fi or IP; after
 * this the search is all there is. */
#define LOCATE_TIMEOUT_SECONDS 12

struct _ImprintTimezonePage
{
  ImprintPage        parent_instance;

  ImprintChoiceList *choice_list;
  GtkLabel          *status_label;
  gboolean           located;      /* asked once */
  gboolean           applying;     /* our own selection, not the person's */
  gboolean           picked;       /* the person chose a zone */
};

G_DEFINE_FINAL_TYPE (ImprintTimezonePage, imprint_timezone_page, IMPRINT_TYPE_PAGE)

typedef struct {
  char *id;       /* Europe/Berlin */
  char *words;    /* country code, comment */
} Zone;

static void
zone_free (gpointer data)
{
  Zone *z = data;

  g_free (z->id);
  g_free (z->words);
  g_free (z);
}

static int
zone_compare (gconstpointer a,
              gconstpointer b)
{
  const Zone *za = *(const Zone * const *) a;
  const Zone *zb = *(const Zone * const *) b;

  return g_strcmp0 (za->id, zb->id);
}

static GPtrArray *
load_zones (void)
{
  GPtrArray *zones = g_ptr_array_new_with_free_func (zone_free);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  Zone *utc = g_new0 (Zone, 1);

  utc->id = g_strdup ("Etc/UTC");
  utc->words = g_strdup ("UTC GMT");
  g_ptr_array_add (zones, utc);

  if (!g_file_get_contents (ZONE_TAB, &text, NULL, NULL))
    return zones;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto(GStrv) fields = NULL;
      Zone *z;

      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      fields = g_strsplit (lines[i], "\t", 4);
      if (g_strv_length (fields) < 3)
        continue;
      z = g_new0 (Zone, 1);
      z->id = g_strdup (fields[2]);
      z->words = g_strjoin (" ", fields[0], fields[3] ? fields[3] : "", NULL);
      g_ptr_array_add (zones, z);
    }
  g_ptr_array_sort (zones, zone_compare);
  return zones;
}

/* "America/Argentina/Buenos_Aires" → "Buenos Aires" */
static char *
zone_city (const char *id)
{
  const char *slash = strrchr (id, '/');
  char *city = g_strdup (slash ? slash + 1 : id);

  g_strdelimit (city, "_", ' ');
  return city;
}

/* "America/Argentina · UTC−03:00", the offset as of now. */
static char *
zone_subtitle (const char *id)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier (id);
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *region = NULL;
  const char *slash = strrchr (id, '/');
  gint64 offset;

  if (tz == NULL)
    return g_strdup (id);
  now = g_date_time_new_now (tz);
  offset = g_date_time_get_utc_offset (now) / G_TIME_SPAN_MINUTE;
  region = slash ? g_strndup (id, slash - id) : g_strdup ("");
  g_strdelimit (region, "_", ' ');
  /* Translators: a time zone's region and its offset from UTC now,
   * e.g. "Europe · UTC+01:00" */
  return g_strdup_printf (_("%s · UTC%s%02d:%02d"), region, offset < 0 ? "−" : "+",
                          (int) (ABS (offset) / 60), (int) (ABS (offset) % 60));
}

static void
set_status (ImprintTimezonePage *self,
            const char          *text)
{
  gtk_label_set_label (self->status_label, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), text != NULL);
}

static void
selected_cb (ImprintTimezonePage *self)
{
  if (self->applying)
    return;
  /* Theirs from now on: a late answer must not undo it, and the line
   * about the location no longer describes the selection. */
  self->picked = TRUE;
  g_cancellable_cancel (imprint_page_get_cancellable (IMPRINT_PAGE (self)));
  set_status (self, NULL);
}

static void
located_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(ImprintTimezonePage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *zone = NULL;
  double latitude, longitude;

  if (!imprint_geoclue_locate_finish (result, &latitude, &longitude, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* Missing, not allowed or no answer: no dialog, the search is
       * there; just say why nothing was preselected. */
      g_debug ("No location from GeoClue: %s", error->message);
      set_status (self, _("The location of this computer could not be found."));
      return;
    }
  zone = imprint_timezone_nearest (ZONE1970_TAB, latitude, longitude);
  /* Not behind the person's back: once they went on, what they saw
   * (and accepted) stays. */
  if (zone == NULL || self->picked || !gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      set_status (self, NULL);
      return;
    }
  /* As a click would: the list's selection goes to the setup choices. */
  self->applying = TRUE;
  imprint_choice_list_set_selected (self->choice_list, zone);
  self->applying = FALSE;
  if (g_strcmp0 (imprint_choice_list_get_selected (self->choice_list), zone) == 0)
    set_status (self, _("Detected from this computer’s location"));
  else
    set_status (self, NULL);
}

/* Online: a network, and full connectivity when the monitor can tell. */
static gboolean
is_online (void)
{
  GNetworkMonitor *monitor = g_network_monitor_get_default ();

  return g_network_monitor_get_network_available (monitor) &&
         g_network_monitor_get_connectivity (monitor) == G_NETWORK_CONNECTIVITY_FULL;
}

/* Only a zone nobody chose: not one the OEM decided or put in the
 * credentials, not one the system already has, not the person's. */
static gboolean
may_detect (ImprintTimezonePage *self)
{
  ImprintSetupChoices *setup = imprint_page_get_setup_choices (IMPRINT_PAGE (self));
  const char *current = imprint_setup_choices_get_setting (setup, IMPRINT_KEY_TIMEZONE);

  if (self->picked || imprint_setup_choices_decided (setup, IMPRINT_KEY_TIMEZONE))
    return FALSE;
  return g_str_equal (current, "") || g_str_equal (current, "Etc/UTC") || g_str_equal (current, "UTC");
}

static void
imprint_timezone_page_shown (ImprintPage *page)
{
  ImprintTimezonePage *self = IMPRINT_TIMEZONE_PAGE (page);

  if (self->located || !may_detect (self) || !is_online ())
    return;
  self->located = TRUE;
  set_status (self, _("Finding this computer’s location…"));
  imprint_geoclue_locate_async (IMPRINT_APP_ID ".Setup", LOCATE_TIMEOUT_SECONDS, imprint_page_get_cancellable (IMPRINT_PAGE (self)),
                                located_cb, g_object_ref (self));
}

static void
imprint_timezone_page_constructed (GObject *object)
{
  ImprintTimezonePage *self = IMPRINT_TIMEZONE_PAGE (object);
  g_autoptr(GPtrArray) zones = load_zones ();

  G_OBJECT_CLASS (imprint_timezone_page_parent_class)->constructed (object);

  for (guint i = 0; i < zones->len; i++)
    {
      Zone *z = g_ptr_array_index (zones, i);
      g_autofree char *city = zone_city (z->id);
      g_autofree char *subtitle = zone_subtitle (z->id);

      imprint_choice_list_add (self->choice_list, z->id, city, subtitle, z->words);
    }
  imprint_choice_list_bind_setting (self->choice_list, IMPRINT_PAGE (self), IMPRINT_KEY_TIMEZONE);
  imprint_choice_list_set_search_label (self->choice_list, _("Search time zones"));
  g_signal_connect_swapped (self->choice_list, "notify::selected", G_CALLBACK (selected_cb), self);
}

static void
imprint_timezone_page_class_init (ImprintTimezonePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);

  object_class->constructed = imprint_timezone_page_constructed;
  page_class->shown = imprint_timezone_page_shown;

  g_type_ensure (IMPRINT_TYPE_CHOICE_LIST);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/timezone/imprint-timezone-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintTimezonePage, choice_list);
  gtk_widget_class_bind_template_child (widget_class, ImprintTimezonePage, status_label);
}

static void
imprint_timezone_page_init (ImprintTimezonePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
