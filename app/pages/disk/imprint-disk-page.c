/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-a11y.h"
#include "imprint-disk-page.h"
#include "imprint-disk-row.h"
#include "imprint-names.h"
#include "imprint-shrink-split.h"
#include "imprint-util.h"

struct _ImprintDiskPage
{
  ImprintPage          parent_instance;

  AdwPreferencesGroup *disks_group;
  GtkSpinner          *spinner;
  GtkWidget           *error_box;
  GtkLabel            *error_label;
  GtkWidget           *retry_button;
  GtkWidget           *empty_label;
  GtkWidget           *mode_group;
  AdwActionRow        *erase_row;
  AdwActionRow        *free_row;
  GtkCheckButton      *erase_check;
  GtkCheckButton      *free_check;
  AdwActionRow        *beside_row;
  GtkCheckButton      *beside_check;
  ImprintShrinkSplit  *split;
  GtkWidget           *refusal_box;
  GtkLabel            *refusal_label;
  GtkWidget           *warning_box;
  GtkLabel            *warning_label;

  GPtrArray           *rows;        /* ImprintDiskRow, borrowed from the group */
  GtkCheckButton      *group_leader; /* an invisible radio so none is preselected */
  gboolean             loaded;
  gboolean             loading;
  gboolean             facts_stale;  /* a DiskChanged dropped shrink facts */
};

G_DEFINE_FINAL_TYPE (ImprintDiskPage, imprint_disk_page, IMPRINT_TYPE_PAGE)

static void reload (ImprintDiskPage *self);

static ImprintDiskRow *
selected_row (ImprintDiskPage *self)
{
  for (guint i = 0; i < self->rows->len; i++)
    {
      ImprintDiskRow *row = g_ptr_array_index (self->rows, i);

      if (gtk_check_button_get_active (imprint_disk_row_get_check (row)) &&
          imprint_disk_row_get_usable (row))
        return row;
    }
  return NULL;
}

static ImprintDiskRow *
find_row (ImprintDiskPage *self,
          const char      *device)
{
  for (guint i = 0; i < self->rows->len; i++)
    {
      ImprintDiskRow *row = g_ptr_array_index (self->rows, i);

      if (g_strcmp0 (imprint_disk_row_get_device (row), device) == 0)
        return row;
    }
  return NULL;
}

static char *
describe_erased (GVariant *disk)
{
  g_autoptr(GVariant) partitions = NULL;
  g_autoptr(GString) list = g_string_new (NULL);
  g_autofree char *title = imprint_disk_dup_title (disk);
  GVariantIter iter;
  GVariant *part;
  const char *contents = NULL;

  partitions = g_variant_lookup_value (disk, IMPRINT_KEY_PARTITIONS, G_VARIANT_TYPE ("aa{sv}"));
  if (partitions != NULL)
    {
      g_variant_iter_init (&iter, partitions);
      while ((part = g_variant_iter_next_value (&iter)) != NULL)
        {
          const char *what = NULL, *label = NULL;
          guint64 size = 0;
          g_autofree char *size_str = NULL;

          g_variant_lookup (part, IMPRINT_KEY_CONTENTS, "&s", &what);
          g_variant_lookup (part, IMPRINT_KEY_FILESYSTEM_LABEL, "&s", &label);
          g_variant_lookup (part, IMPRINT_KEY_SIZE, "t", &size);
          size_str = g_format_size (size);
          if (what == NULL || *what == '\0')
            what = _("Unknown data");
          /* "Windows “Windows”" says nothing twice. */
          if (label != NULL && *label != '\0' && g_strcmp0 (label, what) != 0)
            /* Translators: one erased partition: "• <contents> “<label>” (<size>)" */
            g_string_append_printf (list, _("\n• %s “%s” (%s)"), what, label, size_str);
          else
            /* Translators: one erased partition: "• <contents> (<size>)" */
            g_string_append_printf (list, _("\n• %s (%s)"), what, size_str);
          g_variant_unref (part);
        }
    }

  if (list->len == 0)
    {
      g_variant_lookup (disk, IMPRINT_KEY_CONTENTS, "&s", &contents);
      if (contents != NULL && *contents != '\0')
        g_string_append_printf (list, "\n• %s", contents);
    }

  if (list->len == 0)
    return g_strdup_printf (_("Everything on %s will be erased."), title);
  return g_strdup_printf (_("Everything on %s will be erased for ever:%s"), title, list->str);
}

/* "Install beside Windows" only on a disk with NTFS shrink facts: offered
 * when Windows can make room, otherwise shown off with the sentences that
 * say what to do in Windows. Other disks keep the page as it was (its
 * rows and its Tab order). */
static gboolean
update_beside (ImprintDiskPage *self,
               GVariant        *disk)
{
  g_auto(GStrv) reasons = NULL;
  gboolean possible = imprint_shrink_split_set_disk (self->split, disk, &reasons);

  gtk_widget_set_visible (GTK_WIDGET (self->beside_row), possible || reasons != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->beside_row), possible);
  gtk_widget_set_visible (self->refusal_box, reasons != NULL);
  if (possible)
    {
      g_autofree char *used = g_format_size (imprint_shrink_split_get_windows_used (self->split));
      g_autofree char *subtitle = g_strdup_printf (_("Make Windows smaller and install into the room; "
                                                     "Windows and its files stay (it uses %s)"), used);

      adw_action_row_set_subtitle (self->beside_row, subtitle);
    }
  else if (reasons != NULL)
    {
      g_autofree char *joined = g_strjoinv ("\n• ", reasons);
      g_autofree char *text = g_strdup_printf (_("Windows cannot make room for the new system now:\n• %s"), joined);

      adw_action_row_set_subtitle (self->beside_row, _("Windows cannot make room now; see below"));
      gtk_label_set_label (self->refusal_label, text);
    }
  return possible;
}

static void
update_choice (ImprintDiskPage *self)
{
  ImprintInstallChoices *install = imprint_page_get_install_choices (IMPRINT_PAGE (self));
  ImprintDiskRow *row = selected_row (self);
  GVariant *disk = row ? imprint_disk_row_get_disk (row) : NULL;
  guint64 free_space = disk ? imprint_disk_get_largest_free (disk) : 0;
  const char *table = NULL;
  gboolean can_use_free, beside;

  if (disk != NULL)
    g_variant_lookup (disk, IMPRINT_KEY_TABLE, "&s", &table);
  /* Beside another system only on a partitioned disk with room. */
  can_use_free = free_space > 0 && table != NULL && *table != '\0';

  if (can_use_free)
    {
      g_autofree char *size = g_format_size (free_space);
      g_autofree char *subtitle = g_strdup_printf (_("Keep what is on the disk and install into its "
                                                     "free space (%s)"), size);
      adw_action_row_set_subtitle (self->free_row, subtitle);
    }
  else
    adw_action_row_set_subtitle (self->free_row, _("This disk has no free space"));
  gtk_widget_set_sensitive (GTK_WIDGET (self->free_row), can_use_free);
  if (!can_use_free && gtk_check_button_get_active (self->free_check))
    gtk_check_button_set_active (self->erase_check, TRUE);

  if (!update_beside (self, disk) && gtk_check_button_get_active (self->beside_check))
    gtk_check_button_set_active (self->erase_check, TRUE);
  beside = gtk_check_button_get_active (self->beside_check);
  gtk_widget_set_visible (GTK_WIDGET (self->split), beside);

  gtk_widget_set_sensitive (self->mode_group, disk != NULL);

  imprint_install_choices_set_target (install, disk);
  imprint_install_choices_set_mode (install, gtk_check_button_get_active (self->free_check) || beside
                                             ? IMPRINT_INSTALL_FREE_SPACE : IMPRINT_INSTALL_ERASE);
  /* Beside Windows is free-space mode with room made first. */
  if (beside)
    imprint_install_choices_set_shrink (install, imprint_shrink_split_get_partition (self->split),
                                        imprint_shrink_split_get_windows_size (self->split));

  if (disk != NULL && (gtk_check_button_get_active (self->erase_check) || beside))
    {
      g_autofree char *warning = beside ? g_strdup (_("Windows will be made smaller first. Back up your files "
                                                      "in Windows before you go on."))
                                        : describe_erased (disk);

      gtk_label_set_label (self->warning_label, warning);
      gtk_widget_set_visible (self->warning_box, TRUE);
    }
  else
    gtk_widget_set_visible (self->warning_box, FALSE);

  imprint_page_set_complete (IMPRINT_PAGE (self), disk != NULL);
}

/* Disks change under the installer (the install itself partitions the
 * target, which then shows as in use, and its row unticks itself). Only the
 * page in view writes the choice: after the summary the installed disk must
 * stay the choice (the done page names it and sets it up), and coming back
 * here brings it up to date. */
static void
update_choice_if_shown (ImprintDiskPage *self)
{
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    update_choice (self);
}

static void
mode_toggled_cb (ImprintDiskPage *self)
{
  update_choice_if_shown (self);
}

static void
row_toggled_cb (ImprintDiskPage *self)
{
  update_choice_if_shown (self);
}

static gboolean
wanted (ImprintDiskPage *self,
        GVariant        *disk)
{
  const char *transport = NULL;

  /* Signals report loop devices too; show them only when asked for. */
  g_variant_lookup (disk, IMPRINT_KEY_TRANSPORT, "&s", &transport);
  return g_strcmp0 (transport, IMPRINT_TRANSPORT_LOOP) != 0 ||
         imprint_install_choices_get_include_loop (imprint_page_get_install_choices (IMPRINT_PAGE (self)));
}

static void
update_empty (ImprintDiskPage *self)
{
  gtk_widget_set_visible (self->empty_label,
                          self->loaded && self->rows->len == 0 &&
                          !gtk_widget_get_visible (self->error_box));
}

static void
add_disk (ImprintDiskPage *self,
          GVariant        *disk)
{
  const char *device = NULL;
  GtkWidget *row;

  if (!g_variant_lookup (disk, IMPRINT_KEY_DEVICE, "&s", &device) || !wanted (self, disk))
    return;
  if (find_row (self, device) != NULL)
    return;

  row = imprint_disk_row_new (disk);
  gtk_check_button_set_group (imprint_disk_row_get_check (IMPRINT_DISK_ROW (row)), self->group_leader);
  g_signal_connect_object (imprint_disk_row_get_check (IMPRINT_DISK_ROW (row)), "toggled",
                           G_CALLBACK (row_toggled_cb), self, G_CONNECT_SWAPPED);
  adw_preferences_group_add (self->disks_group, row);
  g_ptr_array_add (self->rows, row);
  update_empty (self);
}

static void
remove_disk (ImprintDiskPage *self,
             const char      *device)
{
  ImprintDiskRow *row = find_row (self, device);
  gboolean was_selected;

  if (row == NULL)
    return;

  was_selected = row == selected_row (self);
  g_ptr_array_remove (self->rows, row);
  adw_preferences_group_remove (self->disks_group, GTK_WIDGET (row));
  if (was_selected)
    gtk_check_button_set_active (self->group_leader, TRUE);
  update_choice_if_shown (self);
  update_empty (self);
}

static void
disk_added_cb (ImprintDiskPage *self,
               GVariant        *disk)
{
  if (self->loaded)
    add_disk (self, disk);
}

static gboolean
has_shrink_facts (GVariant *disk)
{
  g_autoptr(GVariant) partitions = g_variant_lookup_value (disk, IMPRINT_KEY_PARTITIONS, G_VARIANT_TYPE ("aa{sv}"));

  if (partitions == NULL)
    return FALSE;
  for (gsize i = 0; i < g_variant_n_children (partitions); i++)
    {
      g_autoptr(GVariant) part = g_variant_get_child_value (partitions, i);
      g_autoptr(GVariant) shrink = g_variant_lookup_value (part, IMPRINT_KEY_SHRINK, G_VARIANT_TYPE_VARDICT);

      if (shrink != NULL)
        return TRUE;
    }
  return FALSE;
}

static void
disk_changed_cb (ImprintDiskPage *self,
                 GVariant        *disk)
{
  const char *device = NULL;
  ImprintDiskRow *row;

  if (!self->loaded || !g_variant_lookup (disk, IMPRINT_KEY_DEVICE, "&s", &device))
    return;
  row = find_row (self, device);
  if (row == NULL)
    {
      add_disk (self, disk);
      return;
    }
  /* DiskChanged carries no NTFS shrink facts (they take ntfsresize runs):
   * ask ListDisks again rather than drop "beside Windows" (and with it
   * the person's choice) until the next visit. */
  if (has_shrink_facts (imprint_disk_row_get_disk (row)) && !has_shrink_facts (disk))
    {
      /* Off screen (the install itself changes the disk) the choice
       * stays as it is; the next visit asks. */
      if (gtk_widget_get_mapped (GTK_WIDGET (self)))
        reload (self);
      else
        self->facts_stale = TRUE;
      return;
    }
  imprint_disk_row_set_disk (row, disk);
  update_choice_if_shown (self);
}

static void
disk_removed_cb (ImprintDiskPage *self,
                 const char      *device)
{
  remove_disk (self, device);
}

static void
show_error (ImprintDiskPage *self,
            const GError    *error)
{
  g_autofree char *sentence = imprint_error_to_sentence (error);

  gtk_label_set_label (self->error_label, sentence);
  gtk_widget_set_visible (self->error_box, TRUE);
  gtk_widget_grab_focus (self->retry_button);
  imprint_a11y_announce (self->retry_button, sentence, TRUE);
}

/* Once the list is there, the keyboard (and a screen reader) starts at the
 * first disk that can be chosen, not at the page's scrolled window; only
 * when nothing on the page has the focus yet. */
static void
focus_first_usable (ImprintDiskPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;

  if (focus != NULL && focus != GTK_WIDGET (self) &&
      gtk_widget_is_ancestor (focus, GTK_WIDGET (self)) && !GTK_IS_SCROLLED_WINDOW (focus) &&
      !GTK_IS_VIEWPORT (focus))
    return;
  for (guint i = 0; i < self->rows->len; i++)
    {
      ImprintDiskRow *row = g_ptr_array_index (self->rows, i);

      if (imprint_disk_row_get_usable (row))
        {
          gtk_widget_grab_focus (GTK_WIDGET (imprint_disk_row_get_check (row)));
          return;
        }
    }
}

static void
list_disks_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(ImprintDiskPage) self = user_data;
  g_autoptr(GVariant) disks = NULL;
  g_autoptr(GError) error = NULL;
  ImprintManager *manager;
  GVariantIter iter;
  GVariant *disk;

  self->loading = FALSE;
  gtk_spinner_set_spinning (self->spinner, FALSE);

  if (!imprint_client_list_disks_finish (IMPRINT_CLIENT (object), result, &disks, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error);
      return;
    }

  manager = imprint_client_get_manager (IMPRINT_CLIENT (object));
  if (!self->loaded)
    {
      g_signal_connect_object (manager, "disk-added", G_CALLBACK (disk_added_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (manager, "disk-changed", G_CALLBACK (disk_changed_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (manager, "disk-removed", G_CALLBACK (disk_removed_cb), self, G_CONNECT_SWAPPED);
    }
  self->loaded = TRUE;

  g_variant_iter_init (&iter, disks);
  while ((disk = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *device = NULL;
      ImprintDiskRow *row;

      if (g_variant_lookup (disk, IMPRINT_KEY_DEVICE, "&s", &device) &&
          (row = find_row (self, device)) != NULL)
        imprint_disk_row_set_disk (row, disk);
      else
        add_disk (self, disk);
      g_variant_unref (disk);
    }

  /* Only the page in view writes the choice (update_choice_if_shown). */
  update_choice_if_shown (self);
  update_empty (self);
  focus_first_usable (self);
}

static void
reload (ImprintDiskPage *self)
{
  ImprintPage *page = IMPRINT_PAGE (self);

  if (self->loading)
    return;
  self->loading = TRUE;
  gtk_widget_set_visible (self->error_box, FALSE);
  gtk_spinner_set_spinning (self->spinner, TRUE);
  imprint_client_list_disks_async (imprint_page_get_client (page),
                                   imprint_install_choices_build_list_options (imprint_page_get_install_choices (page)),
                                   imprint_page_get_cancellable (page), list_disks_cb, g_object_ref (self));
}

static void
reload_cb (ImprintDiskPage *self)
{
  reload (self);
}

static void
imprint_disk_page_shown (ImprintPage *page)
{
  ImprintDiskPage *self = IMPRINT_DISK_PAGE (page);

  if (!self->loaded || self->facts_stale)
    {
      self->facts_stale = FALSE;
      reload (self);
    }
  else
    update_choice (self);
}

static void
imprint_disk_page_dispose (GObject *object)
{
  ImprintDiskPage *self = IMPRINT_DISK_PAGE (object);

  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_object (&self->group_leader);

  G_OBJECT_CLASS (imprint_disk_page_parent_class)->dispose (object);
}

static void
imprint_disk_page_class_init (ImprintDiskPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);

  object_class->dispose = imprint_disk_page_dispose;
  page_class->shown = imprint_disk_page_shown;

  g_type_ensure (IMPRINT_TYPE_SHRINK_SPLIT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/disk/imprint-disk-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, disks_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, error_box);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, retry_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, empty_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, mode_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, erase_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, free_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, erase_check);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, free_check);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, beside_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, beside_check);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, split);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, refusal_box);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, refusal_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, warning_box);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskPage, warning_label);
  gtk_widget_class_bind_template_callback (widget_class, mode_toggled_cb);
  gtk_widget_class_bind_template_callback (widget_class, reload_cb);
}

static void
imprint_disk_page_init (ImprintDiskPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->rows = g_ptr_array_new ();
  /* Never shown: it holds the radio group's "nothing chosen" state. */
  self->group_leader = g_object_ref_sink (GTK_CHECK_BUTTON (gtk_check_button_new ()));
  gtk_check_button_set_active (self->group_leader, TRUE);
}
