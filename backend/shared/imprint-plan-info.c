/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PlanInstall reply (imprint-request.h, ImprintPlanInfo): built as
 * the engine always built it, read by imprintctl and the app. It comes
 * from imprintd, so its words are not bounded, but every type is checked. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "imprint-error.h"
#include "imprint-request-fields.h"

#define P(key, kind, member) FIELD (ImprintPlanPartitionInfo, key, kind, member)
static const Field partition_fields[] = {
  P (IMPRINT_KEY_TYPE, FIELD_TEXT, type),
  P (IMPRINT_KEY_TYPE_NAME, FIELD_TEXT, type_name),
  P (IMPRINT_KEY_LABEL, FIELD_TEXT, label),
  P (IMPRINT_KEY_UUID, FIELD_TEXT, uuid),
  P (IMPRINT_KEY_SOURCE, FIELD_TEXT, source),
  P (IMPRINT_KEY_ACTION, FIELD_TEXT, action),
  P (IMPRINT_KEY_CONTENT, FIELD_TEXT, content),
  P (IMPRINT_KEY_DEFINITION, FIELD_TEXT, definition),
};
#undef P

#define Q(key, kind, member) FIELD (ImprintPlanInfo, key, kind, member)
static const Field plan_text_fields[] = {
  Q (IMPRINT_KEY_SUMMARY, FIELD_TEXT, summary),
  Q (IMPRINT_KEY_TARGET, FIELD_TEXT, target),
};
static const Field plan_definitions_fields[] = {
  Q (IMPRINT_KEY_DEFINITIONS_SOURCE, FIELD_TEXT, definitions_source),
  Q (IMPRINT_KEY_DEFINITIONS_DIRECTORY, FIELD_TEXT, definitions_directory),
};
static const Field plan_source_fields[] = {
  Q (IMPRINT_KEY_NAME, FIELD_TEXT, name),
  Q (IMPRINT_KEY_VERSION, FIELD_TEXT, version),
};
#undef Q

static void
partition_free (ImprintPlanPartitionInfo *p)
{
  imprint_fields_clear (partition_fields, G_N_ELEMENTS (partition_fields), p);
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
  p->erased_partitions = g_ptr_array_new_with_free_func ((GDestroyNotify) partition_free);
}

void
imprint_plan_info_clear (ImprintPlanInfo *p)
{
  g_clear_pointer (&p->partitions, g_ptr_array_unref);
  g_clear_pointer (&p->erased_partitions, g_ptr_array_unref);
  g_clear_pointer (&p->erased, g_strfreev);
  imprint_fields_clear (plan_definitions_fields, G_N_ELEMENTS (plan_definitions_fields), p);
  imprint_fields_clear (plan_text_fields, G_N_ELEMENTS (plan_text_fields), p);
  imprint_fields_clear (plan_source_fields, G_N_ELEMENTS (plan_source_fields), p);
  imprint_plan_info_init (p);
}

ImprintPlanPartitionInfo *
imprint_plan_info_add_partition (ImprintPlanInfo *p)
{
  ImprintPlanPartitionInfo *part = g_new0 (ImprintPlanPartitionInfo, 1);

  g_ptr_array_add (p->partitions, part);
  return part;
}

ImprintPlanPartitionInfo *
imprint_plan_info_add_erased (ImprintPlanInfo *p)
{
  ImprintPlanPartitionInfo *part = g_new0 (ImprintPlanPartitionInfo, 1);

  g_ptr_array_add (p->erased_partitions, part);
  return part;
}

static void
add_flag (GVariantBuilder *b, const char *key, gboolean value)
{
  if (value)
    g_variant_builder_add (b, "{sv}", key, g_variant_new_boolean (TRUE));
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
  g_variant_builder_add (&e, "{sv}", IMPRINT_KEY_CONTENT, g_variant_new_string (or_empty (p->content)));
  if (p->definition != NULL && *p->definition != '\0')
    g_variant_builder_add (&e, "{sv}", IMPRINT_KEY_DEFINITION, g_variant_new_string (p->definition));
  add_flag (&e, IMPRINT_KEY_ADDS_BOOT_LOADER, p->adds_boot_loader);
  add_flag (&e, IMPRINT_KEY_ADDS_KERNELS, p->adds_kernels);
  add_flag (&e, IMPRINT_KEY_LEFTOVER, p->leftover);
  if (p->shrink_from != 0)
    g_variant_builder_add (&e, "{sv}", IMPRINT_KEY_SHRINK_FROM, g_variant_new_uint64 (p->shrink_from));
  return g_variant_builder_end (&e);
}

/* An erased partition: only what identifies it to a person. */
static GVariant *
erased_to_variant (const ImprintPlanPartitionInfo *e)
{
  GVariantBuilder d;

  g_variant_builder_init (&d, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&d, "{sv}", IMPRINT_KEY_NUMBER, g_variant_new_uint32 (e->number));
  g_variant_builder_add (&d, "{sv}", IMPRINT_KEY_LABEL, g_variant_new_string (or_empty (e->label)));
  g_variant_builder_add (&d, "{sv}", IMPRINT_KEY_TYPE_NAME, g_variant_new_string (or_empty (e->type_name)));
  g_variant_builder_add (&d, "{sv}", IMPRINT_KEY_SIZE, g_variant_new_uint64 (e->size));
  return g_variant_builder_end (&d);
}

GVariant *
imprint_plan_info_to_variant (const ImprintPlanInfo *p)
{
  const char * const empty[] = { NULL };
  GVariantBuilder b, parts, erased_parts;

  g_variant_builder_init (&parts, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; p->partitions != NULL && i < p->partitions->len; i++)
    g_variant_builder_add_value (&parts, partition_to_variant (p->partitions->pdata[i]));
  g_variant_builder_init (&erased_parts, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; p->erased_partitions != NULL && i < p->erased_partitions->len; i++)
    g_variant_builder_add_value (&erased_parts, erased_to_variant (p->erased_partitions->pdata[i]));

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_PARTITIONS, g_variant_builder_end (&parts));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_ERASED,
                         g_variant_new_strv (p->erased != NULL ? (const char * const *) p->erased : empty, -1));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_SUMMARY, g_variant_new_string (or_empty (p->summary)));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_MODE, g_variant_new_string (imprint_fields_mode_to_string (p->mode)));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_TARGET, g_variant_new_string (or_empty (p->target)));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_TARGET_SIZE, g_variant_new_uint64 (p->target_size));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_DEFER_DATA_PARTITIONS,
                         g_variant_new_boolean (p->defer_data_partitions));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_ERASED_PARTITIONS, g_variant_builder_end (&erased_parts));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_DEFINITIONS_SOURCE,
                         g_variant_new_string (or_empty (p->definitions_source)));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_DEFINITIONS_DIRECTORY,
                         g_variant_new_string (or_empty (p->definitions_directory)));
  /* Only when true: replies stay as they were for everyone else. */
  if (p->source_read_twice)
    g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_SOURCE_READ_TWICE, g_variant_new_boolean (TRUE));
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

  if (!imprint_fields_lookup (dict, key, type, &value, error))
    return FALSE;
  if (value != NULL)
    *ret = g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32) ? g_variant_get_uint32 (value)
                                                                : g_variant_get_uint64 (value);
  return TRUE;
}

/* A flag, absent = FALSE. */
static gboolean
lookup_flag (GVariant *dict, const char *key, gboolean *ret, GError **error)
{
  g_autoptr(GVariant) value = NULL;

  if (!imprint_fields_lookup (dict, key, G_VARIANT_TYPE_BOOLEAN, &value, error))
    return FALSE;
  *ret = value != NULL && g_variant_get_boolean (value);
  return TRUE;
}

/* A number, absent = 0. */
static gboolean
lookup_optional_u64 (GVariant *dict, const char *key, guint64 *ret, GError **error)
{
  g_autoptr(GVariant) value = NULL;

  if (!imprint_fields_lookup (dict, key, G_VARIANT_TYPE_UINT64, &value, error))
    return FALSE;
  *ret = value != NULL ? g_variant_get_uint64 (value) : 0;
  return TRUE;
}

static gboolean
parse_partition (GVariant *dict, ImprintPlanPartitionInfo *p, GError **error)
{
  guint64 number = 0;

  if (!imprint_fields_check_dict (dict, error) ||
      !lookup_number (dict, IMPRINT_KEY_NUMBER, G_VARIANT_TYPE_UINT32, &number, error) ||
      !lookup_number (dict, IMPRINT_KEY_START, G_VARIANT_TYPE_UINT64, &p->start, error) ||
      !lookup_number (dict, IMPRINT_KEY_SIZE, G_VARIANT_TYPE_UINT64, &p->size, error) ||
      !lookup_flag (dict, IMPRINT_KEY_ADDS_BOOT_LOADER, &p->adds_boot_loader, error) ||
      !lookup_flag (dict, IMPRINT_KEY_ADDS_KERNELS, &p->adds_kernels, error) ||
      !lookup_flag (dict, IMPRINT_KEY_LEFTOVER, &p->leftover, error) ||
      !lookup_optional_u64 (dict, IMPRINT_KEY_SHRINK_FROM, &p->shrink_from, error) ||
      !imprint_fields_parse (dict, partition_fields, G_N_ELEMENTS (partition_fields), p, error))
    return FALSE;
  p->number = (guint32) number;
  fill_empty (partition_fields, G_N_ELEMENTS (partition_fields), p);
  return TRUE;
}

static gboolean
parse_partition_list (GVariant *dict, const char *key, ImprintPlanInfo *p,
                      ImprintPlanPartitionInfo *(*add) (ImprintPlanInfo *), GError **error)
{
  g_autoptr(GVariant) parts = NULL;
  gsize n;

  if (!imprint_fields_lookup (dict, key, G_VARIANT_TYPE ("aa{sv}"), &parts, error))
    return FALSE;
  n = parts != NULL ? g_variant_n_children (parts) : 0;
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (parts, i);

      if (!parse_partition (child, add (p), error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_plan_partitions (GVariant *dict, ImprintPlanInfo *p, GError **error)
{
  return parse_partition_list (dict, IMPRINT_KEY_PARTITIONS, p, imprint_plan_info_add_partition, error) &&
         parse_partition_list (dict, IMPRINT_KEY_ERASED_PARTITIONS, p, imprint_plan_info_add_erased, error);
}

static gboolean
parse_plan_scalars (GVariant *dict, ImprintPlanInfo *p, GError **error)
{
  g_autoptr(GVariant) erased = NULL, defer = NULL, twice = NULL;
  const char * const empty[] = { NULL };

  if (!imprint_fields_lookup (dict, IMPRINT_KEY_ERASED, G_VARIANT_TYPE_STRING_ARRAY, &erased, error) ||
      !imprint_fields_lookup (dict, IMPRINT_KEY_DEFER_DATA_PARTITIONS, G_VARIANT_TYPE_BOOLEAN, &defer, error) ||
      !imprint_fields_lookup (dict, IMPRINT_KEY_SOURCE_READ_TWICE, G_VARIANT_TYPE_BOOLEAN, &twice, error) ||
      !lookup_number (dict, IMPRINT_KEY_TARGET_SIZE, G_VARIANT_TYPE_UINT64, &p->target_size, error) ||
      !imprint_fields_parse_mode (dict, &p->mode, error) ||
      !imprint_fields_parse (dict, plan_text_fields, G_N_ELEMENTS (plan_text_fields), p, error) ||
      !imprint_fields_parse (dict, plan_source_fields, G_N_ELEMENTS (plan_source_fields), p, error) ||
      !imprint_fields_parse (dict, plan_definitions_fields, G_N_ELEMENTS (plan_definitions_fields), p, error))
    return FALSE;
  fill_empty (plan_definitions_fields, G_N_ELEMENTS (plan_definitions_fields), p);
  p->erased = erased != NULL ? g_variant_dup_strv (erased, NULL) : g_strdupv ((char **) empty);
  p->defer_data_partitions = defer != NULL && g_variant_get_boolean (defer);
  p->source_read_twice = twice != NULL && g_variant_get_boolean (twice);
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
