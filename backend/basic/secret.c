/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "secret.h"

/* In front of the data: the mapping's length, the size asked for and a
 * magic number right before the data. Thirty-two bytes keep the data as
 * aligned as malloc()'s. The magic is checked on free: a pointer from
 * malloc() handed to imprint_secret_free() by mistake has glibc's chunk
 * size word there instead, and the process stops at once rather than
 * wiping and unmapping whatever a garbage length says. */
typedef struct {
  size_t map_size;
  size_t size;
  uint64_t magic;
} SecretHeader;

#define HEADER_SIZE 32
#define SECRET_MAGIC UINT64_C (0x5ec7e7b0a9d5f00d)
_Static_assert (sizeof (SecretHeader) <= HEADER_SIZE, "header too big");

static SecretHeader *
header_of (const void *p)
{
  SecretHeader *h = (SecretHeader *) ((uint8_t *) p - HEADER_SIZE);
  const uint64_t *magic = (const uint64_t *) ((const uint8_t *) p - sizeof (uint64_t));

  /* Read through the last word, where the magic of a real header is:
   * for a malloc() pointer that word is the allocator's own and always
   * readable. */
  if (*magic != SECRET_MAGIC)
    abort ();
  return h;
}

void *
imprint_secret_alloc (size_t size)
{
  size_t page = (size_t) sysconf (_SC_PAGESIZE), need, map_size;
  SecretHeader *h;
  void *m;

  if (__builtin_add_overflow (size, (size_t) HEADER_SIZE, &need) ||
      __builtin_add_overflow (need, page - 1, &map_size))
    {
      errno = ENOMEM;
      return NULL;
    }
  map_size -= map_size % page;

  m = mmap (NULL, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED)
    return NULL;

  /* Each of these may fail (RLIMIT_MEMLOCK, an old kernel); the secret is
   * still better kept here than on the heap, so failures are ignored. */
  (void) mlock (m, map_size);
  (void) madvise (m, map_size, MADV_DONTDUMP);
#ifdef MADV_WIPEONFORK
  (void) madvise (m, map_size, MADV_WIPEONFORK);
#endif

  h = m;
  h->map_size = map_size;
  h->size = size;
  *(uint64_t *) ((uint8_t *) m + HEADER_SIZE - sizeof (uint64_t)) = SECRET_MAGIC;
  return (uint8_t *) m + HEADER_SIZE;
}

size_t
imprint_secret_size (const void *p)
{
  return p ? header_of (p)->size : 0;
}

void
imprint_secret_free (void *p)
{
  SecretHeader *h;
  size_t map_size;
  int saved = errno;

  if (p == NULL)
    return;
  h = header_of (p);
  map_size = h->map_size;
  explicit_bzero (h, map_size);
  (void) munlock (h, map_size);
  (void) munmap (h, map_size);
  errno = saved;
}

char *
imprint_secret_memdup0 (const void *p, size_t size)
{
  size_t total;
  char *s;

  if (__builtin_add_overflow (size, (size_t) 1, &total))
    {
      errno = ENOMEM;
      return NULL;
    }
  s = imprint_secret_alloc (total);
  if (s == NULL)
    return NULL;
  if (size > 0)
    memcpy (s, p, size);
  s[size] = '\0';
  return s;
}

char *
imprint_secret_strdup (const char *s)
{
  if (s == NULL)
    {
      errno = EINVAL;
      return NULL;
    }
  return imprint_secret_memdup0 (s, strlen (s));
}
