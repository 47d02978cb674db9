/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* _cleanup_ for libcryptsetup's handle: one definition for every file
 * that opens a LUKS device. */

#include <libcryptsetup.h>

#include "macros.h"

DEFINE_TRIVIAL_CLEANUP_FUNC (struct crypt_device *, crypt_free)
#define _cleanup_crypt_free_ _cleanup_(crypt_freep)
