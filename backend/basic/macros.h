/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small systemd-style helpers for the low-level backend code: automatic
 * cleanup and negative-errno conventions. GLib types use g_autoptr. */

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

/* Wipes and frees secrets. Every secret lives in secret memory (secret.h:
 * locked, never dumped, not inherited by children), so these release what
 * imprint_secret_alloc() and friends returned, and nothing else: a pointer
 * from malloc()/g_malloc() here stops the process (secret.c checks). n is
 * the old interface's length; the allocation knows its own. */
void imprint_secret_free (void *p);

static inline void erase_and_free (void *p, size_t n)
{
  (void) n;
  imprint_secret_free (p);
}

static inline void erase_and_freep_str (char **p)
{
  imprint_secret_free (*p);
}
#define _cleanup_erase_free_ _cleanup_(erase_and_freep_str)

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
