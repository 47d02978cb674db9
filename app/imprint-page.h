/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <adwaita.h>

#include "imprint-client.h"
#include "imprint-install-choices.h"
#include "imprint-setup-choices.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_PAGE (imprint_page_get_type ())
G_DECLARE_DERIVABLE_TYPE (ImprintPage, imprint_page, IMPRINT, PAGE, AdwBin)

struct _ImprintPageClass
{
  AdwBinClass parent_class;

  /* The page became the visible one. */
  void     (*shown)          (ImprintPage  *self);
  /* Going forward: store the choices. Return TRUE when the page finishes
   * asynchronously; it then calls imprint_page_apply_done(). The base
   * class tracks "applying" and gives @cancellable, cancelled when the
   * person goes back (imprint_page_cancel_apply()) or the page goes away.
   * The summaries' apply is the commit (ImprintCommitPage). */
  gboolean (*apply)          (ImprintPage  *self,
                              GCancellable *cancellable);
  /* The language changed: translate what is not in the template. */
  void     (*locale_changed) (ImprintPage  *self);
};

ImprintClient *imprint_page_get_client       (ImprintPage  *self);
ImprintInstallChoices *imprint_page_get_install_choices (ImprintPage *self);
ImprintSetupChoices   *imprint_page_get_setup_choices   (ImprintPage *self);
gboolean       imprint_page_get_setup_mode   (ImprintPage  *self);
/* For the page's own loads (disks, capabilities, ...): cancelled when the
 * page goes away; renew() cancels what is pending and gives a new one. */
GCancellable  *imprint_page_get_cancellable  (ImprintPage  *self);
GCancellable  *imprint_page_renew_cancellable (ImprintPage *self);
const char    *imprint_page_get_title        (ImprintPage  *self);
void           imprint_page_set_title        (ImprintPage  *self,
                                              const char   *title);
gboolean       imprint_page_get_complete     (ImprintPage  *self);
void           imprint_page_set_complete     (ImprintPage  *self,
                                              gboolean      complete);
gboolean       imprint_page_get_has_forward  (ImprintPage  *self);
void           imprint_page_set_has_forward  (ImprintPage  *self,
                                              gboolean      has_forward);
gboolean       imprint_page_get_can_go_back  (ImprintPage  *self);
void           imprint_page_set_can_go_back  (ImprintPage  *self,
                                              gboolean      can_go_back);

void           imprint_page_shown            (ImprintPage  *self);
/* For the window: going forward, and going elsewhere while applying. */
gboolean       imprint_page_apply            (ImprintPage  *self);
void           imprint_page_cancel_apply     (ImprintPage  *self);
gboolean       imprint_page_get_applying     (ImprintPage  *self);
/* For the page: the asynchronous apply ended (@valid: go forward). */
void           imprint_page_apply_done       (ImprintPage  *self,
                                              gboolean      valid);
void           imprint_page_locale_changed   (ImprintPage  *self);
void           imprint_page_go_forward       (ImprintPage  *self);

G_END_DECLS
