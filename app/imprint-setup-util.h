/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* First-boot setup: languages, names */
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
