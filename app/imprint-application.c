/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-application.h"
#include "imprint-heal-check.h"
#include "imprint-screen-reader.h"
#include "imprint-window.h"
#include "reset/imprint-reset-panel.h"
#include "update/imprint-update-panel.h"

struct _ImprintApplication
{
  AdwApplication parent_instance;

  char     *source;
  char    **target_images;
  char     *tpm2_device;
  char     *source_certificate;
  char     *source_root_hash;
  char     *definitions;
  gboolean  include_loop;
  gboolean  setup;
  gboolean  kiosk;
  char     *setup_target;
  char     *panel;      /* --panel: a settings panel instead of the installer */
  gboolean  heal_check; /* --heal-check: notify when the disk needed its recovery key */
  gboolean  heal_check_started;
};

G_DEFINE_FINAL_TYPE (ImprintApplication, imprint_application, ADW_TYPE_APPLICATION)

static int
imprint_application_handle_local_options (GApplication *app,
                                          GVariantDict *options)
{
  ImprintApplication *self = IMPRINT_APPLICATION (app);

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("imprint %s\n", PACKAGE_VERSION);
      return 0;
    }

  g_variant_dict_lookup (options, "source", "^ay", &self->source);
  g_variant_dict_lookup (options, "target-image", "^aay", &self->target_images);
  g_variant_dict_lookup (options, "tpm2-device", "s", &self->tpm2_device);
  g_variant_dict_lookup (options, "include-loop", "b", &self->include_loop);
  g_variant_dict_lookup (options, "source-certificate", "^ay", &self->source_certificate);
  g_variant_dict_lookup (options, "source-root-hash", "s", &self->source_root_hash);
  g_variant_dict_lookup (options, "definitions", "^ay", &self->definitions);
  g_variant_dict_lookup (options, "setup", "b", &self->setup);
  g_variant_dict_lookup (options, "kiosk", "b", &self->kiosk);
  g_variant_dict_lookup (options, "setup-target", "^ay", &self->setup_target);
  g_variant_dict_lookup (options, "panel", "s", &self->panel);
  g_variant_dict_lookup (options, "heal-check", "b", &self->heal_check);
  /* The check's notification belongs to the System Update panel. */
  if (self->heal_check && self->panel == NULL)
    self->panel = g_strdup ("update");

  if (self->panel != NULL)
    {
      g_autofree char *id = NULL;

      if (!g_str_equal (self->panel, "update") && !g_str_equal (self->panel, "reset"))
        {
          g_printerr (_("Unknown panel “%s”: use “update” or “reset”.\n"), self->panel);
          return 2;
        }
      /* Each panel is its own application (its desktop file's id), so it
       * opens next to a running installer instead of raising it. */
      id = g_strdup_printf ("%s.%s", IMPRINT_APP_ID, g_str_equal (self->panel, "update") ? "Update" : "Reset");
      g_application_set_application_id (app, id);
      g_application_set_resource_base_path (app, "/dev/imprint/Imprint");
    }

  return -1;
}

/* In the first-boot kiosk (imprint-setup-session) the window is the whole
 * screen and must not be closed or hidden: nothing else is there to bring
 * it back. */
static void
present_window (ImprintApplication *self,
                ImprintWindow      *window)
{
  if (self->kiosk)
    imprint_window_set_kiosk (window);
  gtk_window_present (GTK_WINDOW (window));
}

/* What a window is made of: the connection and both sets of choices, the
 * installer's from the command line. */
typedef struct
{
  ImprintApplication    *app;
  ImprintClient         *client;
  ImprintInstallChoices *install;
  ImprintSetupChoices   *setup;
} WindowParts;

static void
window_parts_free (WindowParts *parts)
{
  g_object_unref (parts->app);
  g_object_unref (parts->client);
  g_object_unref (parts->install);
  g_object_unref (parts->setup);
  g_free (parts);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WindowParts, window_parts_free)

static WindowParts *
window_parts_new (ImprintApplication *self)
{
  WindowParts *parts = g_new0 (WindowParts, 1);

  parts->app = g_object_ref (self);
  parts->client = imprint_client_new ();
  parts->install = imprint_install_choices_new ();
  parts->setup = imprint_setup_choices_new ();
  imprint_install_choices_set_source (parts->install, self->source);
  imprint_install_choices_set_target_images (parts->install, (const char * const *) self->target_images);
  imprint_install_choices_set_include_loop (parts->install, self->include_loop);
  imprint_install_choices_set_tpm2_device (parts->install, self->tpm2_device);
  imprint_install_choices_set_source_trust (parts->install, self->source_certificate, self->source_root_hash);
  imprint_install_choices_set_definitions (parts->install, self->definitions);
  return parts;
}

static void
present_parts (WindowParts *parts)
{
  present_window (parts->app, imprint_window_new (parts->app, parts->client, parts->install, parts->setup));
}

static void
imprint_application_activate (GApplication *app)
{
  ImprintApplication *self = IMPRINT_APPLICATION (app);
  g_autoptr(WindowParts) parts = NULL;
  GtkWindow *window;

  window = gtk_application_get_active_window (GTK_APPLICATION (app));
  if (window != NULL)
    {
      gtk_window_present (window);
      return;
    }

  if (self->heal_check)
    {
      /* First the check; a later activation (a second `imprint
       * --panel=update` reaching this process) opens the panel. */
      if (!self->heal_check_started)
        {
          self->heal_check_started = TRUE;
          imprint_heal_check_start (app);
        }
      else
        imprint_heal_check_show_panel (app);
      return;
    }
  if (g_strcmp0 (self->panel, "update") == 0)
    {
      GtkWidget *panel = imprint_update_panel_new (GTK_APPLICATION (app));

      imprint_heal_group_set_tpm2_device (imprint_update_panel_get_heal_group (IMPRINT_UPDATE_PANEL (panel)),
                                          self->tpm2_device);
      gtk_window_present (GTK_WINDOW (panel));
      return;
    }
  if (g_strcmp0 (self->panel, "reset") == 0)
    {
      gtk_window_present (GTK_WINDOW (imprint_reset_panel_new (GTK_APPLICATION (app))));
      return;
    }

  parts = window_parts_new (self);
  if (self->setup || self->setup_target != NULL)
    {
      /* The window shows at once; its first page (an OEM may have decided
       * it: skipped) comes with GetSetupDefaults' answer. */
      imprint_setup_choices_set_target (parts->setup, self->setup_target ? self->setup_target : "");
      present_window (self, imprint_window_new_setup (self, parts->client, parts->install, parts->setup));
      return;
    }

  present_parts (parts);
}

static void
imprint_application_startup (GApplication *app)
{
  const char *accels[] = { IMPRINT_SCREEN_READER_ACCEL, NULL };
  g_autoptr(GAction) screen_reader = NULL;

  G_APPLICATION_CLASS (imprint_application_parent_class)->startup (app);

  /* The installer's window sets it after its first frame (an SVG is slow
   * to draw the first time); the panels' windows are small. */
  if (IMPRINT_APPLICATION (app)->panel != NULL)
    gtk_window_set_default_icon_name (IMPRINT_APP_ID);
  /* app.screen-reader: on and off from any window, with GNOME's
   * shortcut, in step with the first page's switch. */
  screen_reader = imprint_screen_reader_create_action (imprint_screen_reader_get_default ());
  g_action_map_add_action (G_ACTION_MAP (app), screen_reader);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.screen-reader", accels);
}

static void
imprint_application_shutdown (GApplication *app)
{
  /* Orca is the app's child: it goes with the app. */
  imprint_screen_reader_set_active (imprint_screen_reader_get_default (), FALSE);
  G_APPLICATION_CLASS (imprint_application_parent_class)->shutdown (app);
}

static void
imprint_application_finalize (GObject *object)
{
  ImprintApplication *self = IMPRINT_APPLICATION (object);

  g_free (self->source);
  g_strfreev (self->target_images);
  g_free (self->tpm2_device);
  g_free (self->source_certificate);
  g_free (self->source_root_hash);
  g_free (self->definitions);
  g_free (self->setup_target);
  g_free (self->panel);

  G_OBJECT_CLASS (imprint_application_parent_class)->finalize (object);
}

static void
imprint_application_class_init (ImprintApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = imprint_application_finalize;
  app_class->handle_local_options = imprint_application_handle_local_options;
  app_class->activate = imprint_application_activate;
  app_class->startup = imprint_application_startup;
  app_class->shutdown = imprint_application_shutdown;
}

static void
imprint_application_init (ImprintApplication *self)
{
  const GOptionEntry entries[] = {
    { "source", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      N_("Install from this image file or device instead of the live medium"), N_("PATH") },
    { "target-image", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, NULL,
      N_("Also offer this image file as a disk to install to"), N_("FILE") },
    { "include-loop", 0, 0, G_OPTION_ARG_NONE, NULL,
      N_("Also offer loop devices as disks"), NULL },
    { "tpm2-device", 0, 0, G_OPTION_ARG_STRING, NULL,
      N_("Use this TPM2 device or TCTI instead of finding one"), N_("DEVICE") },
    { "source-certificate", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      N_("Trust a source image signed with this certificate"), N_("FILE") },
    { "source-root-hash", 0, 0, G_OPTION_ARG_STRING, NULL,
      N_("Trust a source image with this verity root hash"), N_("HASH") },
    { "definitions", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      N_("Use the partition definitions in this directory"), N_("DIRECTORY") },
    { "setup", 0, 0, G_OPTION_ARG_NONE, NULL,
      N_("Set up this system: language, keyboard, time zone, name and the first account"), NULL },
    { "setup-target", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      N_("Set up the installed system whose root directory is mounted here"), N_("DIRECTORY") },
    { "kiosk", 0, 0, G_OPTION_ARG_NONE, NULL,
      N_("Full screen, without window buttons (the first-boot setup session)"), NULL },
    { "panel", 0, 0, G_OPTION_ARG_STRING, NULL,
      N_("Open a settings panel instead of the installer: update or reset"), N_("PANEL") },
    { "heal-check", 0, 0, G_OPTION_ARG_NONE, NULL,
      N_("Tell, once per start, when the disk needed its recovery key (for the login service)"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL,
      N_("Show the version and exit"), NULL },
    { NULL }
  };

  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Install this system on a disk of this computer."));
}

ImprintApplication *
imprint_application_new (void)
{
  return g_object_new (IMPRINT_TYPE_APPLICATION,
                       "application-id", IMPRINT_APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       NULL);
}
