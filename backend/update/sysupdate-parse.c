/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>

#include "json-bounded.h"
#include "imprint-error.h"
#include "update.h"

/* systemd-sysupdate --json output: a few KiB; the changelog URLs and
 * versions in it come from the update server. */
#define IMPRINT_SYSUPDATE_MAX_JSON (16u * 1024u * 1024u)

/* What systemd-sysupdate 257 prints with --json=short (recorded samples in
 * tests/update/recorded-257). Older versions print tables even with --json;
 * the caller refuses those before it gets here. */

void
imprint_update_version_free (ImprintUpdateVersion *v)
{
  if (v == NULL)
    return;
  g_free (v->version);
  g_strfreev (v->changelog_urls);
  g_free (v);
}

GVariant *
imprint_update_version_to_variant (const ImprintUpdateVersion *v)
{
  GVariantBuilder b;
  const char *const empty[] = { NULL };

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "version", g_variant_new_string (v->version));
  g_variant_builder_add (&b, "{sv}", "newest", g_variant_new_boolean (v->newest));
  g_variant_builder_add (&b, "{sv}", "available", g_variant_new_boolean (v->available));
  g_variant_builder_add (&b, "{sv}", "installed", g_variant_new_boolean (v->installed));
  g_variant_builder_add (&b, "{sv}", "obsolete", g_variant_new_boolean (v->obsolete));
  g_variant_builder_add (&b, "{sv}", "protected", g_variant_new_boolean (v->protected_));
  g_variant_builder_add (&b, "{sv}", "incomplete", g_variant_new_boolean (v->incomplete));
  g_variant_builder_add (&b, "{sv}", "changelog-urls",
                         g_variant_new_strv (v->changelog_urls ? (const char *const *) v->changelog_urls : empty, -1));
  return g_variant_builder_end (&b);
}

static int
parse_object (const char *json, JsonNode **ret_root, JsonObject **ret_object)
{
  JsonNode *root;
  JsonObject *o;

  /* sysupdate's output carries what the update server's manifest says. */
  if (json == NULL)
    return -EBADMSG;
  o = imprint_json_parse_object (json, -1, IMPRINT_SYSUPDATE_MAX_JSON, &root, NULL);
  if (o == NULL)
    return -EBADMSG;
  *ret_root = root;
  *ret_object = o;
  return 0;
}

/* A member that is a string, or NULL (missing or null). -EBADMSG when it
 * is something else. */
static int
get_string (JsonObject *o, const char *name, const char **ret)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    {
      *ret = NULL;
      return 0;
    }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return -EBADMSG;
  *ret = json_node_get_string (n);
  return 0;
}

static int
get_strv (JsonObject *o, const char *name, char ***ret)
{
  JsonNode *n = json_object_get_member (o, name);
  g_autoptr(GPtrArray) v = g_ptr_array_new_with_free_func (g_free);
  JsonArray *a;

  if (n != NULL && !JSON_NODE_HOLDS_NULL (n))
    {
      if (!JSON_NODE_HOLDS_ARRAY (n))
        return -EBADMSG;
      a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
            return -EBADMSG;
          g_ptr_array_add (v, g_strdup (json_node_get_string (e)));
        }
    }
  g_ptr_array_add (v, NULL);
  *ret = (char **) g_ptr_array_free (g_steal_pointer (&v), FALSE);
  return 0;
}

static gboolean
get_bool (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN &&
         json_node_get_boolean (n);
}

int
imprint_sysupdate_parse_list (const char *json, char **ret_current, char ***ret_all)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o;
  const char *current;
  g_auto(GStrv) all = NULL;
  int r;

  r = parse_object (json, &root, &o);
  if (r < 0)
    return r;
  if (!json_object_has_member (o, "all"))
    return -EBADMSG;
  r = get_string (o, "current", &current);
  if (r < 0)
    return r;
  r = get_strv (o, "all", &all);
  if (r < 0)
    return r;
  if (ret_current)
    *ret_current = g_strdup (current);
  if (ret_all)
    *ret_all = g_steal_pointer (&all);
  return 0;
}

int
imprint_sysupdate_parse_version (const char *json, ImprintUpdateVersion **ret)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(ImprintUpdateVersion) v = g_new0 (ImprintUpdateVersion, 1);
  JsonObject *o;
  const char *version;
  int r;

  r = parse_object (json, &root, &o);
  if (r < 0)
    return r;
  r = get_string (o, "version", &version);
  if (r < 0)
    return r;
  if (version == NULL || *version == '\0')
    return -EBADMSG;
  v->version = g_strdup (version);
  v->newest = get_bool (o, "newest");
  v->available = get_bool (o, "available");
  v->installed = get_bool (o, "installed");
  v->obsolete = get_bool (o, "obsolete");
  v->protected_ = get_bool (o, "protected");
  v->incomplete = get_bool (o, "incomplete");
  r = get_strv (o, "changelogUrls", &v->changelog_urls);
  if (r < 0)
    return r;
  *ret = g_steal_pointer (&v);
  return 0;
}

int
imprint_sysupdate_parse_check_new (const char *json, char **ret_available)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o;
  const char *available;
  int r;

  r = parse_object (json, &root, &o);
  if (r < 0)
    return r;
  if (!json_object_has_member (o, "available"))
    return -EBADMSG;
  r = get_string (o, "available", &available);
  if (r < 0)
    return r;
  *ret_available = g_strdup (available);
  return 0;
}

int
imprint_sysupdate_parse_notify (const char *datagram, int *ret_percent, char **ret_version)
{
  g_auto(GStrv) lines = g_strsplit (datagram, "\n", -1);
  int percent = -1;
  g_autofree char *version = NULL;

  for (gsize i = 0; lines[i] != NULL; i++)
    {
      const char *l = lines[i];

      if (g_str_has_prefix (l, "X_SYSUPDATE_PROGRESS="))
        {
          char *end;
          long p;

          errno = 0;
          p = strtol (l + strlen ("X_SYSUPDATE_PROGRESS="), &end, 10);
          if (errno == 0 && *end == '\0' && p >= 0 && p <= 100)
            percent = (int) p;
        }
      else if (g_str_has_prefix (l, "X_SYSUPDATE_VERSION="))
        {
          g_free (version);
          version = g_strdup (l + strlen ("X_SYSUPDATE_VERSION="));
        }
    }
  *ret_percent = percent;
  *ret_version = g_strdup (version);
  return percent >= 0 || version != NULL;
}

int
imprint_sysupdate_parse_systemd_version (const char *text)
{
  long v;
  char *end;

  if (text == NULL || !g_str_has_prefix (text, "systemd "))
    return -EBADMSG;
  errno = 0;
  v = strtol (text + strlen ("systemd "), &end, 10);
  if (errno != 0 || end == text + strlen ("systemd ") || v <= 0 || v > 100000)
    return -EBADMSG;
  return (int) v;
}

gboolean
imprint_sysupdate_version_is_valid (const char *version)
{
  gsize n;

  if (version == NULL || !g_ascii_isalnum (version[0]))
    return FALSE;
  /* A file name part in sysupdate: keep it well below NAME_MAX. */
  n = strnlen (version, 129);
  if (n > 128)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (version[i]) && strchr (".,_-+~^", version[i]) == NULL)
      return FALSE;
  return TRUE;
}

/* sysupdate logs in English; what it said decides the sentence we show. */
char *
imprint_sysupdate_explain_failure (const char *log_text, int exit_status)
{
  g_auto(GStrv) lines = NULL;
  const char *last = NULL;

  if (log_text == NULL)
    log_text = "";
  if (strstr (log_text, "Could not resolve") || strstr (log_text, "Failed to resolve host") ||
      strstr (log_text, "Couldn't connect") || strstr (log_text, "Network is unreachable") ||
      strstr (log_text, "Connection refused") || strstr (log_text, "Connection timed out"))
    return g_strdup (_("The update server cannot be reached. Check the network connection and try again."));
  if (strstr (log_text, "Signature verification failed") || strstr (log_text, "DOWNLOAD INVALID") ||
      strstr (log_text, "SHA256SUMS.gpg") || strstr (log_text, "checksum"))
    return g_strdup (_("The update was refused because its signature or checksum is not valid. Nothing was installed."));
  if (strstr (log_text, "No space left on device") || strstr (log_text, "No available partition of a suitable size") ||
      strstr (log_text, "less than two partition slots"))
    return g_strdup (_("There is no free space for the update: the disk has no free system slot of the right size."));
  if (strstr (log_text, "No transfer definitions"))
    return g_strdup (_("This system has no update definitions (sysupdate.d)."));
  if (strstr (log_text, "not found"))
    {
      lines = g_strsplit (log_text, "\n", -1);
      for (gsize i = 0; lines[i]; i++)
        if (g_str_has_prefix (lines[i], "Update '") && strstr (lines[i], "not found"))
          return g_strdup (_("That version is not available from the update source."));
      g_clear_pointer (&lines, g_strfreev);   /* found by fuzz-sysupdate: leaked */
    }

  lines = g_strsplit (log_text, "\n", -1);
  for (gsize i = 0; lines[i]; i++)
    if (*g_strstrip (lines[i]) != '\0')
      last = lines[i];
  if (last != NULL)
    return g_strdup_printf (_("The update failed: %s"), last);
  return g_strdup_printf (_("The update failed (systemd-sysupdate exited with status %d)."), exit_status);
}
