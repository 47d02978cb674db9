/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verity signature partition's contents (NUL-padded JSON), through the
 * bounded JSON parser and the code that reads the signature object. */
#include "config.h"

#include "fuzz.h"
#include "source.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *buf = NULL;
  g_autofree char *json = NULL, *rh = NULL, *sig = NULL, *fp = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  /* As read_signature() hands it over: at most the cap, one NUL beyond. */
  size = MIN (size, IMPRINT_SIGNATURE_MAX_JSON);
  buf = g_malloc0 (size + 1);
  memcpy (buf, data, size);
  ok = imprint_signature_json_parse (buf, size, &json, &rh, &sig, &fp, &error);
  g_assert (ok == (error == NULL));
  g_assert (!ok || (strlen (rh) == 64 && sig != NULL));
  return 0;
}
