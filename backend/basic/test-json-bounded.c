/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>

#include "json-bounded.h"

static char *
repeat (char c, gsize n)
{
  char *s = g_malloc (n + 1);
  memset (s, c, n);
  s[n] = '\0';
  return s;
}

static void
test_depth (void)
{
  g_autofree char *deep = NULL;
  GString *ok = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) n = NULL;

  /* Exactly the limit parses; one more level is refused before json-glib. */
  for (guint i = 0; i < 8; i++)
    g_string_append (ok, i % 2 ? "{\"a\":" : "[");
  g_string_append (ok, "1");
  for (guint i = 8; i > 0; i--)
    g_string_append (ok, (i - 1) % 2 ? "}" : "]");
  g_assert_cmpint (imprint_json_check_bounds (ok->str, -1, 1024, 8), ==, 0);
  g_assert_cmpint (imprint_json_check_bounds (ok->str, -1, 1024, 7), ==, -ELOOP);
  n = imprint_json_parse_bounded (ok->str, -1, 1024, 8, &error);
  g_assert_no_error (error);
  g_assert_nonnull (n);
  g_string_free (ok, TRUE);

  /* The crash of issue 13: megabytes of '[' (json-glib recursed per level). */
  deep = repeat ('[', 8 * 1024 * 1024);
  g_assert_null (imprint_json_parse_bounded (deep, -1, 16 * 1024 * 1024, IMPRINT_JSON_MAX_DEPTH, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_LINKS);
  g_clear_error (&error);
  g_assert_null (imprint_json_parse (deep, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
}

static void
test_strings (void)
{
  /* Brackets and escaped quotes inside strings do not count. */
  g_assert_cmpint (imprint_json_check_bounds ("{\"a\":\"[[[[{{{{\"}", -1, 100, 1), ==, 0);
  g_assert_cmpint (imprint_json_check_bounds ("{\"a\":\"\\\"[[[\"}", -1, 100, 1), ==, 0);
  g_assert_cmpint (imprint_json_check_bounds ("{\"a\":\"\\\\\"}", -1, 100, 1), ==, 0);
  /* ...but after an escaped backslash the quote ends the string. */
  g_assert_cmpint (imprint_json_check_bounds ("[\"\\\\\",[[]]]", -1, 100, 2), ==, -ELOOP);
  /* Unbalanced or unterminated. */
  g_assert_cmpint (imprint_json_check_bounds ("]", -1, 100, 4), ==, -EBADMSG);
  g_assert_cmpint (imprint_json_check_bounds ("[[]", -1, 100, 4), ==, -EBADMSG);
  g_assert_cmpint (imprint_json_check_bounds ("\"abc", -1, 100, 4), ==, -EBADMSG);
  g_assert_cmpint (imprint_json_check_bounds (NULL, -1, 100, 4), ==, -EBADMSG);
}

static void
test_bytes (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) n = NULL;

  g_assert_cmpint (imprint_json_check_bounds ("[1,2,3]", -1, 7, 4), ==, 0);
  g_assert_cmpint (imprint_json_check_bounds ("[1,2,3]", -1, 6, 4), ==, -EFBIG);
  /* Not UTF-8, and a NUL inside the given length. */
  g_assert_cmpint (imprint_json_check_bounds ("[\"\xff\"]", -1, 100, 4), ==, -EBADMSG);
  g_assert_cmpint (imprint_json_check_bounds ("[1]\0[2]", 7, 100, 4), ==, -EBADMSG);
  /* A length shorter than the string: only that much is JSON. */
  n = imprint_json_parse_bounded ("[1]garbage", 3, 100, 4, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (n));
  g_clear_pointer (&n, json_node_unref);
  g_assert_null (imprint_json_parse ("", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_null (imprint_json_parse ("{\"a\":}", &error));
  g_assert_true (error != NULL && error->domain == JSON_PARSER_ERROR);
}

static void
test_object (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o;

  g_assert_null (imprint_json_parse_object ("[]", -1, 100, &root, &error));
  g_assert_null (root);
  g_assert_nonnull (error);
  g_clear_error (&error);
  o = imprint_json_parse_object ("{\"s\":\"x\",\"n\":1,\"a\":[],\"z\":null}", -1, 100, &root, &error);
  g_assert_no_error (error);
  g_assert_nonnull (o);
  g_assert_cmpstr (imprint_json_object_get_string (o, "s"), ==, "x");
  g_assert_null (imprint_json_object_get_string (o, "n"));
  g_assert_null (imprint_json_object_get_string (o, "a"));
  g_assert_null (imprint_json_object_get_string (o, "z"));
  g_assert_null (imprint_json_object_get_string (o, "missing"));
}

static void
test_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("imprint-json-XXXXXX", NULL);
  g_autofree char *small = g_build_filename (dir, "small.json", NULL);
  g_autofree char *big = g_build_filename (dir, "big.json", NULL);
  g_autofree char *fifo = g_build_filename (dir, "fifo", NULL);
  g_autofree char *content = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) n = NULL;

  g_assert_true (g_file_set_contents (small, "{\"userName\":\"a\"}", -1, NULL));
  n = imprint_json_parse_file (small, 16, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (n));
  g_clear_pointer (&n, json_node_unref);
  /* One byte over the cap: refused, not truncated. */
  g_assert_null (imprint_json_parse_file (small, 15, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
  g_clear_error (&error);

  content = repeat (' ', 3 * 1024 * 1024);
  content[0] = '1';
  g_assert_true (g_file_set_contents (big, content, -1, NULL));
  g_assert_null (imprint_json_parse_file (big, IMPRINT_JSON_MAX_BYTES, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
  g_clear_error (&error);

  /* A FIFO would block a reader forever: refused without reading. */
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_null (imprint_json_parse_file (fifo, 100, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
  g_clear_error (&error);

  g_assert_null (imprint_json_parse_file (dir, 100, &error));
  g_assert_nonnull (error);

  g_unlink (small);
  g_unlink (big);
  g_unlink (fifo);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json-bounded/depth", test_depth);
  g_test_add_func ("/json-bounded/strings", test_strings);
  g_test_add_func ("/json-bounded/bytes", test_bytes);
  g_test_add_func ("/json-bounded/object", test_object);
  g_test_add_func ("/json-bounded/file", test_file);
  return g_test_run ();
}
