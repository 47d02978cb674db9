/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handover's readers (backend/engine/handover.h): a dm-verity table
 * line and a mountinfo text. Both come from the kernel, and are still read
 * as if anyone had written them: the first line is the table, the rest
 * the mountinfo. */
#include "config.h"

#include <sys/sysmacros.h>

#include "fuzz.h"
#include "handover-private.h"

static char *
disk_of (dev_t dev)
{
  return minor (dev) % 2 ? g_strdup ("sda") : NULL;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autofree char *out = NULL;
  g_autoptr(GPtrArray) mounts = NULL;
  char *nl = strchr (text, '\n');
  dev_t d = 0, h = 0;

  if (nl != NULL)
    *nl = '\0';
  if (imprint_verity_params_repoint (text, makedev (254, 2), makedev (254, 3), &d, &h, &out) == 0 &&
      (out == NULL || strncmp (out + 1, " 254:2 254:3 ", 13) != 0))
    abort ();
  mounts = imprint_mountinfo_on_disk (nl ? nl + 1 : "", "sda", disk_of);
  for (guint i = 0; i < mounts->len; i++)
    if (mounts->pdata[i] == NULL)
      abort ();
  return 0;
}
