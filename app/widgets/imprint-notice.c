/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "imprint-a11y.h"
#include "imprint-notice.h"

/* Shows @sentence in @label and @box (which holds it), or hides @box when
 * @sentence is NULL. The settings panels keep their one error notice at
 * the top of a scrolled page, while the button that failed may be far
 * below: scroll it into view. (Give @label the "alert" accessible role in
 * its template, so screen readers say it.) */
void
imprint_show_notice (GtkWidget  *box,
                     GtkLabel   *label,
                     const char *sentence)
{
  GtkWidget *scrolled;

  gtk_label_set_label (label, sentence ? sentence : "");
  gtk_widget_set_visible (box, sentence != NULL);
  if (sentence == NULL)
    return;
  imprint_a11y_announce (box, sentence, TRUE);

  scrolled = gtk_widget_get_ancestor (box, GTK_TYPE_SCROLLED_WINDOW);
  if (scrolled != NULL)
    {
      GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));

      gtk_adjustment_set_value (adj, gtk_adjustment_get_lower (adj));
    }
}
