/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The option and reply dictionaries of imprintd's API, to and from C
 * structs (imprint-request.h). Most keys are plain values described by a
 * table (key, kind, where in the struct: imprint-request-fields.h); the few
 * with a grammar of their own (mode, encryption, user) have code here. The
 * plan reply is in imprint-plan-info.c.
 * The order of the tables is the order the keys go on the wire, the order
 * imprintctl always sent them in. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

#include "imprint-error.h"
#include "imprint-request-fields.h"
#include "secret.h"

/* The four functions of a request that is one table. */
#define TABLE_REQUEST(prefix, type, table)                                              \
  void                                                                                  \
  prefix##_init (type *r)                                                               \
  {                                                                                     \
    memset (r, 0, sizeof *r);                                                           \
    imprint_fields_clear (table, G_N_ELEMENTS (table), r);                              \
  }                                                                                     \
  void                                                                                  \
  prefix##_clear (type *r)                                                              \
  {                                                                                     \
    imprint_fields_clear (table, G_N_ELEMENTS (table), r);                              \
  }                                                                                     \
  GVariant *                                                                            \
  prefix##_to_variant (const type *r)                                                   \
  {                                                                                     \
    GVariantBuilder b;                                                                  \
    g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);                                \
    imprint_fields_add (&b, table, G_N_ELEMENTS (table), r);                            \
    return g_variant_builder_end (&b);                                                  \
  }                                                                                     \
  gboolean                                                                              \
  prefix##_from_variant (GVariant *v, type *r, GError **error)                          \
  {                                                                                     \
    if (imprint_fields_check_dict (v, error) &&                                         \
        imprint_fields_parse (v, table, G_N_ELEMENTS (table), r, error))                \
      return TRUE;                                                                      \
    prefix##_clear (r);                                                                 \
    return FALSE;                                                                       \
  }

/* ---- The one-table requests ---------------------------------------------- */

static const Field call_fields[] = {
  FIELD (ImprintCallOptions, IMPRINT_KEY_NO_USER_INTERACTION, FIELD_BOOL, no_user_interaction),
  FIELD (ImprintCallOptions, IMPRINT_KEY_LOCALE, FIELD_STRING, locale),
};
TABLE_REQUEST (imprint_call_options, ImprintCallOptions, call_fields)

static const Field list_disks_fields[] = {
  CALL_FIELDS (ImprintListDisksRequest),
  FIELD (ImprintListDisksRequest, IMPRINT_KEY_INCLUDE_LOOP, FIELD_BOOL, include_loop),
  FIELD (ImprintListDisksRequest, IMPRINT_KEY_INCLUDE_FILES, FIELD_STRV, include_files),
  FIELD (ImprintListDisksRequest, IMPRINT_KEY_SOURCE, FIELD_STRING, source),
  FIELD (ImprintListDisksRequest, IMPRINT_KEY_MIN_SIZE, FIELD_UINT64, min_size),
  FIELD (ImprintListDisksRequest, IMPRINT_KEY_PROBE_SHRINK, FIELD_BOOL, probe_shrink),
};
TABLE_REQUEST (imprint_list_disks_request, ImprintListDisksRequest, list_disks_fields)

static const Field security_fields[] = {
  CALL_FIELDS (ImprintSecurityRequest),
  FIELD (ImprintSecurityRequest, IMPRINT_KEY_TPM2_DEVICE, FIELD_STRING, tpm2_device),
};
TABLE_REQUEST (imprint_security_request, ImprintSecurityRequest, security_fields)

static const Field factory_reset_fields[] = {
  CALL_FIELDS (ImprintFactoryResetRequest),
  FIELD (ImprintFactoryResetRequest, IMPRINT_KEY_CLEAR_TPM, FIELD_BOOL, clear_tpm),
};
TABLE_REQUEST (imprint_factory_reset_request, ImprintFactoryResetRequest, factory_reset_fields)

#define E(key, kind, member) FIELD (ImprintEnrollRequest, key, kind, member)
static const Field enroll_fields[] = {
  CALL_FIELDS (ImprintEnrollRequest),
  E (IMPRINT_KEY_UNLOCK_PASSPHRASE, FIELD_SECRET, unlock_passphrase),
  E (IMPRINT_KEY_UNLOCK_TPM2, FIELD_BOOL, unlock_tpm2),
  E (IMPRINT_KEY_UNLOCK_TPM2_PIN, FIELD_SECRET, unlock_tpm2_pin),
  E (IMPRINT_KEY_UNLOCK_FIDO2, FIELD_BOOL, unlock_fido2),
  E (IMPRINT_KEY_TPM2_DEVICE, FIELD_STRING, tpm2_device),
  E (IMPRINT_KEY_FIDO2_DEVICE, FIELD_STRING, fido2_device),
  E (IMPRINT_KEY_TPM2_SIGNATURE, FIELD_STRING, tpm2_signature),
  E (IMPRINT_KEY_KEYSLOT, FIELD_INT32, keyslot),
  E (IMPRINT_KEY_TPM2_PCRS, FIELD_STRING, tpm2_pcrs),
  E (IMPRINT_KEY_TPM2_PUBLIC_KEY, FIELD_STRING, tpm2_public_key),
  E (IMPRINT_KEY_TPM2_PUBLIC_KEY_PCRS, FIELD_STRING, tpm2_public_key_pcrs),
  E (IMPRINT_KEY_TPM2_PIN, FIELD_SECRET, tpm2_pin),
  E (IMPRINT_KEY_FIDO2_WITH_CLIENT_PIN, FIELD_BOOL, fido2_with_client_pin),
  E (IMPRINT_KEY_FIDO2_WITH_USER_PRESENCE, FIELD_BOOL, fido2_with_user_presence),
  E (IMPRINT_KEY_FIDO2_WITH_USER_VERIFICATION, FIELD_BOOL, fido2_with_user_verification),
  E (IMPRINT_KEY_PASSPHRASE, FIELD_SECRET, passphrase),
  E (IMPRINT_KEY_RECOVERY_KEY, FIELD_SECRET, recovery_key),
};
#undef E
TABLE_REQUEST (imprint_enroll_request, ImprintEnrollRequest, enroll_fields)

/* ---- Install -------------------------------------------------------------- */

/* Around "mode" and "encryption", in imprintctl's order. */
#define I(key, kind, member) FIELD (ImprintInstallRequest, key, kind, member)
static const Field install_head_fields[] = {
  CALL_FIELDS (ImprintInstallRequest),
};
static const Field install_plan_fields[] = {
  I (IMPRINT_KEY_DEFER_DATA_PARTITIONS, FIELD_BOOL, defer_data_partitions),
  I (IMPRINT_KEY_DEFINITIONS, FIELD_STRING, definitions),
  I (IMPRINT_KEY_SHRINK_PARTITION, FIELD_UINT64, shrink_partition),
  I (IMPRINT_KEY_SHRINK_SIZE, FIELD_UINT64, shrink_size),
  I (IMPRINT_KEY_ROOT_HASH, FIELD_STRING, root_hash),
  I (IMPRINT_KEY_CERTIFICATE, FIELD_STRING, certificate),
  I (IMPRINT_KEY_NO_BOOT_ENTRY, FIELD_BOOL, no_boot_entry),
  I (IMPRINT_KEY_ENCRYPT, FIELD_BOOL, encrypt),
  I (IMPRINT_KEY_VERIFY_FIRST, FIELD_BOOL, verify_first),
  I (IMPRINT_KEY_HANDOVER, FIELD_BOOL, handover),
};
static const Field install_unlock_fields[] = {
  I (IMPRINT_KEY_TPM2_DEVICE, FIELD_STRING, tpm2_device),
  I (IMPRINT_KEY_TPM2_PCRS, FIELD_STRING, tpm2_pcrs),
  I (IMPRINT_KEY_FIDO2_DEVICE, FIELD_STRING, fido2_device),
  I (IMPRINT_KEY_TPM2_PUBLIC_KEY, FIELD_STRING, tpm2_public_key),
  I (IMPRINT_KEY_TPM2_PIN, FIELD_SECRET, tpm2_pin),
  I (IMPRINT_KEY_PASSPHRASE, FIELD_SECRET, passphrase),
  I (IMPRINT_KEY_RECOVERY_KEY, FIELD_SECRET, recovery_key),
};
#undef I

static const struct {
  const char *name;
  ImprintUnlockMethods flag;
} unlock_methods[] = {
  { IMPRINT_METHOD_TPM2, IMPRINT_UNLOCK_TPM2 },
  { IMPRINT_METHOD_FIDO2, IMPRINT_UNLOCK_FIDO2 },
  { IMPRINT_METHOD_PASSPHRASE, IMPRINT_UNLOCK_PASSPHRASE },
  { IMPRINT_METHOD_RECOVERY_KEY, IMPRINT_UNLOCK_RECOVERY_KEY },
};

static gboolean
parse_encryption (GVariant *dict, ImprintInstallRequest *r, GError **error)
{
  g_autoptr(GVariant) value = NULL;
  gsize n;

  if (!imprint_fields_lookup (dict, IMPRINT_KEY_ENCRYPTION, G_VARIANT_TYPE_STRING_ARRAY, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;
  n = g_variant_n_children (value);
  if (n > IMPRINT_REQUEST_STRV_MAX)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("The option “%s” lists more than %u values."), IMPRINT_KEY_ENCRYPTION,
                   IMPRINT_REQUEST_STRV_MAX);
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (value, i);
      const char *name = g_variant_get_string (child, NULL);
      gsize m;

      for (m = 0; m < G_N_ELEMENTS (unlock_methods); m++)
        if (g_str_equal (name, unlock_methods[m].name))
          break;
      if (m == G_N_ELEMENTS (unlock_methods))
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                       _("Unknown unlock method “%.64s”."), name);
          return FALSE;
        }
      r->encryption |= unlock_methods[m].flag;
    }
  r->has_encryption = TRUE;
  return TRUE;
}

static GVariant *
encryption_to_variant (ImprintUnlockMethods methods)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_STRING_ARRAY);
  for (gsize m = 0; m < G_N_ELEMENTS (unlock_methods); m++)
    if (methods & unlock_methods[m].flag)
      g_variant_builder_add (&b, "s", unlock_methods[m].name);
  return g_variant_builder_end (&b);
}

void
imprint_install_request_init (ImprintInstallRequest *r)
{
  memset (r, 0, sizeof *r);
}

void
imprint_install_request_clear (ImprintInstallRequest *r)
{
  imprint_fields_clear (install_head_fields, G_N_ELEMENTS (install_head_fields), r);
  imprint_fields_clear (install_plan_fields, G_N_ELEMENTS (install_plan_fields), r);
  imprint_fields_clear (install_unlock_fields, G_N_ELEMENTS (install_unlock_fields), r);
  imprint_install_request_init (r);
}

GVariant *
imprint_install_request_to_variant (const ImprintInstallRequest *r)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  imprint_fields_add (&b, install_head_fields, G_N_ELEMENTS (install_head_fields), r);
  if (r->mode != IMPRINT_REQUEST_MODE_UNSET)
    g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_MODE, g_variant_new_string (imprint_fields_mode_to_string (r->mode)));
  imprint_fields_add (&b, install_plan_fields, G_N_ELEMENTS (install_plan_fields), r);
  if (r->has_encryption)
    g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_ENCRYPTION, encryption_to_variant (r->encryption));
  imprint_fields_add (&b, install_unlock_fields, G_N_ELEMENTS (install_unlock_fields), r);
  return g_variant_builder_end (&b);
}

gboolean
imprint_install_request_from_variant (GVariant *v, ImprintInstallRequest *r, GError **error)
{
  if (imprint_fields_check_dict (v, error) &&
      imprint_fields_parse (v, install_head_fields, G_N_ELEMENTS (install_head_fields), r, error) &&
      imprint_fields_parse_mode (v, &r->mode, error) &&
      imprint_fields_parse (v, install_plan_fields, G_N_ELEMENTS (install_plan_fields), r, error) &&
      parse_encryption (v, r, error) &&
      imprint_fields_parse (v, install_unlock_fields, G_N_ELEMENTS (install_unlock_fields), r, error))
    return TRUE;
  imprint_install_request_clear (r);
  return FALSE;
}

/* ---- ApplySetup --------------------------------------------------------- */

#define S(key, kind, member) FIELD (ImprintSetupRequest, key, kind, member)
static const Field setup_system_fields[] = {
  S (IMPRINT_KEY_LOCALE, FIELD_STRING, locale),
  S (IMPRINT_KEY_KEYMAP, FIELD_STRING, keymap),
  S (IMPRINT_KEY_TIMEZONE, FIELD_STRING, timezone),
  S (IMPRINT_KEY_HOSTNAME, FIELD_STRING, hostname),
  S (IMPRINT_KEY_PRETTY_HOSTNAME, FIELD_STRING, pretty_hostname),
};
static const Field setup_disk_fields[] = {
  S (IMPRINT_KEY_DISK_RECOVERY_KEY, FIELD_SECRET, disk_recovery_key),
  S (IMPRINT_KEY_DISK_FIDO2, FIELD_BOOL, disk_fido2),
  S (IMPRINT_KEY_DISK_FIDO2_DEVICE, FIELD_STRING, disk_fido2_device),
  S (IMPRINT_KEY_DISK_DEVICE, FIELD_STRING, disk_device),
  S (IMPRINT_KEY_DISK_TPM2_DEVICE, FIELD_STRING, disk_tpm2_device),
};
static const Field setup_option_fields[] = {
  CALL_FIELDS (ImprintSetupRequest),
  S (IMPRINT_KEY_UNLOCK_PASSPHRASE, FIELD_SECRET, unlock_passphrase),
  S (IMPRINT_KEY_UNLOCK_TPM2, FIELD_BOOL, unlock_tpm2),
  S (IMPRINT_KEY_TPM2_DEVICE, FIELD_STRING, tpm2_device),
};
#undef S

#define U(key, kind, member) FIELD (ImprintSetupUser, key, kind, member)
static const Field setup_user_fields[] = {
  U (IMPRINT_KEY_USER_NAME, FIELD_STRING, user_name),
  U (IMPRINT_KEY_REAL_NAME, FIELD_STRING, real_name),
  U (IMPRINT_KEY_PASSWORD, FIELD_SECRET, password),
  U (IMPRINT_KEY_RECOVERY_KEY, FIELD_SECRET, recovery_key),
  U (IMPRINT_KEY_FIDO2, FIELD_BOOL, fido2),
  U (IMPRINT_KEY_FIDO2_DEVICE, FIELD_STRING, fido2_device),
  U (IMPRINT_KEY_DISK_SIZE, FIELD_UINT64, disk_size),
  U (IMPRINT_KEY_AUTO_LOGIN, FIELD_BOOL, auto_login),
  U (IMPRINT_KEY_ADMINISTRATOR, FIELD_BOOL, administrator),
};
#undef U

void
imprint_setup_request_init (ImprintSetupRequest *r)
{
  memset (r, 0, sizeof *r);
}

void
imprint_setup_request_clear (ImprintSetupRequest *r)
{
  imprint_fields_clear (setup_system_fields, G_N_ELEMENTS (setup_system_fields), r);
  imprint_fields_clear (setup_user_fields, G_N_ELEMENTS (setup_user_fields), &r->user);
  imprint_fields_clear (setup_disk_fields, G_N_ELEMENTS (setup_disk_fields), r);
  imprint_fields_clear (setup_option_fields, G_N_ELEMENTS (setup_option_fields), r);
  imprint_setup_request_init (r);
}

void
imprint_setup_request_to_variant (const ImprintSetupRequest *r, GVariant **ret_settings, GVariant **ret_options)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  imprint_fields_add (&b, setup_system_fields, G_N_ELEMENTS (setup_system_fields), r);
  if (r->has_user)
    {
      GVariantBuilder u;

      g_variant_builder_init (&u, G_VARIANT_TYPE_VARDICT);
      imprint_fields_add (&u, setup_user_fields, G_N_ELEMENTS (setup_user_fields), &r->user);
      g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_USER, g_variant_builder_end (&u));
    }
  imprint_fields_add (&b, setup_disk_fields, G_N_ELEMENTS (setup_disk_fields), r);
  *ret_settings = g_variant_builder_end (&b);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  imprint_fields_add (&b, setup_option_fields, G_N_ELEMENTS (setup_option_fields), r);
  *ret_options = g_variant_builder_end (&b);
}

static gboolean
parse_setup_user (GVariant *settings, ImprintSetupRequest *r, GError **error)
{
  g_autoptr(GVariant) user = NULL;

  if (!imprint_fields_lookup (settings, IMPRINT_KEY_USER, G_VARIANT_TYPE_VARDICT, &user, error))
    return FALSE;
  if (user == NULL)
    return TRUE;
  r->has_user = TRUE;
  return imprint_fields_check_dict (user, error) &&
         imprint_fields_parse (user, setup_user_fields, G_N_ELEMENTS (setup_user_fields), &r->user, error);
}

gboolean
imprint_setup_request_from_variant (GVariant *settings, GVariant *options, ImprintSetupRequest *r,
                                    GError **error)
{
  if (imprint_fields_check_dict (settings, error) && imprint_fields_check_dict (options, error) &&
      imprint_fields_parse (options, setup_option_fields, G_N_ELEMENTS (setup_option_fields), r, error) &&
      imprint_fields_parse (settings, setup_system_fields, G_N_ELEMENTS (setup_system_fields), r, error) &&
      parse_setup_user (settings, r, error) &&
      imprint_fields_parse (settings, setup_disk_fields, G_N_ELEMENTS (setup_disk_fields), r, error))
    return TRUE;
  imprint_setup_request_clear (r);
  return FALSE;
}
