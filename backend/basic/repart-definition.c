/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One repart.d file: its lines (systemd's conf-parser rules), the keys
 * Imprint acts on, and a flat copy for systemd-repart. Directories are in
 * repart-dirs.c. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "repart-definition.h"

#define WHITESPACE " \t\n\r"

static void
assignment_free (ImprintRepartAssignment *a)
{
  if (a == NULL)
    return;
  g_free (a->section);
  g_free (a->key);
  g_free (a->value);
  g_free (a);
}

ImprintRepartDefinition *
imprint_repart_definition_new (const char *name)
{
  ImprintRepartDefinition *def = g_new0 (ImprintRepartDefinition, 1);

  def->name = g_strdup (name);
  def->assignments = g_ptr_array_new_with_free_func ((GDestroyNotify) assignment_free);
  return def;
}

static void
clear_values (ImprintRepartDefinition *def)
{
  g_clear_pointer (&def->type, g_free);
  g_clear_pointer (&def->label, g_free);
  g_clear_pointer (&def->format, g_free);
  g_clear_pointer (&def->encrypt, g_free);
  g_clear_pointer (&def->make_directories, g_strfreev);
  g_clear_pointer (&def->copy_files, g_strfreev);
  def->factory_reset = FALSE;
  def->size_min = def->size_max = 0;
}

void
imprint_repart_definition_free (ImprintRepartDefinition *def)
{
  if (def == NULL)
    return;
  clear_values (def);
  g_free (def->name);
  g_ptr_array_unref (def->assignments);
  g_free (def);
}

int
imprint_repart_parse_boolean (const char *s)
{
  static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
  static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

  for (gsize i = 0; i < G_N_ELEMENTS (yes); i++)
    if (g_ascii_strcasecmp (s, yes[i]) == 0)
      return 1;
  for (gsize i = 0; i < G_N_ELEMENTS (no); i++)
    if (g_ascii_strcasecmp (s, no[i]) == 0)
      return 0;
  return -EINVAL;
}

/* One "<number>[.<fraction>] <suffix>" term of a size; @start_unit keeps
 * the units decreasing ("1G 512M", not "512M 1G"), as systemd does. */
static int
parse_size_term (const char **p, gsize *start_unit, guint64 *ret)
{
  static const struct { const char *suffix; guint64 factor; } table[] = {
    { "E", 1ull << 60 }, { "P", 1ull << 50 }, { "T", 1ull << 40 }, { "G", 1ull << 30 },
    { "M", 1ull << 20 }, { "K", 1ull << 10 }, { "B", 1 }, { "", 1 },
  };
  const char *s = *p + strspn (*p, WHITESPACE), *e;
  double frac = 0;
  guint64 n;
  gsize i;

  if (!g_ascii_isdigit (*s))
    return -EINVAL;
  errno = 0;
  n = g_ascii_strtoull (s, (char **) &e, 10);
  if (errno != 0)
    return -ERANGE;
  if (*e == '.')
    {
      double scale = 0.1;
      for (e++; g_ascii_isdigit (*e); e++, scale /= 10)
        frac += (*e - '0') * scale;
    }
  e += strspn (e, WHITESPACE);
  for (i = *start_unit; i < G_N_ELEMENTS (table); i++)
    if (g_str_has_prefix (e, table[i].suffix))
      break;
  if (i >= G_N_ELEMENTS (table))
    return -EINVAL;
  if (n + (frac > 0) > G_MAXUINT64 / table[i].factor)
    return -ERANGE;
  *ret = n * table[i].factor + (guint64) (frac * (double) table[i].factor);
  *p = e + strlen (table[i].suffix);
  *start_unit = i + 1;
  return 0;
}

int
imprint_repart_parse_size (const char *s, guint64 *ret)
{
  gsize start_unit = 0;
  guint64 sum = 0;

  if (s == NULL || *s == '\0')
    return -EINVAL;
  do
    {
      guint64 term;
      int r = parse_size_term (&s, &start_unit, &term);
      if (r < 0)
        return r;
      if (!g_uint64_checked_add (&sum, sum, term))
        return -ERANGE;
    }
  while (*s != '\0');
  *ret = sum;
  return 0;
}

/* Words of a list value: white space separates, quotes group, a backslash
 * takes the next character as it is (systemd's EXTRACT_UNQUOTE). */
static void
append_words (GPtrArray *out, const char *value)
{
  g_autoptr(GString) word = NULL;
  char quote = 0;

  for (const char *p = value;; p++)
    {
      if (*p == '\0' || (!quote && strchr (WHITESPACE, *p)))
        {
          if (word != NULL)
            g_ptr_array_add (out, g_string_free (g_steal_pointer (&word), FALSE));
          if (*p == '\0')
            return;
          continue;
        }
      if (word == NULL)
        word = g_string_new (NULL);
      if (*p == '\\' && p[1] != '\0')
        g_string_append_c (word, *++p);
      else if (quote ? *p == quote : (*p == '\'' || *p == '"'))
        quote = quote ? 0 : *p;
      else
        g_string_append_c (word, *p);
    }
}

static void
set_string (char **field, const char *value, gboolean lower)
{
  g_free (*field);
  *field = *value == '\0' ? NULL : lower ? g_ascii_strdown (value, -1) : g_strdup (value);
}

static void
set_size (guint64 *field, const char *value, gboolean round_up)
{
  guint64 v;

  if (*value == '\0')
    *field = 0;
  else if (imprint_repart_parse_size (value, &v) == 0)  /* else ignored, as systemd does */
    *field = round_up ? (v > G_MAXUINT64 - 4095 ? G_MAXUINT64 / 4096 * 4096 : (v + 4095) / 4096 * 4096)
                      : v / 4096 * 4096;
}

static void
interpret (ImprintRepartDefinition *def)
{
  g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) copies = g_ptr_array_new_with_free_func (g_free);

  clear_values (def);
  for (guint i = 0; i < def->assignments->len; i++)
    {
      const ImprintRepartAssignment *a = def->assignments->pdata[i];
      const char *k = a->key, *v = a->value;
      int b;

      if (!g_str_equal (a->section, "Partition"))
        continue;
      if (g_str_equal (k, "Type"))
        set_string (&def->type, v, TRUE);
      else if (g_str_equal (k, "Label"))
        set_string (&def->label, v, FALSE);
      else if (g_str_equal (k, "Format"))
        set_string (&def->format, v, FALSE);
      else if (g_str_equal (k, "Encrypt"))
        set_string (&def->encrypt, v, FALSE);
      else if (g_str_equal (k, "FactoryReset") && (b = imprint_repart_parse_boolean (v)) >= 0)
        def->factory_reset = b;
      else if (g_str_equal (k, "SizeMinBytes"))
        set_size (&def->size_min, v, TRUE);
      else if (g_str_equal (k, "SizeMaxBytes"))
        set_size (&def->size_max, v, FALSE);
      else if (g_str_equal (k, "MakeDirectories"))
        {
          if (*v == '\0')
            g_ptr_array_set_size (dirs, 0);
          append_words (dirs, v);
        }
      else if (g_str_equal (k, "CopyFiles"))
        {
          if (*v == '\0')
            g_ptr_array_set_size (copies, 0);
          else
            g_ptr_array_add (copies, g_strdup (v));
        }
    }
  g_ptr_array_add (dirs, NULL);
  g_ptr_array_add (copies, NULL);
  def->make_directories = (GStrv) g_ptr_array_free (g_steal_pointer (&dirs), FALSE);
  def->copy_files = (GStrv) g_ptr_array_free (g_steal_pointer (&copies), FALSE);
}

/* An odd number of trailing backslashes continues the line. */
static gboolean
ends_escaped (const char *s, gsize len)
{
  gsize n = 0;

  while (n < len && s[len - 1 - n] == '\\')
    n++;
  return n % 2 == 1;
}

/* systemd's strstrip(): only its WHITESPACE, not isspace()'s "\f\v".
 * g_strstrip() took "\f;=" for the assignment ";=", which reads back as
 * a comment (found by fuzz-repart-definition). */
static char *
strip_ws (char *s)
{
  gsize n;

  s += strspn (s, WHITESPACE);
  n = strlen (s);
  while (n > 0 && strchr (WHITESPACE, s[n - 1]) != NULL)
    s[--n] = '\0';
  return s;
}

/* One logical line (continuations joined). */
static int
parse_line (GPtrArray *out, char **section, char *l)
{
  ImprintRepartAssignment *a;
  char *eq;

  l = strip_ws (l);
  if (*l == '\0')
    return 0;
  if (*l == '[')
    {
      gsize len = strlen (l);
      if (len < 2 || l[len - 1] != ']')
        return -EBADMSG;
      g_free (*section);
      *section = g_strndup (l + 1, len - 2);
      return 0;
    }
  eq = strchr (l, '=');
  /* systemd ignores these lines (with a warning) and so does repart. */
  if (*section == NULL || eq == NULL || eq == l)
    return 0;
  *eq = '\0';
  a = g_new0 (ImprintRepartAssignment, 1);
  a->section = g_strdup (*section);
  a->key = g_strdup (strip_ws (l));
  a->value = g_strdup (strip_ws (eq + 1));
  g_ptr_array_add (out, a);
  return 0;
}

int
imprint_repart_definition_parse (ImprintRepartDefinition *def, const char *text, size_t size)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) assignment_free);
  g_autofree char *section = NULL;
  g_autoptr(GString) cont = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *copy = NULL;
  int r;

  if (memchr (text, '\0', size) != NULL || !g_utf8_validate (text, (gssize) size, NULL))
    return -EBADMSG;
  /* Lines end at "\n", "\r\n" or "\r", as systemd's read_line() has it. */
  copy = g_strndup (text, size);
  {
    g_auto(GStrv) crlf = g_strsplit (copy, "\r\n", -1);
    g_free (copy);
    copy = g_strjoinv ("\n", crlf);
  }
  lines = g_strsplit_set (copy, "\n\r", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      const char *s = *l + strspn (*l, WHITESPACE);
      gsize len;

      /* Comments are skipped inside continuations too (systemd >= 245). */
      if (*s == '#' || *s == ';')
        continue;
      if (cont == NULL)
        cont = g_string_new (NULL);
      g_string_append (cont, *l);
      len = cont->len;
      if (ends_escaped (cont->str, len))
        {
          cont->str[len - 1] = ' ';
          continue;
        }
      r = parse_line (out, &section, cont->str);
      g_string_free (g_steal_pointer (&cont), TRUE);
      if (r < 0)
        return r;
    }
  if (cont != NULL && (r = parse_line (out, &section, cont->str)) < 0)
    return r;
  for (guint i = 0; i < out->len; i++)
    g_ptr_array_add (def->assignments, g_steal_pointer (&out->pdata[i]));
  interpret (def);
  return 0;
}

char *
imprint_repart_definition_format (const ImprintRepartDefinition *def,
                                  const char *const *omit_partition_keys)
{
  GString *s = g_string_new (NULL);
  const char *section = NULL;

  for (guint i = 0; i < def->assignments->len; i++)
    {
      const ImprintRepartAssignment *a = def->assignments->pdata[i];

      if (omit_partition_keys != NULL && g_str_equal (a->section, "Partition") &&
          g_strv_contains (omit_partition_keys, a->key))
        continue;
      if (section == NULL || !g_str_equal (section, a->section))
        g_string_append_printf (s, "[%s]\n", a->section);
      section = a->section;
      /* A value ending in an odd number of backslashes came from a line
       * with white space after them; that space keeps it from continuing. */
      g_string_append_printf (s, "%s=%s%s\n", a->key, a->value,
                              ends_escaped (a->value, strlen (a->value)) ? " " : "");
    }
  return g_string_free (s, FALSE);
}

const ImprintRepartDefinition *
imprint_repart_find (GPtrArray *defs, const char *name)
{
  for (guint i = 0; defs != NULL && i < defs->len; i++)
    {
      const ImprintRepartDefinition *d = defs->pdata[i];
      if (g_str_equal (d->name, name))
        return d;
    }
  return NULL;
}
