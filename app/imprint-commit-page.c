/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "imprint-a11y.h"
#include "imprint-commit-page.h"
#include "imprint-util.h"

typedef struct
{
  GtkButton *button;
  GtkWidget *error_box;
  GtkLabel  *error_label;
  gboolean   committing;
} ImprintCommitPagePrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (ImprintCommitPage, imprint_commit_page, IMPRINT_TYPE_PAGE)

#define PRIV(self) ((ImprintCommitPagePrivate *) imprint_commit_page_get_instance_private (IMPRINT_COMMIT_PAGE (self)))

void
imprint_commit_page_set_widgets (ImprintCommitPage *self,
                                 GtkButton         *button,
                                 GtkWidget         *error_box,
                                 GtkLabel          *error_label)
{
  ImprintCommitPagePrivate *priv = PRIV (self);

  priv->button = button;
  priv->error_box = error_box;
  priv->error_label = error_label;
}

void
imprint_commit_page_show_error (ImprintCommitPage *self,
                                const GError      *error)
{
  ImprintCommitPagePrivate *priv = PRIV (self);
  g_autofree char *sentence = imprint_error_to_sentence (error);

  gtk_label_set_label (priv->error_label, sentence);
  gtk_widget_set_visible (priv->error_box, TRUE);
  /* On the button pressed: the focus is still there. */
  imprint_a11y_announce (GTK_WIDGET (priv->button), sentence, TRUE);
}

void
imprint_commit_page_reset (ImprintCommitPage *self)
{
  gtk_widget_set_visible (PRIV (self)->error_box, FALSE);
  imprint_page_set_complete (IMPRINT_PAGE (self), FALSE);
}

gboolean
imprint_commit_page_get_committing (ImprintCommitPage *self)
{
  return PRIV (self)->committing;
}

void
imprint_commit_page_start (ImprintCommitPage *self)
{
  if (PRIV (self)->committing)
    return;
  /* Only this button makes the page complete, so no shortcut can commit
   * by accident. */
  imprint_page_set_complete (IMPRINT_PAGE (self), TRUE);
  imprint_page_go_forward (IMPRINT_PAGE (self));
}

static void
commit_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(ImprintCommitPage) self = user_data;
  ImprintCommitPagePrivate *priv = PRIV (self);
  g_autoptr(ImprintJob) job = NULL;
  g_autoptr(GError) error = NULL;

  priv->committing = FALSE;
  gtk_widget_set_sensitive (GTK_WIDGET (priv->button), TRUE);

  job = imprint_client_job_finish (IMPRINT_CLIENT (object), result, &error);
  if (job == NULL)
    {
      /* Dismissed or denied polkit prompts land here: say so, stay. */
      imprint_commit_page_show_error (self, error);
      imprint_page_set_can_go_back (IMPRINT_PAGE (self), TRUE);
      imprint_page_set_complete (IMPRINT_PAGE (self), FALSE);
      imprint_page_apply_done (IMPRINT_PAGE (self), FALSE);
      return;
    }
  imprint_page_apply_done (IMPRINT_PAGE (self), TRUE);
}

/* The commit: the only place anything is written. It is not cancelled by
 * the page's apply cancellable: there is no way back from it. */
static gboolean
imprint_commit_page_apply (ImprintPage  *page,
                           GCancellable *cancellable)
{
  ImprintCommitPage *self = IMPRINT_COMMIT_PAGE (page);
  ImprintCommitPagePrivate *priv = PRIV (self);

  priv->committing = TRUE;
  /* Once asked, the daemon may already be writing: no way back. */
  imprint_page_set_can_go_back (page, FALSE);
  gtk_widget_set_visible (priv->error_box, FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (priv->button), FALSE);
  IMPRINT_COMMIT_PAGE_GET_CLASS (self)->commit (self, commit_cb, g_object_ref (self));
  return TRUE;
}

static void
imprint_commit_page_class_init (ImprintCommitPageClass *klass)
{
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);

  page_class->apply = imprint_commit_page_apply;
}

static void
imprint_commit_page_init (ImprintCommitPage *self)
{
  imprint_page_set_has_forward (IMPRINT_PAGE (self), FALSE);
}
