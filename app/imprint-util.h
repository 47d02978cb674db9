/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void      imprint_i18n_init            (const char    *localedir);

void      imprint_secret_free          (char          *secret);
GVariant *imprint_secret_variant_new   (const char    *secret);

/* What an error is about: the headline when the daemon said nothing. */
typedef enum {
  IMPRINT_TOPIC_INSTALL,
  IMPRINT_TOPIC_UPDATE,
  IMPRINT_TOPIC_RESET,
} ImprintTopic;

char     *imprint_error_to_sentence    (const GError  *error);
char     *imprint_error_to_sentence_for(const GError  *error,
                                        ImprintTopic   topic);
char     *imprint_error_what_is_safe   (const GError  *error,
                                        gboolean       writing_started);

char     *imprint_format_rate          (guint64        bytes_per_second);
char     *imprint_format_time_left     (gint64         seconds);

const char *imprint_lookup_str         (GVariant      *dict,
                                        const char    *key);
gboolean  imprint_lookup_bool          (GVariant      *dict,
                                        const char    *key);

char     *imprint_disk_dup_title       (GVariant      *disk);
char     *imprint_disk_dup_description (GVariant      *disk);
const char *imprint_disk_get_icon_name (GVariant      *disk);
guint64   imprint_disk_get_largest_free(GVariant      *disk);

/* First-boot setup */
typedef struct {
  const char *locale;
  const char *own_name;      /* the language named in itself */
  const char *english_name;  /* N_(): for searching, translated */
} ImprintLanguage;

const ImprintLanguage *imprint_languages          (guint         *n);
char     *imprint_hostname_from_pretty   (const char    *pretty);
gboolean  imprint_hostname_is_valid      (const char    *name);
char     *imprint_user_name_from_real_name (const char  *real_name);
const char *imprint_user_name_problem    (const char    *name);
void      imprint_reboot_async         (GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
gboolean  imprint_reboot_finish        (GAsyncResult        *result,
                                        GError             **error);

/* Time zones: the zone of a tz database table (zone1970.tab, zone.tab)
 * whose principal location lies nearest to a point. */
gboolean  imprint_parse_iso6709        (const char    *text,
                                        double        *ret_latitude,
                                        double        *ret_longitude);
char     *imprint_timezone_nearest     (const char    *tab_path,
                                        double         latitude,
                                        double         longitude);

/* Keyboard: the X11 layout a locale's people most likely type on, among
 * `known` (layout → anything), or NULL. */
const char *imprint_locale_guess_layout (const char    *locale,
                                         GHashTable    *known);

G_END_DECLS
