/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The table-driven part of imprint-request.c and imprint-plan-info.c
 * (imprint-request-fields.h): one place that checks a caller's value
 * against its type and size, and writes it back. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

#include "imprint-error.h"
#include "imprint-request-fields.h"
#include "secret.h"

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

gboolean
imprint_fields_check_dict (GVariant *dict, GError **error)
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
gboolean
imprint_fields_lookup (GVariant *dict, const char *key, const GVariantType *type, GVariant **ret, GError **error)
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

  if (!imprint_fields_lookup (dict, f->key, field_type (f->kind), &value, error))
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

gboolean
imprint_fields_parse (GVariant *dict, const Field *fields, gsize n, void *base, GError **error)
{
  for (gsize i = 0; i < n; i++)
    if (!parse_field (dict, &fields[i], base, error))
      return FALSE;
  return TRUE;
}

/* ---- Building and freeing ----------------------------------------------- */

void
imprint_fields_add (GVariantBuilder *b, const Field *fields, gsize n, const void *base)
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

void
imprint_fields_clear (const Field *fields, gsize n, void *base)
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
gboolean
imprint_fields_parse_mode (GVariant *dict, ImprintRequestMode *ret, GError **error)
{
  g_autoptr(GVariant) value = NULL;
  const char *mode;

  if (!imprint_fields_lookup (dict, IMPRINT_KEY_MODE, G_VARIANT_TYPE_STRING, &value, error))
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

const char *
imprint_fields_mode_to_string (ImprintRequestMode mode)
{
  return mode == IMPRINT_REQUEST_MODE_FREE_SPACE ? IMPRINT_MODE_FREE_SPACE : IMPRINT_MODE_ERASE;
}

