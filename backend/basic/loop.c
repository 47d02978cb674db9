/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib.h>
#include <linux/loop.h>
#include <sys/ioctl.h>

#include "loop.h"
#include "macros.h"

/* How often LOOP_CTL_GET_FREE's device may be taken by someone else
 * before we give up: each retry means another process won a race. */
#define LOOP_ATTACH_ATTEMPTS 64

int
imprint_loop_attach (int fd, uint64_t offset, uint64_t size, bool read_only,
                     int *ret_fd, char **ret_node)
{
  _cleanup_close_ int control = -1;

  if (fd < 0 || (uint64_t) fd > UINT32_MAX)
    return -EBADF;
  control = open ("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (control < 0)
    return -errno;

  for (int attempt = 0; attempt < LOOP_ATTACH_ATTEMPTS; attempt++)
    {
      struct loop_config config = {
        .fd = (uint32_t) fd,
        .info = {
          .lo_offset = offset,
          .lo_sizelimit = size,
          .lo_flags = LO_FLAGS_AUTOCLEAR | (read_only ? LO_FLAGS_READ_ONLY : 0),
        },
      };
      g_autofree char *node = NULL;
      _cleanup_close_ int loop = -1;
      int nr = ioctl (control, LOOP_CTL_GET_FREE);

      if (nr < 0)
        return -errno;
      node = g_strdup_printf ("/dev/loop%d", nr);
      loop = open (node, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
      if (loop < 0)
        return -errno;
      if (ioctl (loop, LOOP_CONFIGURE, &config) < 0)
        {
          if (errno == EBUSY)   /* taken between GET_FREE and CONFIGURE */
            continue;
          return -errno;
        }
      *ret_fd = TAKE_FD (loop);
      *ret_node = g_steal_pointer (&node);
      return 0;
    }
  return -EBUSY;
}
