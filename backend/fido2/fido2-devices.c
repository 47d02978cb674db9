/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Which FIDO2 keys there are: hidraw node names checked, each device
 * described (vendor, product, what it supports) for the list the faces
 * show. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "json-bounded.h"
#include "imprint-fido2.h"
#include "fido2-private.h"
#include "devname.h"
#include "macros.h"
#include "secret.h"

/* "hidraw<N>": N decimal, no leading zero, short. */
static bool
hidraw_name_valid (const char *name)
{
  return imprint_devname_valid (name, "hidraw");
}

int
imprint_fido2_device_check (const char *path, bool allow_other, char **ret_path)
{
  _cleanup_close_ int fd = -1;
  g_autofree char *sys = NULL, *contents = NULL;
  unsigned maj, min;
  struct stat st;
  char end;

  if (path == NULL || *path == '\0' || g_str_equal (path, "auto"))
    {
      *ret_path = NULL;
      return 0;
    }

  if (!g_str_has_prefix (path, "/dev/") || !hidraw_name_valid (path + strlen ("/dev/")))
    {
      if (!allow_other)
        return -EINVAL;
      *ret_path = g_strdup (path);
      return 0;
    }

  /* O_PATH: nothing of the device's own open() runs here; libfido2 opens
   * it by this name later, and /dev is the kernel's (root-only). */
  fd = open (path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? -ENODEV : -errno;
  if (fstat (fd, &st) < 0)
    return -errno;
  if (!S_ISCHR (st.st_mode))
    return -ENODEV;

  sys = g_strdup_printf ("/sys/class/hidraw/%s/dev", path + strlen ("/dev/"));
  if (!g_file_get_contents (sys, &contents, NULL, NULL) ||
      sscanf (contents, "%u:%u%c", &maj, &min, &end) != 3 || end != '\n' ||
      maj != major (st.st_rdev) || min != minor (st.st_rdev))
    return -ENODEV;

  *ret_path = g_strdup (path);
  return 0;
}

/* ---- device list ---- */

static void
describe_device (const fido_dev_info_t *di, GVariantBuilder *out)
{
  _cleanup_fido_dev_ fido_dev_t *dev = NULL;
  const char *path = fido_dev_info_path (di);
  ImprintFido2Features f = { 0 };
  g_autofree char *reason = NULL;
  bool available = false;
  int r;

  dev = fido_dev_new_with_info (di);
  if (dev == NULL)
    reason = g_strdup (_("Out of memory."));
  else if ((r = fido_dev_open_with_info (dev)) != FIDO_OK)
    {
      fido_dev_free (&dev);
      reason = g_strdup_printf (_("The security key could not be opened (%s). Unplug it and plug it in again."),
                                fido_strerr (r));
    }
  else if (imprint_fido2_get_features (dev, &f) < 0)
    reason = g_strdup (_("The security key did not answer. Unplug it and plug it in again."));
  else if (!f.fido2)
    reason = g_strdup (_("This security key only supports U2F, not FIDO2: it cannot unlock a disk."));
  else if (!f.hmac_secret)
    reason = g_strdup (_("This security key lacks the hmac-secret extension needed to unlock a disk."));
  else
    {
      available = true;
      if (!f.client_pin)
        reason = g_strdup (_("No PIN is set on this security key: whoever holds it can unlock. Set a PIN first for better protection."));
      else
        reason = g_strdup ("");
    }

  g_variant_builder_open (out, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (out, "{sv}", "path", g_variant_new_string (path != NULL ? path : ""));
  g_variant_builder_add (out, "{sv}", "product",
                         g_variant_new_string (fido_dev_info_product_string (di) ?: ""));
  g_variant_builder_add (out, "{sv}", "manufacturer",
                         g_variant_new_string (fido_dev_info_manufacturer_string (di) ?: ""));
  g_variant_builder_add (out, "{sv}", "hmac-secret", g_variant_new_boolean (f.hmac_secret));
  g_variant_builder_add (out, "{sv}", "client-pin", g_variant_new_boolean (f.client_pin));
  g_variant_builder_add (out, "{sv}", "uv", g_variant_new_boolean (f.uv));
  g_variant_builder_add (out, "{sv}", "rk", g_variant_new_boolean (f.rk));
  g_variant_builder_add (out, "{sv}", "up", g_variant_new_boolean (f.fido2 && f.up));
  g_variant_builder_add (out, "{sv}", "available", g_variant_new_boolean (available));
  g_variant_builder_add (out, "{sv}", "reason", g_variant_new_string (reason));
  g_variant_builder_close (out);
}

int
imprint_fido2_list_devices_from (const fido_dev_info_t *list, size_t n, GVariant **ret)
{
  GVariantBuilder b;

  g_return_val_if_fail (ret != NULL, -EINVAL);

  imprint_fido2_fido_init_once ();
  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (size_t i = 0; i < n; i++)
    describe_device (fido_dev_info_ptr (list, i), &b);
  *ret = g_variant_ref_sink (g_variant_builder_end (&b));
  return 0;
}

int
imprint_fido2_list_devices (GVariant **ret)
{
  fido_dev_info_t *list;
  size_t found = 0;
  int r;

  g_return_val_if_fail (ret != NULL, -EINVAL);

  imprint_fido2_fido_init_once ();
  list = fido_dev_info_new (MAX_DEVICES);
  if (list == NULL)
    return -ENOMEM;
  r = fido_dev_info_manifest (list, MAX_DEVICES, &found);
  if (r != FIDO_OK && r != FIDO_ERR_INTERNAL)
    r = imprint_fido2_fido_fail ("manifest", r);
  else
    r = imprint_fido2_list_devices_from (list, found, ret);
  fido_dev_info_free (&list, MAX_DEVICES);
  return r;
}
