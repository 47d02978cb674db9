/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "imprint-choice-list.h"
#include "imprint-timezone-page.h"

/* The tz database's list of zones, one line per zone and country. */
#define ZONE_TAB "/usr/share/zoneinfo/zone.tab"

struct _ImprintTimezonePage
{
  ImprintPage        parent_instance;

  ImprintChoiceList *choice_list;
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
  imprint_choice_list_bind_setting (self->choice_list, IMPRINT_PAGE (self), "timezone");
  imprint_choice_list_set_search_label (self->choice_list, _("Search time zones"));
}

static void
imprint_timezone_page_class_init (ImprintTimezonePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = imprint_timezone_page_constructed;

  g_type_ensure (IMPRINT_TYPE_CHOICE_LIST);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/timezone/imprint-timezone-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintTimezonePage, choice_list);
}

static void
imprint_timezone_page_init (ImprintTimezonePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
