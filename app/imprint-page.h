/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <adwaita.h>

#include "imprint-driver.h"

G_BEGIN_DECLS

#define IMPRINT_TYPE_PAGE (imprint_page_get_type ())
G_DECLARE_DERIVABLE_TYPE (ImprintPage, imprint_page, IMPRINT, PAGE, AdwBin)

struct _ImprintPageClass
{
  AdwBinClass parent_class;

  /* The page became the visible one. */
  void     (*shown)          (ImprintPage  *self);
  /* Going forward: store the choices in the driver. Return TRUE when the
   * page finishes asynchronously; it then calls imprint_page_apply_done().
   * The summary's apply is the commit: the only destructive step. */
  gboolean (*apply)          (ImprintPage  *self,
                              GCancellable *cancellable);
  /* The language changed: translate what is not in the template. */
  void     (*locale_changed) (ImprintPage  *self);
};

ImprintDriver *imprint_page_get_driver       (ImprintPage  *self);
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
gboolean       imprint_page_apply            (ImprintPage  *self,
                                              GCancellable *cancellable);
void           imprint_page_apply_done       (ImprintPage  *self,
                                              gboolean      valid);
void           imprint_page_locale_changed   (ImprintPage  *self);
void           imprint_page_go_forward       (ImprintPage  *self);

G_END_DECLS
