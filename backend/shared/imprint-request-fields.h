/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Inside imprint-request.c and imprint-plan-info.c only: the table-driven
 * conversion of a{sv} entries to struct members and back. A Field says
 * which key goes where in a struct and as what; the functions below walk a
 * table of them. The checks (types, sizes) are those imprint-request.h
 * documents. */

#include <stddef.h>

#include "imprint-request.h"

G_BEGIN_DECLS

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

/* The member @field describes, in the struct at @base. */
#define MEMBER(base, field, type) ((type *) (void *) ((char *) (base) + (field)->offset))
#define CMEMBER(base, field, type) ((const type *) (const void *) ((const char *) (base) + (field)->offset))

/* NULL is an empty dictionary; else an a{sv} of at most
 * IMPRINT_REQUEST_ENTRIES_MAX entries. */
gboolean imprint_fields_check_dict (GVariant *dict, GError **error);
/* *ret = the value of @key (the first, as g_variant_lookup()), NULL when
 * absent; an error when it is there with another type than @type. */
gboolean imprint_fields_lookup (GVariant *dict, const char *key, const GVariantType *type,
                                GVariant **ret, GError **error);
/* Fills the members of @base that @fields name from @dict. */
gboolean imprint_fields_parse (GVariant *dict, const Field *fields, gsize n, void *base, GError **error);
/* Adds the members that are set (not absent) to @b, in table order. */
void     imprint_fields_add   (GVariantBuilder *b, const Field *fields, gsize n, const void *base);
/* Frees the members and sets them to "absent". */
void     imprint_fields_clear (const Field *fields, gsize n, void *base);

/* "mode" (absent leaves *ret alone), and back ("erase" for UNSET). */
gboolean    imprint_fields_parse_mode     (GVariant *dict, ImprintRequestMode *ret, GError **error);
const char *imprint_fields_mode_to_string (ImprintRequestMode mode);

G_END_DECLS
