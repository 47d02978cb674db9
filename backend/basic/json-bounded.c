/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib/gi18n.h>
#include <sys/stat.h>

#include "json-bounded.h"
#include "macros.h"

int
imprint_json_check_bounds (const char *data, gssize len, gsize max_bytes, guint max_depth)
{
  enum { OUTSIDE, IN_STRING, IN_ESCAPE } state = OUTSIDE;
  gsize n;
  guint depth = 0;

  if (data == NULL)
    return -EBADMSG;
  /* A NUL-terminated string is measured only up to the cap: the caller
   * may hand us megabytes, and the answer is the same. */
  n = len < 0 ? strnlen (data, max_bytes + 1) : (gsize) len;
  if (n > max_bytes)
    return -EFBIG;
  /* Also refuses an embedded NUL, which would cut json-glib's view short. */
  if (!g_utf8_validate_len (data, n, NULL))
    return -EBADMSG;

  for (gsize i = 0; i < n; i++)
    {
      char c = data[i];

      switch (state)
        {
        case IN_ESCAPE:
          state = IN_STRING;   /* \" and \\ do not end or start anything */
          break;
        case IN_STRING:
          if (c == '\\')
            state = IN_ESCAPE;
          else if (c == '"')
            state = OUTSIDE;
          break;
        case OUTSIDE:
          if (c == '"')
            state = IN_STRING;
          else if (c == '[' || c == '{')
            {
              if (++depth > max_depth)
                return -ELOOP;
            }
          else if (c == ']' || c == '}')
            {
              if (depth == 0)
                return -EBADMSG;
              depth--;
            }
          break;
        }
    }
  /* Unclosed strings or brackets: json-glib would refuse them anyway, but
   * saying so here keeps the two views of the bytes the same. */
  if (state != OUTSIDE || depth != 0)
    return -EBADMSG;
  return 0;
}

JsonNode *
imprint_json_parse_bounded (const char *data, gssize len, gsize max_bytes, guint max_depth,
                            GError **error)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonNode *root;
  int r;

  r = imprint_json_check_bounds (data, len, max_bytes, max_depth);
  if (r == -EFBIG)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   _("JSON larger than %" G_GSIZE_FORMAT " bytes"), max_bytes);
      return NULL;
    }
  if (r == -ELOOP)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_LINKS,
                   _("JSON nested deeper than %u levels"), max_depth);
      return NULL;
    }
  if (r < 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("Not JSON: invalid UTF-8, a NUL byte or unbalanced brackets"));
      return NULL;
    }

  /* Not immutable: json-glib 1.6 would otherwise allocate a separate
   * JsonNode for each seal. */
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, len < 0 ? -1 : len, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE, _("Empty JSON"));
      return NULL;
    }
  return json_node_copy (root);
}

JsonNode *
imprint_json_parse (const char *data, GError **error)
{
  return imprint_json_parse_bounded (data, -1, IMPRINT_JSON_MAX_BYTES, IMPRINT_JSON_MAX_DEPTH, error);
}

JsonObject *
imprint_json_parse_object (const char *data, gssize len, gsize max_bytes, JsonNode **ret_root,
                           GError **error)
{
  g_autoptr(JsonNode) root = imprint_json_parse_bounded (data, len, max_bytes,
                                                         IMPRINT_JSON_MAX_DEPTH, error);
  JsonObject *o;

  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
                           _("The JSON is not an object"));
      return NULL;
    }
  o = json_node_get_object (root);
  *ret_root = g_steal_pointer (&root);
  return o;
}

JsonNode *
imprint_json_parse_fd (int fd, gsize max_bytes, GError **error)
{
  g_autofree char *buf = NULL;
  gsize n = 0, cap;
  struct stat st;

  if (fstat (fd, &st) < 0)
    {
      int r = -errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (-r), "%s", g_strerror (-r));
      return NULL;
    }
  /* Never a FIFO or a device: reading those may block or never end. */
  if (!S_ISREG (st.st_mode))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, _("Not a regular file"));
      return NULL;
    }
  if (max_bytes >= G_MAXSIZE - 2)
    max_bytes = G_MAXSIZE - 3;
  /* Room for what fstat claims (capped), plus one byte that tells "too
   * large" from "exactly the cap"; the file may grow while we read, so the
   * claim only sizes the first buffer. */
  cap = MIN ((gsize) MAX (st.st_size, 0), max_bytes) + 1;
  buf = g_malloc (cap + 1);
  while (n < cap)
    {
      ssize_t k = read (fd, buf + n, cap - n);

      if (k < 0)
        {
          int r = errno;
          if (r == EINTR)
            continue;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (r), "%s", g_strerror (r));
          return NULL;
        }
      if (k == 0)
        break;
      n += (gsize) k;
      if (n == cap && cap <= max_bytes)
        {
          cap = max_bytes + 1;
          buf = g_realloc (buf, cap + 1);
        }
    }
  if (n > max_bytes)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   _("JSON larger than %" G_GSIZE_FORMAT " bytes"), max_bytes);
      return NULL;
    }
  buf[n] = '\0';
  return imprint_json_parse_bounded (buf, (gssize) n, max_bytes, IMPRINT_JSON_MAX_DEPTH, error);
}

JsonNode *
imprint_json_parse_file (const char *path, gsize max_bytes, GError **error)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

  if (fd < 0)
    {
      int r = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (r), "%s: %s", path, g_strerror (r));
      return NULL;
    }
  return imprint_json_parse_fd (fd, max_bytes, error);
}

const char *
imprint_json_object_get_string (JsonObject *o, const char *member)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, member) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}
