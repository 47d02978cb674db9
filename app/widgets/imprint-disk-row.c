/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-disk-row.h"
#include "imprint-names.h"
#include "imprint-util.h"

struct _ImprintDiskRow
{
  AdwActionRow    parent_instance;

  GtkCheckButton *check;
  GtkImage       *icon;

  GVariant       *disk;
  gboolean        usable;
};

G_DEFINE_FINAL_TYPE (ImprintDiskRow, imprint_disk_row, ADW_TYPE_ACTION_ROW)

static char *
dup_reasons (GVariant *disk)
{
  g_autofree const char **reasons = NULL;
  g_autofree char *joined = NULL;

  if (!g_variant_lookup (disk, IMPRINT_KEY_REASONS, "^a&s", &reasons) || reasons[0] == NULL)
    return g_strdup (_("This disk cannot be used."));
  /* Reasons come as phrases; separate them whatever their punctuation. */
  joined = g_strjoinv ("; ", (char **) reasons);
  /* Translators: followed by the reasons, e.g. "Cannot be used: it holds the running system." */
  return g_strdup_printf (_("Cannot be used: %s"), joined);
}

void
imprint_disk_row_set_disk (ImprintDiskRow *self,
                           GVariant       *disk)
{
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;

  g_return_if_fail (IMPRINT_IS_DISK_ROW (self));
  g_return_if_fail (disk != NULL);

  g_variant_ref_sink (disk);
  g_clear_pointer (&self->disk, g_variant_unref);
  self->disk = disk;

  if (!g_variant_lookup (disk, IMPRINT_KEY_USABLE, "b", &self->usable))
    self->usable = FALSE;

  title = imprint_disk_dup_title (disk);
  if (self->usable)
    subtitle = imprint_disk_dup_description (disk);
  else
    {
      g_autofree char *description = imprint_disk_dup_description (disk);
      g_autofree char *reasons = dup_reasons (disk);

      subtitle = g_strdup_printf ("%s\n%s", description, reasons);
    }

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), subtitle);
  gtk_image_set_from_icon_name (self->icon, imprint_disk_get_icon_name (disk));
  /* An unusable disk stays focusable, so keyboard and screen reader users
   * can read why; only its radio button cannot be chosen. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->check), self->usable);
  if (self->usable)
    gtk_widget_remove_css_class (GTK_WIDGET (self), "dim-label");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self), "dim-label");
  if (!self->usable)
    gtk_check_button_set_active (self->check, FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->check),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, title,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle,
                                  -1);
}

GVariant *
imprint_disk_row_get_disk (ImprintDiskRow *self)
{
  return self->disk;
}

const char *
imprint_disk_row_get_device (ImprintDiskRow *self)
{
  const char *device = NULL;

  if (self->disk == NULL || !g_variant_lookup (self->disk, IMPRINT_KEY_DEVICE, "&s", &device))
    return NULL;
  return device;
}

gboolean
imprint_disk_row_get_usable (ImprintDiskRow *self)
{
  return self->usable;
}

GtkCheckButton *
imprint_disk_row_get_check (ImprintDiskRow *self)
{
  return self->check;
}

static void
imprint_disk_row_finalize (GObject *object)
{
  ImprintDiskRow *self = IMPRINT_DISK_ROW (object);

  g_clear_pointer (&self->disk, g_variant_unref);

  G_OBJECT_CLASS (imprint_disk_row_parent_class)->finalize (object);
}

static void
imprint_disk_row_class_init (ImprintDiskRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = imprint_disk_row_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/widgets/imprint-disk-row.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskRow, check);
  gtk_widget_class_bind_template_child (widget_class, ImprintDiskRow, icon);
}

static void
imprint_disk_row_init (ImprintDiskRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
imprint_disk_row_new (GVariant *disk)
{
  ImprintDiskRow *self = g_object_new (IMPRINT_TYPE_DISK_ROW, NULL);

  imprint_disk_row_set_disk (self, disk);
  return GTK_WIDGET (self);
}
