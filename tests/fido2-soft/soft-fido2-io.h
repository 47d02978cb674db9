/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* In-process front end of the soft authenticator for host unit tests: a
 * libfido2 I/O backend (fido_dev_set_io_functions) that speaks CTAPHID
 * reports to the soft key directly, no kernel involved. */

#include <fido.h>

#include "soft-fido2.h"

/* Makes sk reachable as `path` for devices using soft_fido2_io. The path is
 * any string ("soft:0"); sk stays owned by the caller. */
int  soft_fido2_io_register   (const char *path, SoftFido2 *sk);
void soft_fido2_io_unregister (const char *path);

const fido_dev_io_t *soft_fido2_io_functions (void);

/* fido_dev_new() + the soft I/O functions + fido_dev_open(path). */
int  soft_fido2_io_open       (const char *path, fido_dev_t **ret);

/* Fills entry i of a fido_dev_info_new() list, as a manifest would. Such
 * entries carry transport functions too (libfido2 1.12 only honours custom
 * I/O from a device list with them): CTAPHID framing is then done by this
 * file instead of libfido2. */
int  soft_fido2_io_dev_info   (fido_dev_info_t *list, size_t i, const char *path);
