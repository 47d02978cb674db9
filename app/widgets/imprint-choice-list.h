/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <adwaita.h>

#include "imprint-page.h"

G_BEGIN_DECLS

/* A searchable list of choices, one of which is selected (a check mark):
 * first-boot setup's languages, keyboard layouts and time zones. Typing in
 * the search field filters by title, subtitle, extra search words and id;
 * Enter in it picks the first match. */
#define IMPRINT_TYPE_CHOICE_LIST (imprint_choice_list_get_type ())
G_DECLARE_FINAL_TYPE (ImprintChoiceList, imprint_choice_list, IMPRINT, CHOICE_LIST, GtkWidget)

GtkWidget  *imprint_choice_list_new          (void);
void        imprint_choice_list_add          (ImprintChoiceList *self,
                                              const char        *id,
                                              const char        *title,
                                              const char        *subtitle,
                                              const char        *search_words);
void        imprint_choice_list_clear        (ImprintChoiceList *self);
const char *imprint_choice_list_get_selected (ImprintChoiceList *self);
void        imprint_choice_list_set_selected (ImprintChoiceList *self,
                                              const char        *id);
const char *imprint_choice_list_get_selected_title (ImprintChoiceList *self);
void        imprint_choice_list_set_search_label (ImprintChoiceList *self,
                                                  const char        *label);

void        imprint_choice_list_bind_setting (ImprintChoiceList *self,
                                              ImprintPage       *page,
                                              const char        *key);

G_END_DECLS
