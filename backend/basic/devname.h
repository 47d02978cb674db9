/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Kernel device names a caller may hand in ("tpmrm0", "hidraw3"): only
 * the kernel's own shape gets through, so no "/", "..", or trailing junk
 * can reach a path built from them. */

#include <stdbool.h>
#include <string.h>

/* Whether @name is @prefix followed by a device number: decimal, 1 to 5
 * digits, no leading zero. */
static inline bool
imprint_devname_valid (const char *name, const char *prefix)
{
  size_t plen = strlen (prefix), len;
  const char *n;

  if (strncmp (name, prefix, plen) != 0)
    return false;
  n = name + plen;
  len = strlen (n);
  if (len == 0 || len > 5 || (n[0] == '0' && len > 1))
    return false;
  for (size_t i = 0; i < len; i++)
    if (n[i] < '0' || n[i] > '9')
      return false;
  return true;
}
