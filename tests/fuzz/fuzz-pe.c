/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A UKI (PE) from a source's ESP or this machine's: the section table and
 * the .pcrpkey/.pcrsig reader, then the .pcrsig JSON. */
#include "config.h"

#include "fuzz.h"
#include "json-bounded.h"
#include "security-caps.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int fd = fuzz_memfd (data, size);
  g_autofree char *path = g_strdup_printf ("/proc/self/fd/%d", fd);
  g_autofree char *osrel = NULL, *pem = NULL, *sig = NULL;
  gboolean is_uki, has_sig, has_key;
  size_t n = 0;

  (void) imprint_pe_has_sections_fd (fd, &is_uki, &has_sig, &has_key);
  (void) imprint_pe_read_section_fd (fd, ".osrel", &osrel, &n);
  if (imprint_uki_read_pcr_signing (path, &pem, &sig) == 0)
    {
      g_autoptr(JsonNode) root = imprint_json_parse (sig, NULL);
      if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
        (void) json_object_get_size (json_node_get_object (root));
    }
  close (fd);
  return 0;
}
