/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <sys/random.h>
#include <sys/types.h>

#include "random.h"

int
imprint_random_bytes (void *buf, size_t n)
{
  size_t done = 0;

  while (done < n)
    {
      ssize_t k = getrandom ((char *) buf + done, n - done, 0);
      if (k < 0)
        {
          if (errno == EINTR)
            continue;
          return -errno;
        }
      done += (size_t) k;
    }
  return 0;
}
