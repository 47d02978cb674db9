/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <glib/gi18n.h>

#include "imprint-choice-list.h"
#include "imprint-keyboard-page.h"
#include "imprint-names.h"
#include "imprint-util.h"

/* xkeyboard-config and systemd (localed) data, where Debian and Fedora keep them. */
#define XKB_RULES_LIST "/usr/share/X11/xkb/rules/base.lst"
#define KBD_MODEL_MAP  "/usr/share/systemd/kbd-model-map"

struct _ImprintKeyboardPage
{
  ImprintPage        parent_instance;

  ImprintChoiceList *choice_list;
  GtkWidget         *test_entry;
  GtkWidget         *warning_box;

  GHashTable        *keymap_by_layout;   /* X11 layout → console keymap */
};

G_DEFINE_FINAL_TYPE (ImprintKeyboardPage, imprint_keyboard_page, IMPRINT_TYPE_PAGE)

/* X11 layout code → its name, from xkeyboard-config's rules ("! layout"). */
static GHashTable *
load_layout_names (void)
{
  GHashTable *names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  gboolean in_layouts = FALSE;

  if (!g_file_get_contents (XKB_RULES_LIST, &text, NULL, NULL))
    return names;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto(GStrv) fields = NULL;

      if (lines[i][0] == '!')
        {
          in_layouts = g_str_has_prefix (lines[i], "! layout");
          continue;
        }
      if (!in_layouts)
        continue;
      fields = g_strsplit_set (g_strstrip (lines[i]), " \t", 2);
      if (fields[0] != NULL && fields[1] != NULL)
        g_hash_table_insert (names, g_strdup (fields[0]), g_strdup (g_strstrip (fields[1])));
    }
  return names;
}

typedef struct {
  char *keymap;    /* console keymap, e.g. "de" */
  char *layout;    /* X11 layout, e.g. "de" */
  char *name;      /* "German" */
} Keymap;

static void
keymap_free (gpointer data)
{
  Keymap *k = data;

  g_free (k->keymap);
  g_free (k->layout);
  g_free (k->name);
  g_free (k);
}

static int
keymap_compare (gconstpointer a,
                gconstpointer b)
{
  const Keymap *ka = *(const Keymap * const *) a;
  const Keymap *kb = *(const Keymap * const *) b;

  return g_utf8_collate (ka->name, kb->name);
}

/* The console keymaps localed knows how to pair with an X11 layout
 * (systemd's kbd-model-map), one per plain layout, named like the X11
 * layout, in the order of those names (the map's own order is arbitrary).
 * imprintd sets the console keymap with convert=true, so localed sets the
 * matching graphical layout too. */
static void
add_keymaps (ImprintKeyboardPage *self,
             GHashTable          *names)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) keymaps = g_ptr_array_new_with_free_func (keymap_free);

  if (!g_file_get_contents (KBD_MODEL_MAP, &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto(GStrv) fields = NULL;
      const char *name;
      Keymap *k;
      guint n = 0;

      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      fields = g_strsplit_set (lines[i], " \t", -1);
      /* consolelayout xlayout xmodel xvariant xoptions, separated by runs
       * of blanks: drop the empty fields. */
      for (guint j = 0; fields[j]; j++)
        if (*fields[j] != '\0')
          fields[n++] = fields[j];
        else
          g_free (fields[j]);
      fields[n] = NULL;
      if (n < 4 || strchr (fields[1], ',') != NULL || !g_str_equal (fields[3], "-") ||
          g_hash_table_contains (seen, fields[1]))
        continue;
      g_hash_table_add (seen, g_strdup (fields[1]));
      name = g_hash_table_lookup (names, fields[1]);
      k = g_new0 (Keymap, 1);
      k->keymap = g_strdup (fields[0]);
      k->layout = g_strdup (fields[1]);
      k->name = g_strdup (name ? name : fields[0]);
      g_hash_table_insert (self->keymap_by_layout, g_strdup (k->layout), g_strdup (k->keymap));
      g_ptr_array_add (keymaps, k);
    }

  g_ptr_array_sort (keymaps, keymap_compare);
  for (guint i = 0; i < keymaps->len; i++)
    {
      Keymap *k = g_ptr_array_index (keymaps, i);

      imprint_choice_list_add (self->choice_list, k->keymap, k->name, k->keymap, k->layout);
    }
}

/* With no keymap from the system or the OEM, the layout of the chosen
 * language's country is preselected, so Next works at once for most
 * people. The guess is remembered on the setup choices: the page is built anew
 * when the language changes, and then a guess (not a pick) follows it. */
static void
preselect_guess (ImprintKeyboardPage *self)
{
  ImprintSetupChoices *setup = imprint_page_get_setup_choices (IMPRINT_PAGE (self));
  const char *current = imprint_setup_choices_get_setting (setup, IMPRINT_KEY_KEYMAP);
  const char *previous = g_object_get_data (G_OBJECT (setup), "imprint-keymap-guess");
  const char *locale = imprint_setup_choices_get_setting (setup, IMPRINT_KEY_LOCALE);
  const char *layout;
  const char *keymap;

  if (*current != '\0' && g_strcmp0 (current, previous) != 0)
    return;
  if (*locale == '\0')
    locale = setlocale (LC_MESSAGES, NULL);
  layout = imprint_locale_guess_layout (locale, self->keymap_by_layout);
  if (layout == NULL)
    return;
  keymap = g_hash_table_lookup (self->keymap_by_layout, layout);
  g_object_set_data_full (G_OBJECT (setup), "imprint-keymap-guess", g_strdup (keymap), g_free);
  imprint_choice_list_set_selected (self->choice_list, keymap);
}

static void
imprint_keyboard_page_constructed (GObject *object)
{
  ImprintKeyboardPage *self = IMPRINT_KEYBOARD_PAGE (object);
  g_autoptr(GHashTable) names = load_layout_names ();

  G_OBJECT_CLASS (imprint_keyboard_page_parent_class)->constructed (object);

  add_keymaps (self, names);
  imprint_choice_list_bind_setting (self->choice_list, IMPRINT_PAGE (self), IMPRINT_KEY_KEYMAP);
  preselect_guess (self);
  imprint_choice_list_set_search_label (self->choice_list, _("Search keyboard layouts"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (gtk_editable_get_delegate (GTK_EDITABLE (self->test_entry))),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Test the keyboard"), -1);
}

static void
imprint_keyboard_page_finalize (GObject *object)
{
  ImprintKeyboardPage *self = IMPRINT_KEYBOARD_PAGE (object);

  g_clear_pointer (&self->keymap_by_layout, g_hash_table_unref);
  G_OBJECT_CLASS (imprint_keyboard_page_parent_class)->finalize (object);
}

static void
imprint_keyboard_page_class_init (ImprintKeyboardPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = imprint_keyboard_page_constructed;
  object_class->finalize = imprint_keyboard_page_finalize;

  g_type_ensure (IMPRINT_TYPE_CHOICE_LIST);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/keyboard/imprint-keyboard-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintKeyboardPage, choice_list);
  gtk_widget_class_bind_template_child (widget_class, ImprintKeyboardPage, test_entry);
  gtk_widget_class_bind_template_child (widget_class, ImprintKeyboardPage, warning_box);
}

static void
imprint_keyboard_page_init (ImprintKeyboardPage *self)
{
  self->keymap_by_layout = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gtk_widget_init_template (GTK_WIDGET (self));
}
