/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* LUKS2 tokens: importing one, listing them (the JSON comes from a disk
 * header: bounded and checked), the keyslots no token covers, removing a
 * token with its keyslots. */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "json-bounded.h"
#include "luks.h"
#include "luks-private.h"
#include "macros.h"
#include "recovery-key.h"
#include "secret.h"
#include "cleanup-cryptsetup.h"

int
imprint_luks_token_import (struct crypt_device *cd,
                           int keyslot,
                           JsonObject *token,
                           int *ret_token)
{
  g_autoptr (JsonObject) copy = json_object_new ();
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonArray) keyslots = json_array_new ();
  g_autoptr (GList) members = NULL;
  g_autofree char *json = NULL;
  const char *type;
  int t;

  if (!cd || !token || keyslot < 0)
    return -EINVAL;

  type = json_object_get_string_member_with_default (token, "type", NULL);
  if (!type || !*type)
    return -EINVAL;

  /* "type" first, then "keyslots" with exactly one decimal string (see
   * cryptsetup_get_keyslot_from_token() in systemd), then the rest. */
  json_object_set_string_member (copy, "type", type);
  {
    char num[16];
    g_snprintf (num, sizeof (num), "%i", keyslot);
    json_array_add_string_element (keyslots, num);
  }
  json_object_set_array_member (copy, "keyslots", g_steal_pointer (&keyslots));

  members = json_object_get_members (token);
  for (GList *l = members; l; l = l->next)
    {
      const char *name = l->data;

      if (g_str_equal (name, "type") || g_str_equal (name, "keyslots"))
        continue;
      json_object_set_member (copy, name, json_node_copy (json_object_get_member (token, name)));
    }

  node = json_node_init_object (json_node_alloc (), copy);
  json = json_to_string (node, FALSE);

  /* libcryptsetup validates the JSON here, through the type's token plugin
   * when one is installed (systemd's, for "systemd-*" types). */
  t = crypt_token_json_set (cd, CRYPT_ANY_TOKEN, json);
  if (t < 0)
    return t;

  if (ret_token)
    *ret_token = t;
  return 0;
}

static int
token_parse (struct crypt_device *cd, int id, ImprintLuksToken *ret)
{
  g_autoptr (JsonNode) node = NULL;
  g_autofree int *slots = NULL;
  JsonObject *o;
  JsonArray *a;
  const char *json, *type;
  size_t n = 0;
  int r;

  r = crypt_token_json_get (cd, id, &json);
  if (r < 0)
    return r;

  node = imprint_json_parse (json, NULL);
  if (!node || !JSON_NODE_HOLDS_OBJECT (node))
    return -EBADMSG;
  o = json_node_get_object (node);

  type = json_object_get_string_member_with_default (o, "type", NULL);
  if (!type)
    return -EBADMSG;

  a = json_object_has_member (o, "keyslots") ? json_object_get_array_member (o, "keyslots") : NULL;
  if (a)
    {
      slots = g_new0 (int, json_array_get_length (a) + 1);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          const char *s = json_node_get_string (json_array_get_element (a, i));
          guint64 v;

          if (!s || !g_ascii_string_to_unsigned (s, 10, 0, INT32_MAX, &v, NULL))
            return -EBADMSG;
          slots[n++] = (int) v;
        }
    }

  *ret = (ImprintLuksToken) {
    .id = id,
    .type = g_strdup (type),
    .keyslots = g_steal_pointer (&slots),
    .n_keyslots = n,
    .json = g_strdup (json),
  };
  return 0;
}

void
imprint_luks_tokens_free (ImprintLuksToken *tokens, size_t n)
{
  if (!tokens)
    return;
  for (size_t i = 0; i < n; i++)
    {
      g_free (tokens[i].type);
      g_free (tokens[i].keyslots);
      g_free (tokens[i].json);
    }
  g_free (tokens);
}

int
imprint_luks_list_tokens (struct crypt_device *cd, ImprintLuksToken **ret_tokens, size_t *ret_n)
{
  int max = crypt_token_max (CRYPT_LUKS2);
  ImprintLuksToken *tokens;
  size_t n = 0;

  if (!cd || max <= 0)
    return -EINVAL;

  tokens = g_new0 (ImprintLuksToken, max);
  for (int t = 0; t < max; t++)
    {
      crypt_token_info ti = crypt_token_status (cd, t, NULL);
      int r;

      if (ti == CRYPT_TOKEN_INVALID || ti == CRYPT_TOKEN_INACTIVE)
        continue;

      r = token_parse (cd, t, &tokens[n]);
      if (r < 0)
        {
          imprint_luks_tokens_free (tokens, n);
          return r;
        }
      n++;
    }

  *ret_tokens = tokens;
  *ret_n = n;
  return 0;
}

int
imprint_luks_list_plain_keyslots (struct crypt_device *cd, int **ret_keyslots, size_t *ret_n)
{
  int max = crypt_keyslot_max (CRYPT_LUKS2), max_tokens = crypt_token_max (CRYPT_LUKS2);
  g_autofree int *slots = NULL;
  size_t n = 0;

  if (!cd || max <= 0)
    return -EINVAL;

  slots = g_new0 (int, max);
  for (int i = 0; i < max; i++)
    {
      bool has_token = false;

      if (!imprint_luks_keyslot_is_active (cd, i))
        continue;
      for (int t = 0; t < max_tokens && !has_token; t++)
        has_token = crypt_token_is_assigned (cd, t, i) == 0;
      if (!has_token)
        slots[n++] = i;
    }

  *ret_keyslots = g_steal_pointer (&slots);
  *ret_n = n;
  return 0;
}

int
imprint_luks_remove_token (struct crypt_device *cd, int token)
{
  ImprintLuksToken t = { 0 };
  int r, remaining;

  if (!cd || token < 0)
    return -EINVAL;

  r = token_parse (cd, token, &t);
  if (r < 0)
    return r;

  remaining = imprint_luks_count_active_keyslots (cd);
  for (size_t i = 0; i < t.n_keyslots; i++)
    if (imprint_luks_keyslot_is_active (cd, t.keyslots[i]))
      remaining--;
  if (remaining <= 0)
    r = -EBUSY;
  else
    r = crypt_token_json_set (cd, token, NULL);
  for (size_t i = 0; r >= 0 && i < t.n_keyslots; i++)
    if (imprint_luks_keyslot_is_active (cd, t.keyslots[i]))
      r = imprint_luks_remove_keyslot (cd, t.keyslots[i]);

  g_free (t.type);
  g_free (t.keyslots);
  g_free (t.json);
  return r < 0 ? r : 0;
}
