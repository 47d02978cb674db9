/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Large I/O buffers. Anonymous mappings asking for transparent huge pages:
 * on virtual machines every 4 KiB page fault is expensive, and a copy
 * touches gigabytes of buffer. Page aligned, so O_DIRECT can use them. */

#include <stddef.h>
#include <sys/mman.h>

#define IMPRINT_HUGE_PAGE (2u * 1024 * 1024)

static inline size_t
imprint_buffer_size (size_t size)
{
  return (size + IMPRINT_HUGE_PAGE - 1) / IMPRINT_HUGE_PAGE * IMPRINT_HUGE_PAGE;
}

static inline void *
imprint_buffer_alloc (size_t size)
{
  void *p = mmap (NULL, imprint_buffer_size (size), PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  (void) madvise (p, imprint_buffer_size (size), MADV_HUGEPAGE);
  return p;
}

static inline void
imprint_buffer_free (void *p, size_t size)
{
  if (p != NULL)
    munmap (p, imprint_buffer_size (size));
}
