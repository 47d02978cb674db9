/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "imprint-names.h"
#include "imprint-request.h"
#include "imprint-setup-choices.h"
#include "imprint-util.h"
#include "secret.h"

struct _ImprintSetupChoices
{
  GObject     parent_instance;

  char       *target;          /* NULL: the installer */
  char       *unlock;          /* secret: opens a "disk:" target's LUKS2 root */
  GVariant   *defaults;
  GHashTable *settings;        /* locale, keymap, keymap-title, timezone, hostname, pretty-hostname */
  char       *user_name;
  char       *real_name;
  char       *password;        /* secret */
  char       *recovery_key;    /* secret: the home's */
  gboolean    user_fido2;
  gboolean    auto_login;
};

G_DEFINE_FINAL_TYPE (ImprintSetupChoices, imprint_setup_choices, G_TYPE_OBJECT)

/* The settings, as properties of the same names. All but IMPRINT_SETUP_KEYMAP_TITLE
 * (only shown) are sent to ApplySetup. */
static const char * const setting_keys[] = {
  IMPRINT_KEY_LOCALE, IMPRINT_KEY_KEYMAP, IMPRINT_KEY_TIMEZONE, IMPRINT_KEY_HOSTNAME,
  IMPRINT_KEY_PRETTY_HOSTNAME, IMPRINT_SETUP_KEYMAP_TITLE,
};

enum {
  PROP_0,
  PROP_TARGET,
  PROP_SETUP_MODE,
  PROP_DEFAULTS,
  PROP_USER_NAME,
  PROP_REAL_NAME,
  PROP_USER_FIDO2,
  PROP_AUTO_LOGIN,
  PROP_FIRST_SETTING,
  N_PROPS = PROP_FIRST_SETTING + G_N_ELEMENTS (setting_keys)
};

static GParamSpec *properties[N_PROPS];

static void
imprint_setup_choices_finalize (GObject *object)
{
  ImprintSetupChoices *self = IMPRINT_SETUP_CHOICES (object);

  g_free (self->target);
  imprint_wipe_free (self->unlock);
  g_clear_pointer (&self->defaults, g_variant_unref);
  g_hash_table_unref (self->settings);
  g_free (self->user_name);
  g_free (self->real_name);
  imprint_wipe_free (self->password);
  imprint_wipe_free (self->recovery_key);

  G_OBJECT_CLASS (imprint_setup_choices_parent_class)->finalize (object);
}

static void
imprint_setup_choices_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  ImprintSetupChoices *self = IMPRINT_SETUP_CHOICES (object);

  switch (prop_id)
    {
    case PROP_TARGET:     g_value_set_string (value, self->target); break;
    case PROP_SETUP_MODE: g_value_set_boolean (value, self->target != NULL); break;
    case PROP_DEFAULTS:   g_value_set_variant (value, self->defaults); break;
    case PROP_USER_NAME:  g_value_set_string (value, imprint_setup_choices_get_user_name (self)); break;
    case PROP_REAL_NAME:  g_value_set_string (value, imprint_setup_choices_get_real_name (self)); break;
    case PROP_USER_FIDO2: g_value_set_boolean (value, self->user_fido2); break;
    case PROP_AUTO_LOGIN: g_value_set_boolean (value, self->auto_login); break;
    default:
      if (prop_id >= PROP_FIRST_SETTING && prop_id < N_PROPS)
        g_value_set_string (value, imprint_setup_choices_get_setting (self, pspec->name));
      else
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imprint_setup_choices_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  ImprintSetupChoices *self = IMPRINT_SETUP_CHOICES (object);

  switch (prop_id)
    {
    case PROP_TARGET:   imprint_setup_choices_set_target (self, g_value_get_string (value)); break;
    case PROP_DEFAULTS: imprint_setup_choices_set_defaults (self, g_value_get_variant (value)); break;
    default:
      if (prop_id >= PROP_FIRST_SETTING && prop_id < N_PROPS)
        imprint_setup_choices_set_setting (self, pspec->name, g_value_get_string (value));
      else
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imprint_setup_choices_class_init (ImprintSetupChoicesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = imprint_setup_choices_finalize;
  object_class->get_property = imprint_setup_choices_get_property;
  object_class->set_property = imprint_setup_choices_set_property;

  properties[PROP_TARGET] = g_param_spec_string ("target", NULL, NULL, NULL, rw);
  properties[PROP_SETUP_MODE] = g_param_spec_boolean ("setup-mode", NULL, NULL, FALSE, ro);
  properties[PROP_DEFAULTS] = g_param_spec_variant ("defaults", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL, rw);
  properties[PROP_USER_NAME] = g_param_spec_string ("user-name", NULL, NULL, "", ro);
  properties[PROP_REAL_NAME] = g_param_spec_string ("real-name", NULL, NULL, "", ro);
  properties[PROP_USER_FIDO2] = g_param_spec_boolean ("user-fido2", NULL, NULL, FALSE, ro);
  properties[PROP_AUTO_LOGIN] = g_param_spec_boolean ("auto-login", NULL, NULL, FALSE, ro);
  for (guint i = 0; i < G_N_ELEMENTS (setting_keys); i++)
    properties[PROP_FIRST_SETTING + i] = g_param_spec_string (setting_keys[i], NULL, NULL, "", rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
imprint_setup_choices_init (ImprintSetupChoices *self)
{
  self->settings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

ImprintSetupChoices *
imprint_setup_choices_new (void)
{
  return g_object_new (IMPRINT_TYPE_SETUP_CHOICES, NULL);
}

const char *
imprint_setup_choices_get_target (ImprintSetupChoices *self)
{
  return self->target;
}

void
imprint_setup_choices_set_target (ImprintSetupChoices *self,
                                  const char          *target)
{
  imprint_str_replace (&self->target, target);
  /* Only a "disk:" target needs opening. */
  if (target == NULL || !g_str_has_prefix (target, "disk:"))
    imprint_secret_replace (&self->unlock, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TARGET]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SETUP_MODE]);
}

void
imprint_setup_choices_set_unlock (ImprintSetupChoices *self,
                                  const char          *secret)
{
  imprint_secret_replace (&self->unlock, secret);
}

gboolean
imprint_setup_choices_get_setup_mode (ImprintSetupChoices *self)
{
  return self->target != NULL;
}

GVariant *
imprint_setup_choices_get_defaults (ImprintSetupChoices *self)
{
  if (self->defaults == NULL)
    self->defaults = g_variant_ref_sink (g_variant_new ("a{sv}", NULL));
  return self->defaults;
}

void
imprint_setup_choices_set_defaults (ImprintSetupChoices *self,
                                    GVariant            *defaults)
{
  g_autoptr(GVariant) user = NULL;
  const char *value;

  g_clear_pointer (&self->defaults, g_variant_unref);
  self->defaults = defaults ? g_variant_ref_sink (defaults) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEFAULTS]);
  if (defaults == NULL)
    return;

  /* Prefill: the pages start from what the OEM or the system says. */
  user = g_variant_lookup_value (defaults, IMPRINT_KEY_USER, G_VARIANT_TYPE_VARDICT);
  if (user != NULL && g_variant_lookup (user, IMPRINT_KEY_USER_NAME, "&s", &value))
    imprint_str_replace (&self->user_name, value);
  if (user != NULL && g_variant_lookup (user, IMPRINT_KEY_REAL_NAME, "&s", &value))
    imprint_str_replace (&self->real_name, value);
}

gboolean
imprint_setup_choices_decided (ImprintSetupChoices *self,
                               const char          *key)
{
  g_autofree const char **decided = NULL;

  if (self->defaults == NULL ||
      !g_variant_lookup (self->defaults, IMPRINT_KEY_DECIDED, "^a&s", &decided))
    return FALSE;
  return g_strv_contains (decided, key);
}

gboolean
imprint_setup_choices_get_flag (ImprintSetupChoices *self,
                                const char          *key)
{
  gboolean value = FALSE;

  if (self->defaults != NULL)
    g_variant_lookup (self->defaults, key, "b", &value);
  return value;
}

/* The person's choice, else the default; "" when neither. */
const char *
imprint_setup_choices_get_setting (ImprintSetupChoices *self,
                                   const char          *key)
{
  const char *value = g_hash_table_lookup (self->settings, key);

  if (value == NULL && self->defaults != NULL)
    g_variant_lookup (self->defaults, key, "&s", &value);
  return value ? value : "";
}

void
imprint_setup_choices_set_setting (ImprintSetupChoices *self,
                                   const char          *key,
                                   const char          *value)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (self), key);

  g_hash_table_replace (self->settings, g_strdup (key), g_strdup (value));
  if (pspec != NULL)
    g_object_notify_by_pspec (G_OBJECT (self), pspec);
}

void
imprint_setup_choices_set_user (ImprintSetupChoices *self,
                                const char          *user_name,
                                const char          *real_name,
                                const char          *password,
                                gboolean             fido2,
                                gboolean             auto_login)
{
  g_object_freeze_notify (G_OBJECT (self));
  imprint_str_replace (&self->user_name, user_name);
  imprint_str_replace (&self->real_name, real_name);
  imprint_secret_replace (&self->password, password);
  self->user_fido2 = fido2;
  self->auto_login = auto_login;
  for (guint p = PROP_USER_NAME; p <= PROP_AUTO_LOGIN; p++)
    g_object_notify_by_pspec (G_OBJECT (self), properties[p]);
  g_object_thaw_notify (G_OBJECT (self));
}

const char *
imprint_setup_choices_get_user_name (ImprintSetupChoices *self)
{
  return self->user_name ? self->user_name : "";
}

const char *
imprint_setup_choices_get_real_name (ImprintSetupChoices *self)
{
  return self->real_name ? self->real_name : "";
}

gboolean
imprint_setup_choices_get_user_fido2 (ImprintSetupChoices *self)
{
  return self->user_fido2;
}

gboolean
imprint_setup_choices_get_auto_login (ImprintSetupChoices *self)
{
  return self->auto_login;
}

gboolean
imprint_setup_choices_has_password (ImprintSetupChoices *self)
{
  return self->password != NULL;
}

const char *
imprint_setup_choices_get_recovery_key (ImprintSetupChoices *self)
{
  return self->recovery_key;
}

void
imprint_setup_choices_set_recovery_key (ImprintSetupChoices *self,
                                        const char          *key)
{
  imprint_secret_replace (&self->recovery_key, key);
}

/* Setup's settings: the person's choice, else the default; an empty one
 * is not sent, so imprintd keeps what is there (decided values are
 * applied as the OEM gave them). */
static char *
setting_or_null (ImprintSetupChoices *self,
                 const char          *key)
{
  const char *value = imprint_setup_choices_get_setting (self, key);

  return *value != '\0' ? g_strdup (value) : NULL;
}

static void
fill_request (ImprintSetupChoices *self,
              ImprintSetupRequest *r)
{
  r->locale = setting_or_null (self, IMPRINT_KEY_LOCALE);
  r->keymap = setting_or_null (self, IMPRINT_KEY_KEYMAP);
  r->timezone = setting_or_null (self, IMPRINT_KEY_TIMEZONE);
  r->hostname = setting_or_null (self, IMPRINT_KEY_HOSTNAME);
  r->pretty_hostname = setting_or_null (self, IMPRINT_KEY_PRETTY_HOSTNAME);

  r->has_user = TRUE;
  r->user.user_name = g_strdup (imprint_setup_choices_get_user_name (self));
  if (self->real_name != NULL && *self->real_name != '\0')
    r->user.real_name = g_strdup (self->real_name);
  /* The request's secrets live in basic/secret.h memory. */
  if (self->password != NULL)
    r->user.password = imprint_secret_strdup (self->password);
  if (self->recovery_key != NULL)
    r->user.recovery_key = imprint_secret_strdup (self->recovery_key);
  r->user.fido2 = imprint_opt_bool_from (self->user_fido2);
  r->user.auto_login = imprint_opt_bool_from (self->auto_login);

  /* On an OEM machine the disk was sealed to the TPM only; the same
   * recovery key (systemd's format works for both) opens it too, so the
   * person keeps one key, not two. */
  if (imprint_setup_choices_get_flag (self, IMPRINT_KEY_OEM) && self->recovery_key != NULL &&
      self->target != NULL && *self->target == '\0')
    r->disk_recovery_key = imprint_secret_strdup (self->recovery_key);

  if (self->unlock != NULL)
    r->unlock_passphrase = imprint_secret_strdup (self->unlock);
}

void
imprint_setup_choices_build_request (ImprintSetupChoices  *self,
                                     GVariant            **ret_settings,
                                     GVariant            **ret_options)
{
  g_auto(ImprintSetupRequest) r;

  imprint_setup_request_init (&r);
  fill_request (self, &r);
  imprint_setup_request_to_variant (&r, ret_settings, ret_options);
}
