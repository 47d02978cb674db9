/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A homed *.identity file of a setup target, read as setup-homed.c reads
 * it: the file through the bounded reader, then the UID lookup. */
#include "config.h"

#include "fuzz.h"
#include "imprint-setup.h"
#include "json-bounded.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int fd = fuzz_memfd (data, size);
  g_autoptr(JsonNode) root = NULL;

  (void) lseek (fd, 0, SEEK_SET);
  root = imprint_json_parse_fd (fd, IMPRINT_JSON_MAX_BYTES, NULL);
  close (fd);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return 0;
  (void) imprint_setup_home_record_has_uid (json_node_get_object (root), 60001);
  (void) imprint_setup_home_record_has_uid (json_node_get_object (root), 0);
  return 0;
}
