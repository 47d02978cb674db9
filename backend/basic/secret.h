/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Memory for secrets (passphrases, PINs, recovery keys, keys a TPM or a
 * FIDO2 key gave back): its own anonymous mapping, mlock()ed so it is not
 * written to swap (best effort: RLIMIT_MEMLOCK may refuse, and then it is
 * still used), MADV_DONTDUMP so no core dump holds it, MADV_WIPEONFORK so
 * the helpers imprintd forks do not inherit it, and wiped with
 * explicit_bzero() before it is unmapped. A page or more per secret:
 * meant for a handful of short secrets, not for bulk data. */

#include <stddef.h>

#include "macros.h"

/* size bytes, zeroed, or NULL with errno set. size may be 0. */
void *imprint_secret_alloc (size_t size);
/* Wipes and releases what imprint_secret_alloc() returned; NULL is fine. */
void imprint_secret_free (void *p);
/* The usable size of an allocation (what was asked for). */
size_t imprint_secret_size (const void *p);

/* Copies of a string / of size bytes plus a NUL, in secret memory; NULL
 * with errno set (s == NULL: NULL, errno EINVAL). */
char *imprint_secret_strdup (const char *s);
char *imprint_secret_memdup0 (const void *p, size_t size);

/* Wipes and frees *p and sets it to NULL: the one cleanup for secrets
 * (_cleanup_secret_), also for clearing a field by hand. */
static inline void imprint_secret_freep (void *p)
{
  void **pp = p;
  imprint_secret_free (*pp);
  *pp = NULL;
}
#define _cleanup_secret_ _cleanup_(imprint_secret_freep)

/* A secret and its length (a volume key, what a TPM unsealed), held in
 * secret memory; done wipes and frees it and zeroes the struct. */
typedef struct {
  void *data;
  size_t size;
} ImprintSizedSecret;

static inline void imprint_sized_secret_done (ImprintSizedSecret *s)
{
  imprint_secret_free (s->data);
  s->data = NULL;
  s->size = 0;
}
#define _cleanup_sized_secret_ _cleanup_(imprint_sized_secret_done)

