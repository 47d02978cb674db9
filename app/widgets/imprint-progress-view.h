/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <adwaita.h>

#include "imprint-dbus-generated.h"

G_BEGIN_DECLS

/* Follows an imprintd Job: the step in words, a bar with the percentage,
 * the rate and the time left, Cancel (after asking), answers to the job's
 * requests (security key PIN, touch) and a live log behind "Details". */
#define IMPRINT_TYPE_PROGRESS_VIEW (imprint_progress_view_get_type ())
G_DECLARE_FINAL_TYPE (ImprintProgressView, imprint_progress_view, IMPRINT, PROGRESS_VIEW, GtkWidget)

GtkWidget *imprint_progress_view_new            (void);
void       imprint_progress_view_set_job        (ImprintProgressView *self,
                                                 ImprintJob          *job);
void       imprint_progress_view_append_log     (ImprintProgressView *self,
                                                 const char          *line);
void       imprint_progress_view_set_log        (ImprintProgressView *self,
                                                 const char          *text);
void       imprint_progress_view_handle_request (ImprintProgressView *self,
                                                 const char          *id,
                                                 const char          *kind,
                                                 const char          *message);
void       imprint_progress_view_set_finished   (ImprintProgressView *self);
void       imprint_progress_view_set_texts      (ImprintProgressView *self,
                                                 const char          *cancel_heading,
                                                 const char          *cancel_body,
                                                 const char          *keep_label,
                                                 const char          *log_name);

G_END_DECLS
