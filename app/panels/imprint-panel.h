/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <adwaita.h>

#include "imprint-client.h"
#include "imprint-util.h"

G_BEGIN_DECLS

/* What the settings panels share: a window of its own with a connection to
 * imprintd, calls that show a spinner while they run and are dropped when
 * the window goes, one error notice (sentences, scrolled into view) and
 * "Restart Now" through logind. */
#define IMPRINT_TYPE_PANEL (imprint_panel_get_type ())
G_DECLARE_DERIVABLE_TYPE (ImprintPanel, imprint_panel, IMPRINT, PANEL, AdwApplicationWindow)

struct _ImprintPanelClass
{
  AdwApplicationWindowClass parent_class;
};

/* From the subclass's init, after its template. */
void           imprint_panel_set_widgets   (ImprintPanel        *self,
                                            ImprintTopic         topic,
                                            GtkSpinner          *spinner,
                                            GtkWidget           *notice_box,
                                            GtkLabel            *notice_label);
ImprintClient *imprint_panel_get_client    (ImprintPanel        *self);
GCancellable  *imprint_panel_get_cancellable (ImprintPanel      *self);
gboolean       imprint_panel_get_busy      (ImprintPanel        *self);
void           imprint_panel_busy_push     (ImprintPanel        *self);
void           imprint_panel_busy_pop      (ImprintPanel        *self);

void           imprint_panel_show_error    (ImprintPanel        *self,
                                            const char          *sentence);
void           imprint_panel_show_gerror   (ImprintPanel        *self,
                                            const GError        *error);

/* A call to imprintd under the spinner: give the returned cancellable
 * (dropped with the window) to one of the client's calls, with the panel
 * as user data; its callback hands @result to imprint_panel_call_finish()
 * before anything else: FALSE means the panel is gone (do nothing, not
 * even look at it); otherwise *@ret_ok says whether the call succeeded
 * (if not, its sentence is shown) and *@ret_reply is its answer (NULL for
 * methods without one). */
GCancellable  *imprint_panel_call_begin    (ImprintPanel        *self);
gboolean       imprint_panel_call_finish   (gpointer             self,
                                            GAsyncResult        *result,
                                            gboolean            *ret_ok,
                                            GVariant           **ret_reply);

/* Moves the keyboard focus to @widget, now or once it is shown. */
void           imprint_panel_focus_when_mapped (GtkWidget       *widget);

/* Restarts the computer; when that fails, @button is sensitive again and
 * @failure is shown. */
void           imprint_panel_restart       (ImprintPanel        *self,
                                            GtkWidget           *button,
                                            const char          *failure);

G_END_DECLS
