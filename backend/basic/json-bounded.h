/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* JSON from bytes nobody vouches for (a source image, a setup target, a
 * UKI section, a disk's LUKS2 tokens, a tool's output). json-glib parses
 * recursively, so deep nesting ("[[[[…") overflows the stack of the
 * thread that parses it; and it takes any size. This checks the bytes
 * first, without recursion: size, nesting depth, valid UTF-8 and no NUL
 * inside; only then does json-glib see them. */

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Defaults for the callers: far beyond anything real (systemd's own JSON
 * parser stops at 2048 levels, homed records nest about 5 deep), far below
 * what the parser's stack would survive. */
#define IMPRINT_JSON_MAX_DEPTH 64u
#define IMPRINT_JSON_MAX_BYTES (1024u * 1024u)

/* Checks @data (@len bytes; -1: NUL-terminated) without parsing: at most
 * @max_bytes bytes, valid UTF-8 with no NUL byte, and arrays/objects
 * nested at most @max_depth deep (brackets inside strings do not count).
 * Returns 0 or a negative errno: -EFBIG (too large), -ELOOP (too deep),
 * -EBADMSG (not UTF-8, NUL, or unbalanced brackets). */
int       imprint_json_check_bounds  (const char *data,
                                      gssize      len,
                                      gsize       max_bytes,
                                      guint       max_depth);

/* imprint_json_check_bounds(), then json-glib. Returns the root node (any
 * type), or NULL with @error set (G_IO_ERROR_INVALID_DATA / _TOO_MANY_LINKS
 * / _MESSAGE_TOO_LARGE for the bounds, a JSON_PARSER_ERROR otherwise). */
JsonNode *imprint_json_parse_bounded (const char *data,
                                      gssize      len,
                                      gsize       max_bytes,
                                      guint       max_depth,
                                      GError    **error);

/* The same with the default caps: a drop-in for json_from_string(). */
JsonNode *imprint_json_parse         (const char *data,
                                      GError    **error);

/* The root object of bounded JSON, or NULL (with @error set) when the
 * bytes are bad or the root is not an object. *@ret_root owns it. */
JsonObject *imprint_json_parse_object (const char *data,
                                       gssize      len,
                                       gsize       max_bytes,
                                       JsonNode  **ret_root,
                                       GError    **error);

/* Reads a regular file (never more than @max_bytes + 1 bytes: a larger
 * file is refused, not truncated) and parses it bounded. Symlinks are
 * followed as by open(); callers that must not follow them open the fd
 * themselves and use _parse_fd(). */
JsonNode *imprint_json_parse_file    (const char *path,
                                      gsize       max_bytes,
                                      GError    **error);
JsonNode *imprint_json_parse_fd      (int         fd,
                                      gsize       max_bytes,
                                      GError    **error);

/* A member that is a string, or NULL: unlike
 * json_object_get_string_member_with_default(), no critical warning when
 * hostile JSON puts a number, array or object there. */
const char *imprint_json_object_get_string (JsonObject *o,
                                            const char *member);

G_END_DECLS
