/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The option and reply dictionaries of imprintd's API, to and from C
 * structs (imprint-request.h). Most keys are plain values described by a
 * table (key, kind, where in the struct); the few with their own grammar
 * (mode, encryption, user, the plan's partitions) have code of their own.
 * The order of the tables is the order the keys go on the wire, the order
 * imprintctl always sent them in. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <stddef.h>
#include <string.h>

#include "imprint-error.h"
#include "imprint-request.h"
#include "secret.h"

typedef enum {
  FIELD_BOOL,    /* b  -> ImprintOptBool */
  FIELD_STRING,  /* s  -> char *, at most IMPRINT_REQUEST_STRING_MAX bytes */
  FIELD_SECRET,  /* s  -> char * in secret memory, "" = absent */
  FIELD_UINT64,  /* t  -> guint64, 0 = absent */
  FIELD_INT32,   /* i  -> gint32, -1 = absent */
  FIELD_STRV,    /* as -> char **, bounded as the strings */
  FIELD_TEXT,    /* s  -> char *, unbounded: replies from imprintd only */
} FieldKind;

typedef struct {
  const char *key;
  FieldKind kind;
  size_t offset;
} Field;

#define FIELD(type, key, kind, member) { key, kind, offsetof (type, member) }
#define CALL_FIELDS(type) \
  FIELD (type, IMPRINT_KEY_NO_USER_INTERACTION, FIELD_BOOL, call.no_user_interaction), \
  FIELD (type, IMPRINT_KEY_LOCALE, FIELD_STRING, call.locale)

#define MEMBER(base, field, type) ((type *) (void *) ((char *) (base) + (field)->offset))
#define CMEMBER(base, field, type) ((const type *) (const void *) ((const char *) (base) + (field)->offset))

static const GVariantType *
field_type (FieldKind kind)
{
  switch (kind)
    {
    case FIELD_BOOL:   return G_VARIANT_TYPE_BOOLEAN;
    case FIELD_UINT64: return G_VARIANT_TYPE_UINT64;
    case FIELD_INT32:  return G_VARIANT_TYPE_INT32;
    case FIELD_STRV:   return G_VARIANT_TYPE_STRING_ARRAY;
    case FIELD_STRING:
    case FIELD_SECRET:
    case FIELD_TEXT:
    default:           return G_VARIANT_TYPE_STRING;
    }
}

GVariant *
imprint_request_secret_variant_new (const char *secret)
{
  g_autoptr(GBytes) bytes = NULL;
  char *copy = imprint_secret_strdup (secret != NULL ? secret : "");

  if (copy == NULL)
    g_error ("%s: %s", G_STRLOC, g_strerror (errno));
  bytes = g_bytes_new_with_free_func (copy, strlen (copy) + 1, imprint_secret_free, copy);
  return g_variant_new_from_bytes (G_VARIANT_TYPE_STRING, bytes, TRUE);
}

/* ---- Parsing ------------------------------------------------------------ */

static gboolean
check_dict (GVariant *dict, GError **error)
{
  if (dict == NULL)
    return TRUE;
  if (!g_variant_is_of_type (dict, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("The options are not a dictionary of type a{sv}."));
      return FALSE;
    }
  if (g_variant_n_children (dict) > IMPRINT_REQUEST_ENTRIES_MAX)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Too many options: at most %u are accepted."), IMPRINT_REQUEST_ENTRIES_MAX);
      return FALSE;
    }
  return TRUE;
}

/* *ret = the value of @key (the first, as g_variant_lookup()), NULL when
 * absent; an error when it is there with another type than @type. */
static gboolean
lookup_typed (GVariant *dict, const char *key, const GVariantType *type, GVariant **ret, GError **error)
{
  g_autoptr(GVariant) value = NULL;

  *ret = NULL;
  if (dict == NULL)
    return TRUE;
  value = g_variant_lookup_value (dict, key, NULL);
  if (value == NULL)
    return TRUE;
  if (!g_variant_is_of_type (value, type))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("The option “%s” must be of type “%s”."), key, g_variant_type_peek_string (type));
      return FALSE;
    }
  *ret = g_steal_pointer (&value);
  return TRUE;
}

static gboolean
check_length (const char *key, gsize length, GError **error)
{
  if (length > IMPRINT_REQUEST_STRING_MAX)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("The option “%s” is longer than %u bytes."), key, IMPRINT_REQUEST_STRING_MAX);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_secret (const char *value, gsize length, char **ret, GError **error)
{
  if (length == 0)
    return TRUE;
  if (length > IMPRINT_SECRET_MAX)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Passphrases, PINs and recovery keys may be at most %u bytes long."),
                   (unsigned) IMPRINT_SECRET_MAX);
      return FALSE;
    }
  *ret = imprint_secret_strdup (value);
  if (*ret == NULL)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, g_strerror (ENOMEM));
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_strv (const char *key, GVariant *value, char ***ret, GError **error)
{
  gsize n = g_variant_n_children (value);

  if (n > IMPRINT_REQUEST_STRV_MAX)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("The option “%s” lists more than %u values."), key, IMPRINT_REQUEST_STRV_MAX);
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) s = g_variant_get_child_value (value, i);
      gsize length = 0;

      (void) g_variant_get_string (s, &length);
      if (!check_length (key, length, error))
        return FALSE;
    }
  *ret = g_variant_dup_strv (value, NULL);
  return TRUE;
}

static gboolean
parse_field (GVariant *dict, const Field *f, void *base, GError **error)
{
  g_autoptr(GVariant) value = NULL;
  const char *s;
  gsize length = 0;

  if (!lookup_typed (dict, f->key, field_type (f->kind), &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;
  switch (f->kind)
    {
    case FIELD_BOOL:
      *MEMBER (base, f, ImprintOptBool) = imprint_opt_bool_from (g_variant_get_boolean (value));
      return TRUE;
    case FIELD_UINT64:
      *MEMBER (base, f, guint64) = g_variant_get_uint64 (value);
      return TRUE;
    case FIELD_INT32:
      *MEMBER (base, f, gint32) = g_variant_get_int32 (value);
      return TRUE;
    case FIELD_STRV:
      return parse_strv (f->key, value, MEMBER (base, f, char **), error);
    case FIELD_SECRET:
      s = g_variant_get_string (value, &length);
      return parse_secret (s, length, MEMBER (base, f, char *), error);
    case FIELD_STRING:
    case FIELD_TEXT:
    default:
      s = g_variant_get_string (value, &length);
      if (f->kind == FIELD_STRING && !check_length (f->key, length, error))
        return FALSE;
      *MEMBER (base, f, char *) = g_strdup (s);
      return TRUE;
    }
}

static gboolean
parse_fields (GVariant *dict, const Field *fields, gsize n, void *base, GError **error)
{
  for (gsize i = 0; i < n; i++)
    if (!parse_field (dict, &fields[i], base, error))
      return FALSE;
  return TRUE;
}

/* ---- Building and freeing ----------------------------------------------- */

static void
add_fields (GVariantBuilder *b, const Field *fields, gsize n, const void *base)
{
  for (gsize i = 0; i < n; i++)
    {
      const Field *f = &fields[i];
      GVariant *value = NULL;

      switch (f->kind)
        {
        case FIELD_BOOL:
          if (*CMEMBER (base, f, ImprintOptBool) != IMPRINT_OPT_UNSET)
            value = g_variant_new_boolean (*CMEMBER (base, f, ImprintOptBool) == IMPRINT_OPT_TRUE);
          break;
        case FIELD_UINT64:
          if (*CMEMBER (base, f, guint64) != 0)
            value = g_variant_new_uint64 (*CMEMBER (base, f, guint64));
          break;
        case FIELD_INT32:
          if (*CMEMBER (base, f, gint32) != -1)
            value = g_variant_new_int32 (*CMEMBER (base, f, gint32));
          break;
        case FIELD_STRV:
          if (*CMEMBER (base, f, char **) != NULL)
            value = g_variant_new_strv ((const char * const *) *CMEMBER (base, f, char **), -1);
          break;
        case FIELD_SECRET:
          if (*CMEMBER (base, f, char *) != NULL)
            value = imprint_request_secret_variant_new (*CMEMBER (base, f, char *));
          break;
        case FIELD_STRING:
        case FIELD_TEXT:
        default:
          if (*CMEMBER (base, f, char *) != NULL)
            value = g_variant_new_string (*CMEMBER (base, f, char *));
          break;
        }
      if (value != NULL)
        g_variant_builder_add (b, "{sv}", f->key, value);
    }
}

static void
clear_fields (const Field *fields, gsize n, void *base)
{
  for (gsize i = 0; i < n; i++)
    {
      const Field *f = &fields[i];

      switch (f->kind)
        {
        case FIELD_BOOL:
          *MEMBER (base, f, ImprintOptBool) = IMPRINT_OPT_UNSET;
          break;
        case FIELD_UINT64:
          *MEMBER (base, f, guint64) = 0;
          break;
        case FIELD_INT32:
          *MEMBER (base, f, gint32) = -1;
          break;
        case FIELD_STRV:
          g_clear_pointer (MEMBER (base, f, char **), g_strfreev);
          break;
        case FIELD_SECRET:
          g_clear_pointer (MEMBER (base, f, char *), imprint_secret_free);
          break;
        case FIELD_STRING:
        case FIELD_TEXT:
        default:
          g_clear_pointer (MEMBER (base, f, char *), g_free);
          break;
        }
    }
}

/* The four operations of a struct that is one table. */
#define TABLE_REQUEST(prefix, type, table)                                       \
  void prefix##_init (type *r) { memset (r, 0, sizeof *r); clear_fields (table, G_N_ELEMENTS (table), r); } \
  void prefix##_clear (type *r) { clear_fields (table, G_N_ELEMENTS (table), r); } \
  GVariant *prefix##_to_variant (const type *r)                                  \
  {                                                                              \
    GVariantBuilder b;                                                           \
    g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);                         \
    add_fields (&b, table, G_N_ELEMENTS (table), r);                             \
    return g_variant_builder_end (&b);                                           \
  }                                                                              \
  gboolean prefix##_from_variant (GVariant *v, type *r, GError **error)          \
  {                                                                              \
    if (check_dict (v, error) && parse_fields (v, table, G_N_ELEMENTS (table), r, error)) \
      return TRUE;                                                               \
    prefix##_clear (r);                                                          \
    return FALSE;                                                                \
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
  I (IMPRINT_KEY_ROOT_HASH, FIELD_STRING, root_hash),
  I (IMPRINT_KEY_CERTIFICATE, FIELD_STRING, certificate),
  I (IMPRINT_KEY_NO_BOOT_ENTRY, FIELD_BOOL, no_boot_entry),
  I (IMPRINT_KEY_ENCRYPT, FIELD_BOOL, encrypt),
  I (IMPRINT_KEY_VERIFY_FIRST, FIELD_BOOL, verify_first),
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
parse_mode (GVariant *dict, ImprintRequestMode *ret, GError **error)
{
  g_autoptr(GVariant) value = NULL;
  const char *mode;

  if (!lookup_typed (dict, IMPRINT_KEY_MODE, G_VARIANT_TYPE_STRING, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;
  mode = g_variant_get_string (value, NULL);
  if (g_str_equal (mode, IMPRINT_MODE_ERASE))
    *ret = IMPRINT_REQUEST_MODE_ERASE;
  else if (g_str_equal (mode, IMPRINT_MODE_FREE_SPACE))
    *ret = IMPRINT_REQUEST_MODE_FREE_SPACE;
  else
    {
      /* Bounded: the text is the caller's. */
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Unknown install mode “%.64s”: use “erase” or “free-space”."), mode);
      return FALSE;
    }
  return TRUE;
}

static const char *
mode_to_string (ImprintRequestMode mode)
{
  return mode == IMPRINT_REQUEST_MODE_FREE_SPACE ? IMPRINT_MODE_FREE_SPACE : IMPRINT_MODE_ERASE;
}

static gboolean
parse_encryption (GVariant *dict, ImprintInstallRequest *r, GError **error)
{
  g_autoptr(GVariant) value = NULL;
  gsize n;

  if (!lookup_typed (dict, IMPRINT_KEY_ENCRYPTION, G_VARIANT_TYPE_STRING_ARRAY, &value, error))
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
  clear_fields (install_head_fields, G_N_ELEMENTS (install_head_fields), r);
  clear_fields (install_plan_fields, G_N_ELEMENTS (install_plan_fields), r);
  clear_fields (install_unlock_fields, G_N_ELEMENTS (install_unlock_fields), r);
  imprint_install_request_init (r);
}

GVariant *
imprint_install_request_to_variant (const ImprintInstallRequest *r)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  add_fields (&b, install_head_fields, G_N_ELEMENTS (install_head_fields), r);
  if (r->mode != IMPRINT_REQUEST_MODE_UNSET)
    g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_MODE, g_variant_new_string (mode_to_string (r->mode)));
  add_fields (&b, install_plan_fields, G_N_ELEMENTS (install_plan_fields), r);
  if (r->has_encryption)
    g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_ENCRYPTION, encryption_to_variant (r->encryption));
  add_fields (&b, install_unlock_fields, G_N_ELEMENTS (install_unlock_fields), r);
  return g_variant_builder_end (&b);
}

gboolean
imprint_install_request_from_variant (GVariant *v, ImprintInstallRequest *r, GError **error)
{
  if (check_dict (v, error) &&
      parse_fields (v, install_head_fields, G_N_ELEMENTS (install_head_fields), r, error) &&
      parse_mode (v, &r->mode, error) &&
      parse_fields (v, install_plan_fields, G_N_ELEMENTS (install_plan_fields), r, error) &&
      parse_encryption (v, r, error) &&
      parse_fields (v, install_unlock_fields, G_N_ELEMENTS (install_unlock_fields), r, error))
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
  clear_fields (setup_system_fields, G_N_ELEMENTS (setup_system_fields), r);
  clear_fields (setup_user_fields, G_N_ELEMENTS (setup_user_fields), &r->user);
  clear_fields (setup_disk_fields, G_N_ELEMENTS (setup_disk_fields), r);
  clear_fields (setup_option_fields, G_N_ELEMENTS (setup_option_fields), r);
  imprint_setup_request_init (r);
}

void
imprint_setup_request_to_variant (const ImprintSetupRequest *r, GVariant **ret_settings, GVariant **ret_options)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  add_fields (&b, setup_system_fields, G_N_ELEMENTS (setup_system_fields), r);
  if (r->has_user)
    {
      GVariantBuilder u;

      g_variant_builder_init (&u, G_VARIANT_TYPE_VARDICT);
      add_fields (&u, setup_user_fields, G_N_ELEMENTS (setup_user_fields), &r->user);
      g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_USER, g_variant_builder_end (&u));
    }
  add_fields (&b, setup_disk_fields, G_N_ELEMENTS (setup_disk_fields), r);
  *ret_settings = g_variant_builder_end (&b);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  add_fields (&b, setup_option_fields, G_N_ELEMENTS (setup_option_fields), r);
  *ret_options = g_variant_builder_end (&b);
}

static gboolean
parse_setup_user (GVariant *settings, ImprintSetupRequest *r, GError **error)
{
  g_autoptr(GVariant) user = NULL;

  if (!lookup_typed (settings, IMPRINT_KEY_USER, G_VARIANT_TYPE_VARDICT, &user, error))
    return FALSE;
  if (user == NULL)
    return TRUE;
  r->has_user = TRUE;
  return check_dict (user, error) &&
         parse_fields (user, setup_user_fields, G_N_ELEMENTS (setup_user_fields), &r->user, error);
}

gboolean
imprint_setup_request_from_variant (GVariant *settings, GVariant *options, ImprintSetupRequest *r,
                                    GError **error)
{
  if (check_dict (settings, error) && check_dict (options, error) &&
      parse_fields (options, setup_option_fields, G_N_ELEMENTS (setup_option_fields), r, error) &&
      parse_fields (settings, setup_system_fields, G_N_ELEMENTS (setup_system_fields), r, error) &&
      parse_setup_user (settings, r, error) &&
      parse_fields (settings, setup_disk_fields, G_N_ELEMENTS (setup_disk_fields), r, error))
    return TRUE;
  imprint_setup_request_clear (r);
  return FALSE;
}

/* ---- The plan reply ----------------------------------------------------- */

#define P(key, kind, member) FIELD (ImprintPlanPartitionInfo, key, kind, member)
static const Field partition_fields[] = {
  P (IMPRINT_KEY_TYPE, FIELD_TEXT, type),
  P (IMPRINT_KEY_TYPE_NAME, FIELD_TEXT, type_name),
  P (IMPRINT_KEY_LABEL, FIELD_TEXT, label),
  P (IMPRINT_KEY_UUID, FIELD_TEXT, uuid),
  P (IMPRINT_KEY_SOURCE, FIELD_TEXT, source),
  P (IMPRINT_KEY_ACTION, FIELD_TEXT, action),
};
#undef P

#define Q(key, kind, member) FIELD (ImprintPlanInfo, key, kind, member)
static const Field plan_text_fields[] = {
  Q (IMPRINT_KEY_SUMMARY, FIELD_TEXT, summary),
  Q (IMPRINT_KEY_TARGET, FIELD_TEXT, target),
};
static const Field plan_source_fields[] = {
  Q (IMPRINT_KEY_NAME, FIELD_TEXT, name),
  Q (IMPRINT_KEY_VERSION, FIELD_TEXT, version),
};
#undef Q

static void
partition_free (ImprintPlanPartitionInfo *p)
{
  clear_fields (partition_fields, G_N_ELEMENTS (partition_fields), p);
  g_free (p);
}

/* NULL strings as "": readers need not check. */
static void
fill_empty (const Field *fields, gsize n, void *base)
{
  for (gsize i = 0; i < n; i++)
    if (*MEMBER (base, &fields[i], char *) == NULL)
      *MEMBER (base, &fields[i], char *) = g_strdup ("");
}

static const char *
or_empty (const char *s)
{
  return s != NULL ? s : "";
}

void
imprint_plan_info_init (ImprintPlanInfo *p)
{
  memset (p, 0, sizeof *p);
  p->partitions = g_ptr_array_new_with_free_func ((GDestroyNotify) partition_free);
}

void
imprint_plan_info_clear (ImprintPlanInfo *p)
{
  g_clear_pointer (&p->partitions, g_ptr_array_unref);
  g_clear_pointer (&p->erased, g_strfreev);
  clear_fields (plan_text_fields, G_N_ELEMENTS (plan_text_fields), p);
  clear_fields (plan_source_fields, G_N_ELEMENTS (plan_source_fields), p);
  imprint_plan_info_init (p);
}

ImprintPlanPartitionInfo *
imprint_plan_info_add_partition (ImprintPlanInfo *p)
{
  ImprintPlanPartitionInfo *part = g_new0 (ImprintPlanPartitionInfo, 1);

  g_ptr_array_add (p->partitions, part);
  return part;
}

static GVariant *
partition_to_variant (const ImprintPlanPartitionInfo *p)
{
  GVariantBuilder e;

  /* The order imprint_plan_to_variant() always used. */
  g_variant_builder_init (&e, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&e, "{sv}", IMPRINT_KEY_NUMBER, g_variant_new_uint32 (p->number));
  g_variant_builder_add (&e, "{sv}", IMPRINT_KEY_TYPE, g_variant_new_string (or_empty (p->type)));
  g_variant_builder_add (&e, "{sv}", IMPRINT_KEY_TYPE_NAME, g_variant_new_string (or_empty (p->type_name)));
  g_variant_builder_add (&e, "{sv}", IMPRINT_KEY_LABEL, g_variant_new_string (or_empty (p->label)));
  g_variant_builder_add (&e, "{sv}", IMPRINT_KEY_UUID, g_variant_new_string (or_empty (p->uuid)));
  g_variant_builder_add (&e, "{sv}", IMPRINT_KEY_START, g_variant_new_uint64 (p->start));
  g_variant_builder_add (&e, "{sv}", IMPRINT_KEY_SIZE, g_variant_new_uint64 (p->size));
  g_variant_builder_add (&e, "{sv}", IMPRINT_KEY_SOURCE, g_variant_new_string (or_empty (p->source)));
  g_variant_builder_add (&e, "{sv}", IMPRINT_KEY_ACTION, g_variant_new_string (or_empty (p->action)));
  return g_variant_builder_end (&e);
}

GVariant *
imprint_plan_info_to_variant (const ImprintPlanInfo *p)
{
  const char * const empty[] = { NULL };
  GVariantBuilder b, parts;

  g_variant_builder_init (&parts, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; p->partitions != NULL && i < p->partitions->len; i++)
    g_variant_builder_add_value (&parts, partition_to_variant (p->partitions->pdata[i]));

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_PARTITIONS, g_variant_builder_end (&parts));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_ERASED,
                         g_variant_new_strv (p->erased != NULL ? (const char * const *) p->erased : empty, -1));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_SUMMARY, g_variant_new_string (or_empty (p->summary)));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_MODE, g_variant_new_string (mode_to_string (p->mode)));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_TARGET, g_variant_new_string (or_empty (p->target)));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_TARGET_SIZE, g_variant_new_uint64 (p->target_size));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_DEFER_DATA_PARTITIONS,
                         g_variant_new_boolean (p->defer_data_partitions));
  if (p->name != NULL || p->version != NULL)
    {
      g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_NAME, g_variant_new_string (or_empty (p->name)));
      g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_VERSION, g_variant_new_string (or_empty (p->version)));
    }
  return g_variant_builder_end (&b);
}

/* A number or size, absent = 0. */
static gboolean
lookup_number (GVariant *dict, const char *key, const GVariantType *type, guint64 *ret, GError **error)
{
  g_autoptr(GVariant) value = NULL;

  if (!lookup_typed (dict, key, type, &value, error))
    return FALSE;
  if (value != NULL)
    *ret = g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32) ? g_variant_get_uint32 (value)
                                                                : g_variant_get_uint64 (value);
  return TRUE;
}

static gboolean
parse_partition (GVariant *dict, ImprintPlanPartitionInfo *p, GError **error)
{
  guint64 number = 0;

  if (!check_dict (dict, error) ||
      !lookup_number (dict, IMPRINT_KEY_NUMBER, G_VARIANT_TYPE_UINT32, &number, error) ||
      !lookup_number (dict, IMPRINT_KEY_START, G_VARIANT_TYPE_UINT64, &p->start, error) ||
      !lookup_number (dict, IMPRINT_KEY_SIZE, G_VARIANT_TYPE_UINT64, &p->size, error) ||
      !parse_fields (dict, partition_fields, G_N_ELEMENTS (partition_fields), p, error))
    return FALSE;
  p->number = (guint32) number;
  fill_empty (partition_fields, G_N_ELEMENTS (partition_fields), p);
  return TRUE;
}

static gboolean
parse_plan_partitions (GVariant *dict, ImprintPlanInfo *p, GError **error)
{
  g_autoptr(GVariant) parts = NULL;
  gsize n;

  if (!lookup_typed (dict, IMPRINT_KEY_PARTITIONS, G_VARIANT_TYPE ("aa{sv}"), &parts, error))
    return FALSE;
  n = parts != NULL ? g_variant_n_children (parts) : 0;
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (parts, i);

      if (!parse_partition (child, imprint_plan_info_add_partition (p), error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_plan_scalars (GVariant *dict, ImprintPlanInfo *p, GError **error)
{
  g_autoptr(GVariant) erased = NULL, defer = NULL;
  const char * const empty[] = { NULL };

  if (!lookup_typed (dict, IMPRINT_KEY_ERASED, G_VARIANT_TYPE_STRING_ARRAY, &erased, error) ||
      !lookup_typed (dict, IMPRINT_KEY_DEFER_DATA_PARTITIONS, G_VARIANT_TYPE_BOOLEAN, &defer, error) ||
      !lookup_number (dict, IMPRINT_KEY_TARGET_SIZE, G_VARIANT_TYPE_UINT64, &p->target_size, error) ||
      !parse_mode (dict, &p->mode, error) ||
      !parse_fields (dict, plan_text_fields, G_N_ELEMENTS (plan_text_fields), p, error) ||
      !parse_fields (dict, plan_source_fields, G_N_ELEMENTS (plan_source_fields), p, error))
    return FALSE;
  p->erased = erased != NULL ? g_variant_dup_strv (erased, NULL) : g_strdupv ((char **) empty);
  p->defer_data_partitions = defer != NULL && g_variant_get_boolean (defer);
  fill_empty (plan_text_fields, G_N_ELEMENTS (plan_text_fields), p);
  return TRUE;
}

gboolean
imprint_plan_info_from_variant (GVariant *v, ImprintPlanInfo *p, GError **error)
{
  /* From imprintd, not from a caller: no bounds on the words, but the
   * types are checked all the same. */
  if (v != NULL && !g_variant_is_of_type (v, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("The plan is not a dictionary of type a{sv}."));
      imprint_plan_info_clear (p);
      return FALSE;
    }
  if (parse_plan_partitions (v, p, error) && parse_plan_scalars (v, p, error))
    return TRUE;
  imprint_plan_info_clear (p);
  return FALSE;
}
