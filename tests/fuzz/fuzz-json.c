/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bounded JSON parser itself (every untrusted JSON goes through it):
 * the pre-scan must never let json-glib see what it would choke on. */
#include "config.h"

#include "fuzz.h"
#include "json-bounded.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(JsonNode) a = NULL, b = NULL;
  g_autofree char *s = fuzz_string (data, size);

  a = imprint_json_parse_bounded ((const char *) data, (gssize) size, 1024 * 1024, 8, NULL);
  b = imprint_json_parse (s, NULL);
  if (b != NULL && JSON_NODE_HOLDS_OBJECT (b))
    (void) imprint_json_object_get_string (json_node_get_object (b), "rootHash");
  return 0;
}
