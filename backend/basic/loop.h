/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A region of an open file or device as a loop device of its own: the
 * source's /usr for dm-verity (read-only), a LUKS container inside an
 * image file (read-write). */

#include <stdbool.h>
#include <stdint.h>

/* Attaches [offset, offset+size) of fd (size 0: to the end) as a free
 * loop device, read-only when read_only, with autoclear: the device goes
 * away once the returned fd and every other user of it are closed.
 * *ret_fd is the loop device, opened O_RDONLY or O_RDWR to match;
 * *ret_node its path (g_free()). Another process taking the free device
 * first is retried. Negative errno on failure, outputs untouched. */
int imprint_loop_attach (int fd, uint64_t offset, uint64_t size, bool read_only,
                         int *ret_fd, char **ret_node);
