/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "imprint-names.h"
#include "imprint-shrink-split.h"

#define MIB G_GUINT64_CONSTANT (1048576)
#define GIB (1024 * MIB)

struct _ImprintShrinkSplit
{
  GtkBox     parent_instance;

  GtkWidget *scale;
  GtkLabel  *sentence;

  guint32    number;     /* GPT number, 0: none */
  guint64    size;       /* the partition's size now */
  guint64    adjacent;   /* free space right after it, the new system's too */
  guint64    used;
};

G_DEFINE_FINAL_TYPE (ImprintShrinkSplit, imprint_shrink_split, GTK_TYPE_BOX)

enum { CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* The free region that starts where the partition ends (within a MiB of
 * alignment): the shrink's room joins it into one region. */
static guint64
adjacent_free (GVariant *disk,
               guint64   end)
{
  g_autoptr(GVariant) free_regions = g_variant_lookup_value (disk, IMPRINT_KEY_FREE, G_VARIANT_TYPE ("a(tt)"));
  GVariantIter iter;
  guint64 start, size;

  if (free_regions == NULL)
    return 0;
  g_variant_iter_init (&iter, free_regions);
  while (g_variant_iter_next (&iter, "(tt)", &start, &size))
    if (start >= end && start - end < MIB)
      return size;
  return 0;
}

static guint64
new_system_size (ImprintShrinkSplit *self)
{
  double value = gtk_range_get_value (GTK_RANGE (self->scale));

  return value > 0 ? (guint64) value : 0;
}

guint64
imprint_shrink_split_get_windows_size (ImprintShrinkSplit *self)
{
  guint64 total = self->size + self->adjacent;
  guint64 gets = new_system_size (self);

  if (self->number == 0 || gets >= total)
    return 0;
  /* The daemon rounds the end down to a MiB as well; the upper bound of
   * the scale keeps this at or above min-size (rounded up to a MiB). */
  return (total - gets) / MIB * MIB;
}

static void
update_sentence (ImprintShrinkSplit *self)
{
  guint64 windows = imprint_shrink_split_get_windows_size (self);
  g_autofree char *keeps = g_format_size (windows);
  g_autofree char *gets = g_format_size (self->size + self->adjacent - windows);
  g_autofree char *text = NULL;

  /* Translators: the split of a disk between Windows and the new system */
  text = g_strdup_printf (_("Windows keeps %s, the new system gets %s"), keeps, gets);
  gtk_label_set_label (self->sentence, text);
  /* A screen reader reads this instead of a bare number of bytes. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->scale),
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, text, -1);
}

static void
value_changed_cb (ImprintShrinkSplit *self)
{
  update_sentence (self);
  g_signal_emit (self, signals[CHANGED], 0);
}

static char *
format_value_cb (GtkScale *scale,
                 double    value,
                 gpointer  user_data)
{
  return g_format_size (value > 0 ? (guint64) value : 0);
}

typedef struct {
  guint32  number;
  guint64  size, adjacent, used, min_size, room;
} Candidate;

/* The partitions with shrink facts: the possible one with the most room
 * in @best, the refusal sentences of the others in @reasons. */
static gboolean
find_candidate (GVariant  *disk,
                Candidate *best,
                GPtrArray *reasons)
{
  g_autoptr(GVariant) partitions = g_variant_lookup_value (disk, IMPRINT_KEY_PARTITIONS, G_VARIANT_TYPE ("aa{sv}"));
  gboolean any = FALSE;
  GVariantIter iter;
  GVariant *part;

  memset (best, 0, sizeof *best);
  if (partitions == NULL)
    return FALSE;
  g_variant_iter_init (&iter, partitions);
  while ((part = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) owned = part;
      g_autoptr(GVariant) shrink = g_variant_lookup_value (part, IMPRINT_KEY_SHRINK, G_VARIANT_TYPE_VARDICT);
      g_autofree const char **sentences = NULL;
      Candidate c = { 0 };
      gboolean possible = FALSE;
      guint64 start = 0, min_aligned;

      if (shrink == NULL)
        continue;
      any = TRUE;
      g_variant_lookup (shrink, IMPRINT_KEY_SHRINK_POSSIBLE, "b", &possible);
      if (!possible)
        {
          if (g_variant_lookup (shrink, IMPRINT_KEY_REASONS, "^a&s", &sentences))
            for (guint i = 0; sentences[i] != NULL; i++)
              g_ptr_array_add (reasons, g_strdup (sentences[i]));
          continue;
        }
      g_variant_lookup (part, IMPRINT_KEY_NUMBER, "u", &c.number);
      g_variant_lookup (part, IMPRINT_KEY_START, "t", &start);
      g_variant_lookup (part, IMPRINT_KEY_SIZE, "t", &c.size);
      g_variant_lookup (shrink, IMPRINT_KEY_SHRINK_USED, "t", &c.used);
      g_variant_lookup (shrink, IMPRINT_KEY_SHRINK_MIN_SIZE, "t", &c.min_size);
      min_aligned = (c.min_size + MIB - 1) / MIB * MIB;
      /* min-size 0 is "unknown": nothing to offer a split from. */
      if (c.number == 0 || c.min_size == 0 || min_aligned >= c.size || c.size > G_MAXUINT64 - start)
        continue;
      c.adjacent = adjacent_free (disk, start + c.size);
      c.room = c.size - min_aligned + c.adjacent;
      if (c.room > best->room && c.room >= IMPRINT_SHRINK_NEW_SYSTEM_FLOOR)
        *best = c;
    }
  if (any && best->number == 0 && reasons->len == 0)
    {
      g_autofree char *floor = g_format_size (IMPRINT_SHRINK_NEW_SYSTEM_FLOOR);

      /* Translators: %s is a size such as "21.5 GB" */
      g_ptr_array_add (reasons, g_strdup_printf (_("Even at its smallest, Windows leaves less than %s for the "
                                                   "new system. Delete or move files in Windows to make room."),
                                                 floor));
    }
  return any;
}

static void
configure (ImprintShrinkSplit *self,
           const Candidate    *c)
{
  guint64 total = c->size + c->adjacent;
  guint64 min_aligned = (c->min_size + MIB - 1) / MIB * MIB;
  guint64 lower = MAX (IMPRINT_SHRINK_NEW_SYSTEM_FLOOR, c->adjacent + GIB);
  guint64 upper = total - min_aligned;
  guint64 windows = MAX (c->size / 2, c->used + IMPRINT_SHRINK_WINDOWS_SPARE);
  guint64 value = total > windows ? total - windows : 0;

  self->number = c->number;
  self->size = c->size;
  self->adjacent = c->adjacent;
  self->used = c->used;
  if (lower > upper)
    lower = upper;
  value = CLAMP (value, lower, upper);
  g_signal_handlers_block_by_func (self->scale, value_changed_cb, self);
  gtk_range_set_range (GTK_RANGE (self->scale), lower, upper);
  gtk_range_set_increments (GTK_RANGE (self->scale), GIB, 10 * GIB);
  gtk_range_set_value (GTK_RANGE (self->scale), value);
  g_signal_handlers_unblock_by_func (self->scale, value_changed_cb, self);
  update_sentence (self);
}

gboolean
imprint_shrink_split_set_disk (ImprintShrinkSplit *self,
                               GVariant           *disk,
                               char             ***ret_reasons)
{
  g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func (g_free);
  Candidate c;
  gboolean any;

  any = disk != NULL && find_candidate (disk, &c, reasons);
  if (ret_reasons != NULL)
    {
      g_ptr_array_add (reasons, NULL);
      *ret_reasons = any ? (char **) g_ptr_array_steal (reasons, NULL) : NULL;
    }
  if (!any || c.number == 0)
    {
      self->number = 0;
      self->size = 0;
      return FALSE;
    }
  /* The same partition as before keeps the person's split. */
  if (c.number != self->number || c.size != self->size || c.adjacent != self->adjacent)
    configure (self, &c);
  if (ret_reasons != NULL)
    g_clear_pointer (ret_reasons, g_strfreev);
  return TRUE;
}

guint32
imprint_shrink_split_get_partition (ImprintShrinkSplit *self)
{
  return self->number;
}

guint64
imprint_shrink_split_get_windows_used (ImprintShrinkSplit *self)
{
  return self->used;
}

GtkRange *
imprint_shrink_split_get_range (ImprintShrinkSplit *self)
{
  return GTK_RANGE (self->scale);
}

static void
imprint_shrink_split_class_init (ImprintShrinkSplitClass *klass)
{
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
imprint_shrink_split_init (ImprintShrinkSplit *self)
{
  GtkWidget *title = gtk_label_new_with_mnemonic (_("_Size of the new system"));

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (GTK_BOX (self), 6);

  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_widget_add_css_class (title, "heading");
  gtk_box_append (GTK_BOX (self), title);

  self->scale = gtk_scale_new (GTK_ORIENTATION_HORIZONTAL, NULL);
  gtk_scale_set_draw_value (GTK_SCALE (self->scale), TRUE);
  gtk_scale_set_value_pos (GTK_SCALE (self->scale), GTK_POS_RIGHT);
  gtk_scale_set_format_value_func (GTK_SCALE (self->scale), format_value_cb, NULL, NULL);
  gtk_widget_set_hexpand (self->scale, TRUE);
  gtk_label_set_mnemonic_widget (GTK_LABEL (title), self->scale);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->scale), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Size of the new system"), -1);
  g_signal_connect_swapped (self->scale, "value-changed", G_CALLBACK (value_changed_cb), self);
  gtk_box_append (GTK_BOX (self), self->scale);

  self->sentence = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->sentence, TRUE);
  gtk_label_set_xalign (self->sentence, 0);
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->sentence));
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->scale), GTK_ACCESSIBLE_RELATION_DESCRIBED_BY,
                                  self->sentence, NULL, -1);
}

GtkWidget *
imprint_shrink_split_new (void)
{
  return g_object_new (IMPRINT_TYPE_SHRINK_SPLIT, NULL);
}
