/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-page.h"

G_BEGIN_DECLS

/* The base of the two pages whose apply is the commit: the installer's
 * summary ("Erase Disk and Install") and first-boot setup's ("Set Up").
 * Only their button makes the page complete, so no shortcut commits by
 * accident; once asked, imprintd may already be writing, so there is no
 * way back until the start failed. The subclass starts its job (Install,
 * ApplySetup) in commit(); the base follows the start through
 * imprint_client_job_finish(), shows a failed start (a dismissed or
 * denied polkit prompt) in sentences and allows a retry. */
#define IMPRINT_TYPE_COMMIT_PAGE (imprint_commit_page_get_type ())
G_DECLARE_DERIVABLE_TYPE (ImprintCommitPage, imprint_commit_page, IMPRINT, COMMIT_PAGE, ImprintPage)

struct _ImprintCommitPageClass
{
  ImprintPageClass parent_class;

  /* Start the job with the page's client; finished by the base with
   * imprint_client_job_finish(). */
  void (*commit) (ImprintCommitPage   *self,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data);
};

/* From the subclass's init, after its template. */
void     imprint_commit_page_set_widgets  (ImprintCommitPage *self,
                                           GtkButton         *button,
                                           GtkWidget         *error_box,
                                           GtkLabel          *error_label);
/* The commit button was pressed. */
void     imprint_commit_page_start        (ImprintCommitPage *self);
/* Shown again: no old error, not complete until the button. */
void     imprint_commit_page_reset        (ImprintCommitPage *self);
void     imprint_commit_page_show_error   (ImprintCommitPage *self,
                                           const GError      *error);
gboolean imprint_commit_page_get_committing (ImprintCommitPage *self);

G_END_DECLS
