/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "imprint-a11y.h"
#include "imprint-first-frame.h"
#include "imprint-pages.h"
#include "imprint-window-private.h"

G_DEFINE_FINAL_TYPE (ImprintWindow, imprint_window, ADW_TYPE_APPLICATION_WINDOW)

/* glibc's (and GNU libintl's) translation cache generation counter. */
extern int _nl_msg_cat_cntr;

static void update_navigation (ImprintWindow *self);

/* The installer's pages, or first-boot setup's when there is a setup
 * target. */
static const ImprintPageEntry *
page_table (ImprintWindow *self,
            guint         *n)
{
  if (self->setup != NULL && imprint_setup_choices_get_setup_mode (self->setup))
    return imprint_pages_setup (n);
  return imprint_pages_installer (n);
}

/* A setup page whose question the OEM already answered. */
static gboolean
page_skipped (ImprintWindow *self,
              guint          i)
{
  guint n;
  const ImprintPageEntry *table = page_table (self, &n);

  return i < n && table[i].skip != NULL && table[i].skip (self->setup);
}

static guint
n_pages (ImprintWindow *self)
{
  guint n;

  page_table (self, &n);
  return n;
}

static guint
step_from (ImprintWindow *self,
           guint          from,
           int            direction)
{
  guint n = n_pages (self);
  guint i = from;

  do
    {
      if (direction < 0 && i == 0)
        return from;
      i += direction;
    }
  while (i < n && page_skipped (self, i));
  return i < n ? i : from;
}

static void ensure_pages (ImprintWindow *self);

static ImprintPage *
page_at (ImprintWindow *self,
         guint          i)
{
  if (i >= self->pages->len)
    return NULL;
  return g_ptr_array_index (self->pages, i);
}

ImprintPage *
imprint_window_get_current_page (ImprintWindow *self)
{
  g_return_val_if_fail (IMPRINT_IS_WINDOW (self), NULL);
  return page_at (self, self->current);
}

ImprintPage *
imprint_window_get_page (ImprintWindow *self,
                         const char    *id)
{
  guint n;
  const ImprintPageEntry *table = page_table (self, &n);

  ensure_pages (self);
  for (guint i = 0; i < n && i < self->pages->len; i++)
    if (g_str_equal (table[i].id, id))
      return page_at (self, i);
  return NULL;
}

ImprintClient *
imprint_window_get_client (ImprintWindow *self)
{
  return self->client;
}

ImprintInstallChoices *
imprint_window_get_install_choices (ImprintWindow *self)
{
  return self->install;
}

ImprintSetupChoices *
imprint_window_get_setup_choices (ImprintWindow *self)
{
  return self->setup;
}

static void
page_notify_cb (ImprintWindow *self)
{
  update_navigation (self);
}

static void
update_navigation (ImprintWindow *self)
{
  ImprintPage *page = imprint_window_get_current_page (self);
  gboolean can_back, can_next, applying;

  if (page == NULL)
    return;

  applying = imprint_page_get_applying (page);
  can_back = step_from (self, self->current, -1) != self->current &&
             imprint_page_get_can_go_back (page);
  /* Pages without the header button (Install, a finished job) still move
   * on through win.next. */
  can_next = imprint_page_get_complete (page) && !applying &&
             self->current + 1 < n_pages (self);

  adw_window_title_set_title (self->window_title, imprint_page_get_title (page));
  gtk_widget_set_visible (GTK_WIDGET (self->back_button), can_back);
  gtk_widget_set_visible (GTK_WIDGET (self->next_button), imprint_page_get_has_forward (page));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.back", can_back);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.next", can_next);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), applying);
  gtk_spinner_set_spinning (self->spinner, applying);
}

static void
translate_chrome (ImprintWindow *self)
{
  gtk_button_set_label (self->back_button, _("_Back"));
  gtk_button_set_label (self->next_button, _("_Next"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->back_button), _("Go to the previous step (Alt+Left)"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->next_button), _("Go to the next step (Alt+Right)"));
  gtk_window_set_title (GTK_WINDOW (self),
                        self->setup != NULL && imprint_setup_choices_get_setup_mode (self->setup)
                        ? _("Set Up the System") : _("Install System"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->spinner),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Working…"),
                                  -1);
}

static gboolean
focus_page_idle (gpointer user_data)
{
  GtkWidget *page = user_data;
  GtkRoot *root = gtk_widget_get_root (page);

  if (root != NULL && gtk_widget_get_mapped (page))
    {
      GtkWidget *focus = gtk_root_get_focus (root);

      if (focus == NULL || !gtk_widget_is_ancestor (focus, page))
        gtk_widget_child_focus (page, GTK_DIR_TAB_FORWARD);
    }
  return G_SOURCE_REMOVE;
}

static void
switch_to (ImprintWindow *self,
           guint          index)
{
  ImprintPage *page = page_at (self, index);

  if (page == NULL)
    return;

  self->current = index;
  adw_leaflet_set_visible_child (self->leaflet, GTK_WIDGET (page));
  imprint_page_shown (page);
  update_navigation (self);
  /* Keyboard users land in the new page, not on the old button; once the
   * page is in place, not from inside the switch. */
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, focus_page_idle, g_object_ref (page), g_object_unref);
}

static void
apply_done_cb (ImprintPage   *page,
               gboolean       valid,
               ImprintWindow *self)
{
  if (valid && page == imprint_window_get_current_page (self))
    {
      ensure_pages (self);
      switch_to (self, step_from (self, self->current, +1));
    }
  else
    update_navigation (self);
}

static void
next_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  ImprintWindow *self = IMPRINT_WINDOW (widget);
  ImprintPage *page = imprint_window_get_current_page (self);

  if (page == NULL || imprint_page_get_applying (page) || !imprint_page_get_complete (page))
    return;

  /* Asynchronous: "apply-done" moves on (apply_done_cb). */
  if (imprint_page_apply (page))
    return;
  ensure_pages (self);
  switch_to (self, step_from (self, self->current, +1));
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  ImprintWindow *self = IMPRINT_WINDOW (widget);
  ImprintPage *page = imprint_window_get_current_page (self);

  if (step_from (self, self->current, -1) == self->current || page == NULL ||
      !imprint_page_get_can_go_back (page))
    return;

  imprint_page_cancel_apply (page);
  switch_to (self, step_from (self, self->current, -1));
}

/* Straight to a page by id: a failed setup's "Try Again" goes back to its
 * summary. */
static void
show_page_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  ImprintWindow *self = IMPRINT_WINDOW (widget);
  ImprintPage *page = imprint_window_get_page (self, g_variant_get_string (parameter, NULL));

  for (guint i = 0; page != NULL && i < self->pages->len; i++)
    if (page_at (self, i) == page)
      {
        imprint_page_cancel_apply (imprint_window_get_current_page (self));
        switch_to (self, i);
        return;
      }
}

static void
language_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  imprint_window_set_language (IMPRINT_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

static void
add_page (ImprintWindow *self,
          GType          type)
{
  ImprintPage *page = g_object_ref_sink (g_object_new (type,
                                                       "client", self->client,
                                                       "install-choices", self->install,
                                                       "setup-choices", self->setup,
                                                       NULL));

  g_ptr_array_add (self->pages, page);
  adw_leaflet_append (self->leaflet, GTK_WIDGET (page));
  imprint_a11y_name_icon_buttons (GTK_WIDGET (page));
  g_signal_connect_object (page, "notify::complete", G_CALLBACK (page_notify_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (page, "notify::title", G_CALLBACK (page_notify_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (page, "notify::has-forward", G_CALLBACK (page_notify_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (page, "notify::can-go-back", G_CALLBACK (page_notify_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (page, "notify::applying", G_CALLBACK (page_notify_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (page, "apply-done", G_CALLBACK (apply_done_cb), self, 0);
}

/* Only the pages up to the first one shown are built before the window
 * shows; the others follow one per idle after its first frame
 * (imprint_after_first_frame), or all at once when asked for earlier
 * (ensure_pages: Next, imprint_window_get_page). Pages are rebuilt after a
 * language change so their templates are translated again; that only
 * happens on the first page, before any other choice is made. */
static void
drop_pages_from (ImprintWindow *self,
                 guint          first)
{
  while (self->pages->len > first)
    {
      ImprintPage *page = g_ptr_array_steal_index (self->pages, self->pages->len - 1);

      adw_leaflet_remove (self->leaflet, GTK_WIDGET (page));
      g_object_unref (page);
    }
}

static void
build_pages_to (ImprintWindow *self,
                guint          end)
{
  guint n;
  const ImprintPageEntry *table = page_table (self, &n);

  /* Setup's pages wait for the defaults: they decide which are skipped. */
  if (self->placeholder != NULL)
    return;
  for (guint i = self->pages->len; i < n && i < end; i++)
    add_page (self, table[i].get_type ());
}

static void
ensure_pages (ImprintWindow *self)
{
  build_pages_to (self, G_MAXUINT);
  g_clear_handle_id (&self->build_source, g_source_remove);
}

static gboolean
build_next_page_idle (gpointer user_data)
{
  ImprintWindow *self = user_data;

  build_pages_to (self, self->pages->len + 1);
  if (self->placeholder == NULL && self->pages->len < n_pages (self))
    return G_SOURCE_CONTINUE;
  self->build_source = 0;
  return G_SOURCE_REMOVE;
}

static void
build_rest_later (ImprintWindow *self)
{
  if (self->build_source == 0 && self->placeholder == NULL && self->pages->len < n_pages (self))
    self->build_source = g_idle_add (build_next_page_idle, self);
}

/* The first page with its first frame on screen: the window's icon (on
 * X11 an SVG drawn at several sizes) and the other pages. */
static void
first_frame_cb (GtkWidget *widget)
{
  ImprintWindow *self = IMPRINT_WINDOW (widget);

  gtk_window_set_default_icon_name (IMPRINT_APP_ID);
  build_rest_later (self);
}

/* From the first page shown on: the skipped pages before it are built too
 * (they keep their place in the table). */
void
imprint_window_show_first_page (ImprintWindow *self)
{
  guint first = page_skipped (self, 0) ? step_from (self, 0, +1) : 0;

  build_pages_to (self, first + 1);
  switch_to (self, first);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    build_rest_later (self);
}

void
imprint_window_set_language (ImprintWindow *self,
                             const char    *locale)
{
  g_autofree char *language = NULL;
  const char *dot;

  g_return_if_fail (IMPRINT_IS_WINDOW (self));
  g_return_if_fail (locale != NULL);

  if (g_strcmp0 (imprint_client_get_language (self->client), locale) == 0)
    return;
  imprint_client_set_language (self->client, locale);

  /* The live system may not have every locale generated; LANGUAGE still
   * picks the translation then, as long as LC_MESSAGES is not plain "C". */
  dot = strchr (locale, '.');
  language = dot ? g_strndup (locale, dot - locale) : g_strdup (locale);
  g_setenv ("LANGUAGE", language, TRUE);
  if (setlocale (LC_MESSAGES, locale) == NULL)
    setlocale (LC_MESSAGES, "C.UTF-8");
  /* gettext caches translations; tell it the language changed, as the GNU
   * gettext manual says to after changing LANGUAGE. */
  _nl_msg_cat_cntr++;

  gtk_widget_set_default_direction (gtk_get_locale_direction ());

  translate_chrome (self);
  if (self->pages->len > 0)
    {
      drop_pages_from (self, self->current + 1);
      for (guint i = 0; i <= self->current; i++)
        imprint_page_locale_changed (page_at (self, i));
      build_rest_later (self);
    }
  update_navigation (self);
}

static void
imprint_window_dispose (GObject *object)
{
  ImprintWindow *self = IMPRINT_WINDOW (object);

  g_clear_handle_id (&self->build_source, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), IMPRINT_TYPE_WINDOW);
  g_clear_pointer (&self->pages, g_ptr_array_unref);
  g_clear_object (&self->client);
  g_clear_object (&self->install);
  g_clear_object (&self->setup);

  G_OBJECT_CLASS (imprint_window_parent_class)->dispose (object);
}

static void
imprint_window_class_init (ImprintWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imprint_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/dev/imprint/Imprint/imprint-window.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintWindow, header_bar);
  gtk_widget_class_bind_template_child (widget_class, ImprintWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, ImprintWindow, back_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintWindow, next_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, ImprintWindow, leaflet);

  gtk_widget_class_install_action (widget_class, "win.next", NULL, next_action);
  gtk_widget_class_install_action (widget_class, "win.back", NULL, back_action);
  gtk_widget_class_install_action (widget_class, "win.language", "s", language_action);
  gtk_widget_class_install_action (widget_class, "win.show-page", "s", show_page_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, GDK_ALT_MASK, "win.next", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_ALT_MASK, "win.back", NULL);
}

/* Style and icons of the app, once per display, whoever hosts the window
 * (the application, a settings panel, the UI tests). */
void
imprint_window_ensure_style (void)
{
  static gboolean done;
  g_autoptr(GtkCssProvider) css = NULL;
  GdkDisplay *display = gdk_display_get_default ();

  if (done || display == NULL)
    return;
  done = TRUE;

  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/dev/imprint/Imprint/style.css");
  gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  gtk_icon_theme_add_resource_path (gtk_icon_theme_get_for_display (display),
                                    "/dev/imprint/Imprint/icons");
}

static void
imprint_window_init (ImprintWindow *self)
{
  imprint_window_ensure_style ();
  gtk_widget_init_template (GTK_WIDGET (self));
  self->pages = g_ptr_array_new_with_free_func (g_object_unref);
  self->cancellable = g_cancellable_new ();
  translate_chrome (self);
  imprint_after_first_frame (GTK_WIDGET (self), first_frame_cb);
}

ImprintWindow *
imprint_window_new_empty (ImprintApplication    *app,
                          ImprintClient         *client,
                          ImprintInstallChoices *install,
                          ImprintSetupChoices   *setup)
{
  ImprintWindow *self;

  g_return_val_if_fail (IMPRINT_IS_CLIENT (client), NULL);
  g_return_val_if_fail (IMPRINT_IS_INSTALL_CHOICES (install), NULL);
  g_return_val_if_fail (IMPRINT_IS_SETUP_CHOICES (setup), NULL);

  self = g_object_new (IMPRINT_TYPE_WINDOW, "application", app, NULL);
  self->client = g_object_ref (client);
  self->install = g_object_ref (install);
  self->setup = g_object_ref (setup);
  translate_chrome (self);
  return self;
}

ImprintWindow *
imprint_window_new (ImprintApplication    *app,
                    ImprintClient         *client,
                    ImprintInstallChoices *install,
                    ImprintSetupChoices   *setup)
{
  ImprintWindow *self = imprint_window_new_empty (app, client, install, setup);

  if (self != NULL)
    imprint_window_show_first_page (self);
  return self;
}

static gboolean
start_setup_idle (gpointer user_data)
{
  ImprintWindow *self = user_data;

  imprint_client_reset_job (self->client);
  g_clear_handle_id (&self->build_source, g_source_remove);
  drop_pages_from (self, 0);
  translate_chrome (self);
  imprint_window_show_first_page (self);
  return G_SOURCE_REMOVE;
}

/* After an installation: the same window goes on with first-boot setup's
 * pages for the installed system (@target as ApplySetup takes it). The
 * installer's pages go away from an idle, not from under their own
 * button's handler. */
void
imprint_window_start_setup (ImprintWindow *self,
                            const char    *target,
                            GVariant      *defaults)
{
  g_return_if_fail (IMPRINT_IS_WINDOW (self));

  imprint_setup_choices_set_target (self->setup, target);
  /* The disk just installed opens with its recovery key (or the
   * passphrase): kept, apart from the home's recovery key the setup pages
   * make next, until setup of that disk has succeeded. */
  if (target != NULL && g_str_has_prefix (target, "disk:"))
    {
      const char *key = imprint_install_choices_get_recovery_key (self->install);

      imprint_setup_choices_set_unlock (self->setup,
                                        key ? key : imprint_install_choices_get_passphrase (self->install));
    }
  imprint_setup_choices_set_defaults (self->setup, defaults);
  g_idle_add_full (G_PRIORITY_DEFAULT, start_setup_idle, g_object_ref (self), g_object_unref);
}

void
imprint_window_set_kiosk (ImprintWindow *self)
{
  g_return_if_fail (IMPRINT_IS_WINDOW (self));

  adw_header_bar_set_show_start_title_buttons (self->header_bar, FALSE);
  adw_header_bar_set_show_end_title_buttons (self->header_bar, FALSE);
  gtk_window_set_deletable (GTK_WINDOW (self), FALSE);
  gtk_window_fullscreen (GTK_WINDOW (self));
}
