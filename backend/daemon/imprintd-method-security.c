/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>

#include "imprint-error.h"
#include "imprint-fido2.h"
#include "imprint-request.h"
#include "imprintd-methods.h"
#include "passphrase-quality.h"
#include "recovery-key.h"
#include "security-caps.h"

GVariant *
imprintd_method_get_security_capabilities (ImprintdMethodCall *call, GError **error)
{
  g_auto(ImprintSecurityRequest) req;
  const char *tpm2_device;
  g_autoptr(GVariant) caps = NULL;
  g_autoptr(GVariant) fido2 = NULL;
  GVariantBuilder b;
  GVariantIter iter;
  const char *key;
  GVariant *value;
  int r;

  /* The device check on what was sent, before the request's own: its
   * errors name the TPM device (over-long, not a TPM node, not for this
   * caller), which the request's generic bounds would not. */
  imprint_security_request_init (&req);
  if (g_variant_lookup (call->options, IMPRINT_KEY_TPM2_DEVICE, "&s", &tpm2_device) &&
      !imprintd_check_tpm2_device (tpm2_device, call->uid, error))
    return NULL;
  if (!imprint_security_request_from_variant (call->options, &req, error))
    return NULL;
  tpm2_device = req.tpm2_device;
  if (!imprintd_check_tpm2_device (tpm2_device, call->uid, error))
    return NULL;
  caps = g_variant_ref_sink (imprint_security_caps_get (tpm2_device, imprintd_tpm2_device_flags (call->uid), NULL));

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, caps);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_variant_builder_add (&b, "{sv}", key, value);
      g_variant_unref (value);
    }

  r = imprint_fido2_list_devices (&fido2);
  if (r < 0)
    fido2 = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE_VARDICT, NULL, 0));
  g_variant_builder_add (&b, "{sv}", "fido2", fido2);

  return g_variant_new ("(@a{sv})", g_variant_builder_end (&b));
}

GVariant *
imprintd_method_check_passphrase (ImprintdMethodCall *call, GError **error)
{
  const char *passphrase;
  g_autofree char *message = NULL;
  int score = -1, r;

  g_variant_get_child (call->parameters, 0, "&s", &passphrase);
  if (!imprintd_check_secret (passphrase, error))
    return NULL;
  r = imprint_passphrase_quality (passphrase, &score, &message);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Could not rate the passphrase: %s"), g_strerror (-r));
      return NULL;
    }
  return g_variant_new ("(is)", score, message ? message : "");
}

GVariant *
imprintd_method_generate_recovery_key (ImprintdMethodCall *call, GError **error)
{
  char *key = NULL;
  GVariant *reply;
  int r;

  r = imprint_recovery_key_generate (&key);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Could not make a recovery key: %s"), g_strerror (-r));
      return NULL;
    }
  reply = g_variant_new ("(s)", key);
  imprint_secret_free (key);
  return reply;
}
