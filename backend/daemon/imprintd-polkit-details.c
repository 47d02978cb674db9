/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprintd-methods.h"

/* What polkit is told besides the action, like udisks does: "device" (the
 * node or image file the call names, for rules to match on), "drive" (its
 * vendor and model with the node, for people), and for the verbs that
 * change a disk a "polkit.message" naming it. polkit translates that
 * message itself, in the authentication agent's language, from our gettext
 * domain ("polkit.gettext_domain"), and then replaces $(drive) with the
 * detail of that name: so the message is passed untranslated (N_()). */

/* Caller-chosen text ends up in an authentication dialog: keep it one
 * short, printable line, so it cannot make the prompt say something else. */
#define MAX_DETAIL_CHARS 160

static char *
sanitize (const char *s)
{
  g_autoptr(GString) out = g_string_new (NULL);
  glong n = 0;

  for (const char *p = s; *p != '\0' && n < MAX_DETAIL_CHARS; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isprint (c) && c != '\n' && c != '\r')
        g_string_append_unichar (out, c);
      else
        g_string_append_c (out, '?');
    }
  if (*s != '\0' && n >= MAX_DETAIL_CHARS && g_utf8_strlen (s, -1) > MAX_DETAIL_CHARS)
    g_string_append (out, "…");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static char *
read_attr (const char *dir, const char *attr)
{
  g_autofree char *path = g_build_filename (dir, attr, NULL);
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL) || !g_utf8_validate (text, -1, NULL))
    return NULL;
  g_strstrip (text);
  return *text != '\0' ? g_steal_pointer (&text) : NULL;
}

/* "Vendor Model (/dev/sda)", from sysfs alone: the caller's path itself is
 * never opened or stat()ed here (that happens, as the caller, once the call
 * is authorised). Only "/dev/NAME" with a plain kernel name is looked up;
 * for a partition, its disk's model is shown. */
static char *
describe_drive (const char *device)
{
  const char *name;
  g_autofree char *sys = NULL;
  g_autofree char *dev_dir = NULL;
  g_autofree char *vendor = NULL;
  g_autofree char *model = NULL;
  g_autofree char *words = NULL;

  if (!g_str_has_prefix (device, "/dev/"))
    return g_strdup (device);
  name = device + strlen ("/dev/");
  if (*name == '\0' || strchr (name, '/') != NULL || g_str_equal (name, ".") || g_str_equal (name, ".."))
    return g_strdup (device);

  sys = g_build_filename ("/sys/class/block", name, NULL);
  if (!g_file_test (sys, G_FILE_TEST_IS_DIR))
    return g_strdup (device);
  {
    g_autofree char *partition = g_build_filename (sys, "partition", NULL);
    dev_dir = g_file_test (partition, G_FILE_TEST_EXISTS)
              ? g_build_filename (sys, "..", "device", NULL)
              : g_build_filename (sys, "device", NULL);
  }
  vendor = read_attr (dev_dir, "vendor");
  model = read_attr (dev_dir, "model");
  /* ATA disks report "ATA" as their SCSI vendor: no help to anyone. */
  if (vendor != NULL && g_str_equal (vendor, "ATA"))
    g_clear_pointer (&vendor, g_free);

  if (vendor != NULL && model != NULL)
    words = g_strdup_printf ("%s %s", vendor, model);
  else if (model != NULL || vendor != NULL)
    words = g_strdup (model != NULL ? model : vendor);
  if (words == NULL)
    return g_strdup (device);
  /* TRANSLATORS: a disk in an authentication dialog: "Samsung SSD 980 (/dev/nvme0n1)". */
  return g_strdup_printf (_("%s (%s)"), words, device);
}

static void
add_device (GHashTable *details, const char *device, const char *message)
{
  g_autofree char *drive = NULL;

  if (device == NULL || *device == '\0')
    return;
  drive = describe_drive (device);
  g_hash_table_insert (details, g_strdup ("device"), sanitize (device));
  g_hash_table_insert (details, g_strdup ("drive"), sanitize (drive));
  if (message != NULL)
    {
      g_hash_table_insert (details, g_strdup ("polkit.message"), g_strdup (message));
      g_hash_table_insert (details, g_strdup ("polkit.gettext_domain"), g_strdup (GETTEXT_PACKAGE));
    }
}

GHashTable *
imprintd_polkit_details (const char *method, GVariant *parameters)
{
  g_autoptr(GHashTable) details = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *arg = NULL;

  if (g_str_equal (method, "Install"))
    {
      g_variant_get_child (parameters, 1, "&s", &arg);
      add_device (details, arg,
                  N_("Authentication is required to install the operating system on $(drive), which erases the data on it"));
    }
  else if (g_str_equal (method, "Enroll"))
    {
      g_variant_get_child (parameters, 0, "&s", &arg);
      add_device (details, arg, N_("Authentication is required to change how $(drive) is unlocked"));
    }
  else if (g_str_equal (method, "Unenroll"))
    {
      g_variant_get_child (parameters, 0, "&s", &arg);
      add_device (details, arg, N_("Authentication is required to remove a way to unlock $(drive)"));
    }
  else if (g_str_equal (method, "ListEnrollments"))
    {
      g_variant_get_child (parameters, 0, "&s", &arg);
      add_device (details, arg, NULL);
    }
  else if (g_str_equal (method, "ApplySetup"))
    {
      /* "" is this system (the action's own message says it all); a
       * directory is an installed tree, named as such. */
      g_variant_get_child (parameters, 0, "&s", &arg);
      if (g_str_has_prefix (arg, "disk:"))
        add_device (details, arg + strlen ("disk:"),
                    N_("Authentication is required to create a user and configure the system on $(drive)"));
      else if (*arg != '\0')
        add_device (details, arg,
                    N_("Authentication is required to create a user and configure the system in $(drive)"));
    }
  else if (g_str_equal (method, "PlanInstall"))
    {
      g_variant_get_child (parameters, 1, "&s", &arg);
      add_device (details, arg, NULL);
    }

  if (g_hash_table_size (details) == 0)
    return NULL;
  return g_steal_pointer (&details);
}
