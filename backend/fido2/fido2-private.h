/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between the files of the FIDO2 code (imprint-fido2.c,
 * fido2-devices.c, fido2-enroll.c, fido2-unlock.c); not part of its API. */

#include <fido.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

#include "imprint-fido2.h"
#include "macros.h"

#define MAX_DEVICES 64

/* The client data hash of every credential and assertion: systemd uses
 * zeros too (there is no web origin to bind to). */
static const unsigned char zero_client_data_hash[32];

static inline void
imprint_fido2_fido_dev_close_and_freep (fido_dev_t **p)
{
  if (*p == NULL)
    return;
  fido_dev_close (*p);
  fido_dev_free (p);
}
#define _cleanup_fido_dev_ _cleanup_(imprint_fido2_fido_dev_close_and_freep)

static inline void
imprint_fido2_fido_cred_freep (fido_cred_t **p)
{
  fido_cred_free (p);
}

static inline void
imprint_fido2_fido_assert_freep (fido_assert_t **p)
{
  fido_assert_free (p);
}

static inline void
imprint_fido2_fido_cbor_info_freep (fido_cbor_info_t **p)
{
  fido_cbor_info_free (p);
}

typedef struct {
  ImprintFido2PromptFunc func;
  void *userdata;
} ImprintFido2Prompter;

typedef int (*ImprintFido2PinOperation) (fido_dev_t *dev, const char *pin, void *data);

typedef struct {
  bool fido2;
  bool hmac_secret;
  bool rk;
  bool client_pin;   /* a PIN is set */
  bool up;
  bool uv;
} ImprintFido2Features;

/* imprint-fido2.c: libfido2 initialised once; a libfido2 error logged
 * as a negative errno; the touch prompt; running @op with PIN prompts and
 * retries; what a device supports; the device to use (@given, the one at
 * @path, or the only one plugged in). */
void imprint_fido2_fido_init_once (void);
int imprint_fido2_fido_fail (const char *what, int r);
int imprint_fido2_notify_touch (const ImprintFido2Prompter *p, const char *message);
int imprint_fido2_run_with_pin (fido_dev_t *dev, const ImprintFido2Prompter *p, const char *touch_message,
                                ImprintFido2PinOperation op, void *data, char **io_pin, int *ret_fido);
int imprint_fido2_get_features (fido_dev_t *dev, ImprintFido2Features *ret);
int imprint_fido2_acquire_device (fido_dev_t *given, const char *path, fido_dev_t **ret_owned,
                                  fido_dev_t **ret_dev);
/* The same, refused without FIDO2 (-ENODEV) or hmac-secret (-EOPNOTSUPP). */
int imprint_fido2_acquire_hmac_device (fido_dev_t *given, const char *path, fido_dev_t **ret_owned,
                                       fido_dev_t **ret_dev, ImprintFido2Features *ret_features);

/* fido2-unlock.c: an hmac-secret assertion's parameters, and running it
 * (with the PIN or touch the key asks for). */
int imprint_fido2_assert_set_basics (fido_assert_t *a, const char *rp_id, const void *cid, size_t cid_size,
                                     const void *salt, size_t salt_size);
int imprint_fido2_hmac_assertion (fido_dev_t *dev, const ImprintFido2Features *f, fido_assert_t *a,
                                  const ImprintFido2Prompter *p, ImprintFido2LockFlags *io_lock,
                                  char **io_pin, ImprintFido2LockFlags if_needed);
