/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <glib/gi18n.h>

#include "imprint-error.h"
#include "imprint-names.h"
#include "imprint-util.h"

/* Sets up gettext for the app. GLib decides once, on the first
 * g_dgettext() (GtkBuilder's), whether to translate at all, and says no
 * for a C.UTF-8 session without an English catalogue. A live session often
 * starts like that and switches language later, so make that first call
 * while LC_MESSAGES is plain "C", which GLib always translates for. */
void
imprint_i18n_init (const char *localedir)
{
  g_autofree char *saved = NULL;

  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  saved = g_strdup (setlocale (LC_MESSAGES, NULL));
  setlocale (LC_MESSAGES, "C");
  (void) g_dgettext (GETTEXT_PACKAGE, "");
  setlocale (LC_MESSAGES, saved);
}

void
imprint_wipe_free (gpointer secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

/* g_set_str() is GLib 2.76. The copy first: @value may be *@field. */
void
imprint_str_replace (char       **field,
                     const char  *value)
{
  char *copy = g_strdup (value);

  g_free (*field);
  *field = copy;
}

void
imprint_secret_replace (char       **secret,
                        const char  *value)
{
  char *copy = g_strdup (value);

  imprint_wipe_free (*secret);
  *secret = copy;
}

static const char *
error_headline (const GError *error)
{
  if (error->domain == IMPRINT_ERROR)
    {
      switch ((ImprintError) error->code)
        {
        case IMPRINT_ERROR_NOT_AUTHORIZED:
          return _("You are not allowed to do this. Ask the person who administers this computer.");
        case IMPRINT_ERROR_AUTH_DISMISSED:
          return _("The password prompt was closed, so nothing was done.");
        case IMPRINT_ERROR_INVALID_ARGUMENT:
          return _("The installer asked for something the system could not do.");
        case IMPRINT_ERROR_NOT_FOUND:
          return _("A disk or file the installation needs is no longer there.");
        case IMPRINT_ERROR_BUSY:
          return _("The disk is in use by something else.");
        case IMPRINT_ERROR_NOT_SUPPORTED:
          return _("This computer cannot do what was asked.");
        case IMPRINT_ERROR_CANCELLED:
          return _("The installation was cancelled.");
        case IMPRINT_ERROR_SOURCE_INVALID:
          return _("The installation medium is damaged or incomplete.");
        case IMPRINT_ERROR_NO_SPACE:
          return _("The disk is too small for this system.");
        case IMPRINT_ERROR_UNAVAILABLE:
          return _("A security device (TPM or security key) could not be used.");
        case IMPRINT_ERROR_FAILED:
        default:
          return _("The installation failed.");
        }
    }

  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_FAILED) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_CHILD_EXITED) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_DISCONNECTED) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    return _("The installer service stopped or could not be started.");
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED))
    return _("You are not allowed to do this. Ask the person who administers this computer.");
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return _("The installation was cancelled.");

  return _("Something went wrong.");
}

/* The update and reset errors of imprintd are whole sentences already
 * ("The update server cannot be reached..."): they stand alone, under a
 * headline only when the daemon said nothing. */
static char *
panel_sentence (const GError *error,
                const char   *headline)
{
  if (g_error_matches (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED) ||
      g_error_matches (error, IMPRINT_ERROR, IMPRINT_ERROR_AUTH_DISMISSED) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED))
    return g_strdup (error_headline (error));
  if (error->domain == G_DBUS_ERROR || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    return g_strdup (_("The system service stopped or could not be started."));
  /* A cancel asked for: say what it left behind, in the same words
   * whichever layer noticed it. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_error_matches (error, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED))
    return g_strdup (headline);
  if (error->message != NULL && error->message[0] != '\0')
    return g_strdup (error->message);
  return g_strdup (headline);
}

/* Errors from imprintd become sentences: a headline chosen by code, then
 * the daemon's own (translated) explanation. D-Bus error names are never
 * shown; a message from an unregistered remote error is stripped first. */
char *
imprint_error_to_sentence_for (const GError *error,
                               ImprintTopic  topic)
{
  g_autoptr(GError) copy = NULL;
  const char *headline;

  g_return_val_if_fail (error != NULL, NULL);

  copy = g_error_copy (error);
  if (g_dbus_error_is_remote_error (copy))
    g_dbus_error_strip_remote_error (copy);
  if (topic == IMPRINT_TOPIC_UPDATE)
    return panel_sentence (copy, g_error_matches (copy, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED)
                                 ? _("The update was cancelled. The running system is unchanged.")
                                 : _("The update failed."));
  if (topic == IMPRINT_TOPIC_RESET)
    return panel_sentence (copy, _("The factory reset could not be requested."));
  headline = error_headline (copy);

  /* The daemon's own words follow the headline; messages GLib made up
   * about the bus itself are too technical and are left out. */
  /* For a refusal, a dismissed prompt or a cancel the headline says all. */
  if (g_error_matches (copy, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED) ||
      g_error_matches (copy, IMPRINT_ERROR, IMPRINT_ERROR_AUTH_DISMISSED) ||
      g_error_matches (copy, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED))
    return g_strdup (headline);
  if ((copy->domain == IMPRINT_ERROR || g_error_matches (copy, G_IO_ERROR, G_IO_ERROR_DBUS_ERROR)) &&
      copy->message != NULL && copy->message[0] != '\0' &&
      !g_str_equal (copy->message, headline))
    return g_strdup_printf ("%s %s", headline, copy->message);
  return g_strdup (headline);
}

char *
imprint_error_to_sentence (const GError *error)
{
  return imprint_error_to_sentence_for (error, IMPRINT_TOPIC_INSTALL);
}

char *
imprint_error_what_is_safe (const GError *error,
                            gboolean      writing_started)
{
  if (!writing_started ||
      (error != NULL && (g_error_matches (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID) ||
                         g_error_matches (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED) ||
                         g_error_matches (error, IMPRINT_ERROR, IMPRINT_ERROR_AUTH_DISMISSED))))
    return g_strdup (_("Nothing was written to any disk. Your files are as they were."));

  return g_strdup (_("Only the disk you chose was changed, and it will not start this system. "
                     "Other disks were not touched. You can try the installation again."));
}

char *
imprint_format_rate (guint64 bytes_per_second)
{
  g_autofree char *size = NULL;

  if (bytes_per_second == 0)
    return g_strdup ("");
  size = g_format_size (bytes_per_second);
  /* Translators: a transfer rate, e.g. "120 MB/s" */
  return g_strdup_printf (_("%s/s"), size);
}

char *
imprint_format_time_left (gint64 seconds)
{
  if (seconds < 0)
    return g_strdup ("");
  if (seconds < 60)
    return g_strdup (_("Less than a minute left"));
  if (seconds < 60 * 60)
    {
      int minutes = (int) ((seconds + 59) / 60);
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "About %d minute left",
                                           "About %d minutes left", minutes), minutes);
    }
  else
    {
      int hours = (int) (seconds / 3600);
      int minutes = (int) ((seconds % 3600) / 60);
      g_autofree char *h = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d hour", "%d hours", hours), hours);
      g_autofree char *m = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d minute", "%d minutes", minutes), minutes);
      /* Translators: time left, e.g. "About 1 hour 5 minutes left" */
      return g_strdup_printf (_("About %s %s left"), h, m);
    }
}

/* A string or boolean from an a{sv} imprintd answered; "" or FALSE when
 * it is missing. */
const char *
imprint_lookup_str (GVariant   *dict,
                    const char *key)
{
  const char *value = NULL;

  if (!g_variant_lookup (dict, key, "&s", &value))
    return "";
  return value;
}

gboolean
imprint_lookup_bool (GVariant   *dict,
                     const char *key)
{
  gboolean value = FALSE;

  g_variant_lookup (dict, key, "b", &value);
  return value;
}

char *
imprint_disk_dup_title (GVariant *disk)
{
  const char *vendor = imprint_lookup_str (disk, IMPRINT_KEY_VENDOR);
  const char *model = imprint_lookup_str (disk, IMPRINT_KEY_MODEL);
  const char *device = imprint_lookup_str (disk, IMPRINT_KEY_DEVICE);
  guint64 size = 0;
  g_autofree char *size_str = NULL;
  g_autofree char *name = NULL;

  g_variant_lookup (disk, IMPRINT_KEY_SIZE, "t", &size);
  size_str = g_format_size (size);

  if (*model != '\0' && *vendor != '\0' && !g_str_has_prefix (model, vendor))
    name = g_strdup_printf ("%s %s", vendor, model);
  else if (*model != '\0')
    name = g_strdup (model);
  else if (*vendor != '\0')
    name = g_strdup (vendor);
  else
    name = g_path_get_basename (device);

  /* Translators: a disk: "<model> (<size>)", e.g. "Samsung SSD 980 (1.0 TB)" */
  return g_strdup_printf (_("%s (%s)"), name, size_str);
}

char *
imprint_disk_dup_description (GVariant *disk)
{
  const char *contents = imprint_lookup_str (disk, IMPRINT_KEY_CONTENTS);
  const char *device = imprint_lookup_str (disk, IMPRINT_KEY_DEVICE);

  if (*contents == '\0')
    return g_strdup (device);
  /* Translators: "<what is on the disk> · <device>", e.g. "Empty · /dev/sda" */
  return g_strdup_printf (_("%s · %s"), contents, device);
}

const char *
imprint_disk_get_icon_name (GVariant *disk)
{
  const char *transport = imprint_lookup_str (disk, IMPRINT_KEY_TRANSPORT);
  gboolean rotational = FALSE;

  g_variant_lookup (disk, IMPRINT_KEY_ROTATIONAL, "b", &rotational);

  if (g_str_equal (transport, IMPRINT_TRANSPORT_USB))
    return "drive-harddisk-usb-symbolic";
  if (g_str_equal (transport, IMPRINT_TRANSPORT_MMC))
    return "media-flash-symbolic";
  if (g_str_equal (transport, IMPRINT_TRANSPORT_FILE) || g_str_equal (transport, IMPRINT_TRANSPORT_LOOP))
    return "drive-harddisk-system-symbolic";
  if (g_str_equal (transport, IMPRINT_TRANSPORT_NVME) || !rotational)
    return "drive-harddisk-solidstate-symbolic";
  return "drive-harddisk-symbolic";
}

guint64
imprint_disk_get_largest_free (GVariant *disk)
{
  g_autoptr(GVariant) free_regions = NULL;
  GVariantIter iter;
  guint64 start, size, largest = 0;

  free_regions = g_variant_lookup_value (disk, IMPRINT_KEY_FREE, G_VARIANT_TYPE ("a(tt)"));
  if (free_regions == NULL)
    return 0;
  g_variant_iter_init (&iter, free_regions);
  while (g_variant_iter_next (&iter, "(tt)", &start, &size))
    largest = MAX (largest, size);
  return largest;
}

/* ---- restart ------------------------------------------------------------ */

static void
reboot_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/* Restarts the computer through systemd-logind, which asks polkit (and so
 * the person) itself when others are logged in. */
void
imprint_reboot_async (GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GDBusConnection) bus = NULL;
  GError *error = NULL;

  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, cancellable, &error);
  if (bus == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_dbus_connection_call (bus, "org.freedesktop.login1", "/org/freedesktop/login1",
                          "org.freedesktop.login1.Manager", "Reboot",
                          g_variant_new ("(b)", TRUE), NULL,
                          G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, -1,
                          cancellable, reboot_done_cb, g_steal_pointer (&task));
}

gboolean
imprint_reboot_finish (GAsyncResult  *result,
                       GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
