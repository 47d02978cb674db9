/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* What the person chose in first-boot setup, over GetSetupDefaults'
 * answer. Properties: "target" (NULL in the installer, "" for the running
 * system, "disk:DEVICE" or a mounted root: ApplySetup's target),
 * "setup-mode" (read-only: target is set), "defaults", the settings
 * "locale", "keymap", "keymap-title", "timezone", "hostname",
 * "pretty-hostname" (each the person's choice, else the default, else ""),
 * "user-name", "real-name", "user-fido2", "auto-login".
 *
 * Secrets (the user's password, the home's recovery key, the key that
 * opens a "disk:" target) live in memory wiped when freed, through
 * functions only, never as properties. */
/* The one setting that is the app's own, not ApplySetup's: the keyboard
 * layout's name in words, only shown. */
#define IMPRINT_SETUP_KEYMAP_TITLE "keymap-title"

#define IMPRINT_TYPE_SETUP_CHOICES (imprint_setup_choices_get_type ())
G_DECLARE_FINAL_TYPE (ImprintSetupChoices, imprint_setup_choices, IMPRINT, SETUP_CHOICES, GObject)

ImprintSetupChoices *imprint_setup_choices_new (void);

const char *imprint_setup_choices_get_target       (ImprintSetupChoices *self);
void        imprint_setup_choices_set_target       (ImprintSetupChoices *self,
                                                    const char          *target);
gboolean    imprint_setup_choices_get_setup_mode   (ImprintSetupChoices *self);
GVariant   *imprint_setup_choices_get_defaults     (ImprintSetupChoices *self);
void        imprint_setup_choices_set_defaults     (ImprintSetupChoices *self,
                                                    GVariant            *defaults);
gboolean    imprint_setup_choices_decided          (ImprintSetupChoices *self,
                                                    const char          *key);
gboolean    imprint_setup_choices_get_flag         (ImprintSetupChoices *self,
                                                    const char          *key);

const char *imprint_setup_choices_get_setting      (ImprintSetupChoices *self,
                                                    const char          *key);
void        imprint_setup_choices_set_setting      (ImprintSetupChoices *self,
                                                    const char          *key,
                                                    const char          *value);

void        imprint_setup_choices_set_user         (ImprintSetupChoices *self,
                                                    const char          *user_name,
                                                    const char          *real_name,
                                                    const char          *password,
                                                    gboolean             fido2,
                                                    gboolean             auto_login);
const char *imprint_setup_choices_get_user_name    (ImprintSetupChoices *self);
const char *imprint_setup_choices_get_real_name    (ImprintSetupChoices *self);
gboolean    imprint_setup_choices_get_user_fido2   (ImprintSetupChoices *self);
gboolean    imprint_setup_choices_get_auto_login   (ImprintSetupChoices *self);
gboolean    imprint_setup_choices_has_password     (ImprintSetupChoices *self);

/* The home's recovery key (the recovery page's, in setup). */
const char *imprint_setup_choices_get_recovery_key (ImprintSetupChoices *self);
void        imprint_setup_choices_set_recovery_key (ImprintSetupChoices *self,
                                                    const char          *key);
/* What opens a "disk:" target's LUKS2 root: the installation's recovery
 * key, else its passphrase; kept until setup of that disk succeeded. */
void        imprint_setup_choices_set_unlock       (ImprintSetupChoices *self,
                                                    const char          *secret);

/* ApplySetup's settings and options (floating a{sv}), through
 * ImprintSetupRequest (imprint-request.h). */
void        imprint_setup_choices_build_request    (ImprintSetupChoices  *self,
                                                    GVariant            **ret_settings,
                                                    GVariant            **ret_options);

G_END_DECLS
