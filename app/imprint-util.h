/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

/* First-boot setup's helpers live apart (imprint-setup-util.c). */
#include "imprint-setup-util.h"

G_BEGIN_DECLS

void      imprint_i18n_init            (const char    *localedir);

/* The app's secrets are g_malloc()ed strings, wiped when freed (not
 * basic/secret.h memory: that is only for the request structs of
 * imprint-request.h, filled with imprint_secret_strdup()). A
 * GDestroyNotify, so a GBytes holding one can wipe it too. */
void      imprint_wipe_free            (gpointer       secret);
/* *@field = a copy of @value; the old one freed (wiped, for a secret). */
void      imprint_str_replace          (char         **field,
                                        const char    *value);
void      imprint_secret_replace       (char         **secret,
                                        const char    *value);

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

/* Restarts the computer through systemd-logind. */
void      imprint_reboot_async         (GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
gboolean  imprint_reboot_finish        (GAsyncResult        *result,
                                        GError             **error);

G_END_DECLS
