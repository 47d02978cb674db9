/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Asks GeoClue (system bus) once for this computer's location at city
 * accuracy, as the application @desktop_id, giving up after
 * @timeout_seconds. Fails with the D-Bus error when GeoClue is missing
 * or refuses, G_IO_ERROR_TIMED_OUT when it finds nothing in time. */
void      imprint_geoclue_locate_async  (const char          *desktop_id,
                                         guint                timeout_seconds,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
gboolean  imprint_geoclue_locate_finish (GAsyncResult        *result,
                                         double              *ret_latitude,
                                         double              *ret_longitude,
                                         GError             **error);

G_END_DECLS
