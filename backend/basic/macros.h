/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small systemd-style helpers for the low-level backend code: automatic
 * cleanup and negative-errno conventions. GLib types use g_autoptr. */

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _pure_ __attribute__((pure))
#define _must_check_ __attribute__((warn_unused_result))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep (void *p) { free (*(void **) p); }
#define _cleanup_free_ _cleanup_(freep)

static inline void closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}
#define _cleanup_close_ _cleanup_(closep)

/* Hands ownership out of a cleanup variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

static inline int negative_errno (void)
{
  return errno > 0 ? -errno : -EIO;
}

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)         \
  static inline void func##p (type *p)                  \
  {                                                     \
    if (*p)                                             \
      func (*p);                                        \
  }

DEFINE_TRIVIAL_CLEANUP_FUNC (DIR *, closedir)

/* The helpers for secrets live in secret.h; included here so that code
 * which only includes macros.h sees the same, single set. */
#include "secret.h"
