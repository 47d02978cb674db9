/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Sentences and IMPRINT_ERROR codes for the negative errno values the
 * crypt, TPM2 and FIDO2 code returns, so a person reads what happened and
 * what to do, not an errno name. */

#include "imprint-error.h"

const char  *imprint_crypt_strerror   (int r);
ImprintError imprint_crypt_error_code (int r);
