/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Fills buf with n bytes from the kernel's CSPRNG (getrandom(2), blocking
 * until it is seeded, retried on EINTR and short reads). Keys, salts and
 * nonces come from here. Returns 0 or a negative errno. */
int imprint_random_bytes (void *buf, size_t n);
