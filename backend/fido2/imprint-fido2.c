/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "config.h"

#include "json-bounded.h"
#include "imprint-fido2.h"

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

#include "macros.h"
#include "secret.h"

#define MAX_DEVICES 64

/* ---- small helpers ---- */

static void
fido_init_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      fido_init (0);
      g_once_init_leave (&done, 1);
    }
}

static void
fido_dev_close_and_freep (fido_dev_t **p)
{
  if (*p == NULL)
    return;
  fido_dev_close (*p);
  fido_dev_free (p);
}
#define _cleanup_fido_dev_ _cleanup_(fido_dev_close_and_freep)

static void
fido_cred_freep (fido_cred_t **p)
{
  fido_cred_free (p);
}

static void
fido_assert_freep (fido_assert_t **p)
{
  fido_assert_free (p);
}

static void
fido_cbor_info_freep (fido_cbor_info_t **p)
{
  fido_cbor_info_free (p);
}

static int
fido_error_to_errno (int r)
{
  switch (r)
    {
    case FIDO_OK:
      return 0;
    case FIDO_ERR_NO_CREDENTIALS:
      return -EBADSLT;
    case FIDO_ERR_PIN_REQUIRED:
      return -ENOANO;
    case FIDO_ERR_PIN_INVALID:
      return -ENOLCK;
    case FIDO_ERR_PIN_AUTH_BLOCKED:
#ifdef FIDO_ERR_UV_BLOCKED
    case FIDO_ERR_UV_BLOCKED:
#endif
      return -EOWNERDEAD;
    case FIDO_ERR_PIN_BLOCKED:
      return -EKEYREVOKED;
    case FIDO_ERR_ACTION_TIMEOUT:
    case FIDO_ERR_USER_ACTION_TIMEOUT:
      return -ENOSTR;
    case FIDO_ERR_UNSUPPORTED_ALGORITHM:
      return -EOPNOTSUPP;
    case FIDO_ERR_KEEPALIVE_CANCEL:
      return -ECANCELED;
    case FIDO_ERR_UP_REQUIRED:
      return -EMEDIUMTYPE;
    default:
      return -EIO;
    }
}

static int
fido_fail (const char *what, int r)
{
  g_debug ("FIDO2: %s: %s", what, fido_strerr (r));
  return fido_error_to_errno (r);
}

const char *
imprint_fido2_strerror (int r)
{
  switch (r)
    {
    case -ENODEV:
      return _("No FIDO2 security key was found.");
    case -ENOTUNIQ:
      return _("More than one security key is plugged in: choose one or remove the others.");
    case -EOPNOTSUPP:
      return _("This security key does not support the hmac-secret extension or the ES256 algorithm needed for unlocking.");
    case -EHWPOISON:
      return _("This security key lacks a feature the credential needs (PIN, touch or user verification).");
    case -ENOANO:
      return _("The security key needs its PIN.");
    case -ENOLCK:
      return _("The security key PIN is wrong.");
    case -EOWNERDEAD:
      return _("Too many wrong PINs in a row: remove the security key, plug it in again and retry.");
    case -EKEYREVOKED:
      return _("The security key PIN is blocked. The key must be reset, which erases its credentials.");
    case -ENOSTR:
      return _("The security key was not touched in time.");
    case -EBADSLT:
      return _("This security key does not hold the credential: it is a different key.");
    case -ECANCELED:
      return _("The security key operation was cancelled.");
    case -EMEDIUMTYPE:
      return _("The security key requires a touch.");
    case -EIO:
      return _("The security key reported an error.");
    default:
      return NULL;
    }
}

/* ---- prompts ---- */

typedef struct {
  ImprintFido2PromptFunc func;
  void *userdata;
} Prompter;

static int
ask_pin (const Prompter *p, const char *message, char **ret)
{
  char *answer = NULL;
  int r;

  if (p->func == NULL)
    return -ENOANO;
  r = p->func (IMPRINT_FIDO2_PROMPT_PIN, message, &answer, p->userdata);
  if (r < 0)
    {
      imprint_secret_freep (&answer);
      return r;
    }
  if (answer == NULL)
    return -ECANCELED;
  *ret = answer;
  return 0;
}

static int
notify_touch (const Prompter *p, const char *message)
{
  if (p->func == NULL)
    return 0;
  return p->func (IMPRINT_FIDO2_PROMPT_TOUCH, message, NULL, p->userdata);
}

typedef int (*PinOperation) (fido_dev_t *dev, const char *pin, void *data);

/* Runs op with a PIN, asking again while it is wrong. *io_pin is a PIN known
 * already (tried first) or NULL; on return it holds the PIN last tried.
 * Returns a negative errno when asking failed, else 0 with the libfido2
 * result of the last attempt in *ret_fido. */
static int
run_with_pin (fido_dev_t *dev, const Prompter *p, const char *touch_message,
              PinOperation op, void *data, char **io_pin, int *ret_fido)
{
  g_autofree char *message = g_strdup (_("Please enter the PIN of the security key."));
  int r, fr;

  for (;;)
    {
      if (*io_pin == NULL)
        {
          r = ask_pin (p, message, io_pin);
          if (r < 0)
            return r;
          if ((*io_pin)[0] == '\0')
            {
              imprint_secret_freep (io_pin);
              g_free (message);
              message = g_strdup (_("The PIN may not be empty. Please enter the PIN of the security key."));
              continue;
            }
        }

      if (touch_message != NULL)
        {
          r = notify_touch (p, touch_message);
          if (r < 0)
            return r;
        }

      fr = op (dev, *io_pin, data);
      if (fr != FIDO_ERR_PIN_INVALID || p->func == NULL)
        {
          *ret_fido = fr;
          return 0;
        }

      imprint_secret_freep (io_pin);
      {
        int retries = -1;

        g_free (message);
        if (fido_dev_get_retry_count (dev, &retries) == FIDO_OK && retries >= 0)
          message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                  "Wrong PIN, %d attempt left. Please enter the PIN of the security key.",
                                                  "Wrong PIN, %d attempts left. Please enter the PIN of the security key.",
                                                  retries),
                                     retries);
        else
          message = g_strdup (_("Wrong PIN. Please enter the PIN of the security key."));
      }
    }
}

/* ---- devices ---- */

typedef struct {
  bool fido2;
  bool hmac_secret;
  bool rk;
  bool client_pin;   /* a PIN is set */
  bool up;
  bool uv;
} Features;

static int
get_features (fido_dev_t *dev, Features *ret)
{
  _cleanup_(fido_cbor_info_freep) fido_cbor_info_t *info = NULL;
  /* Defaults when an option is absent: CTAP 2.0 section 5.4 (up is on). */
  Features f = { .up = true };
  char **names;
  const bool *values;
  int r;

  f.fido2 = fido_dev_is_fido2 (dev);
  if (!f.fido2)
    {
      *ret = (Features) { 0 };
      return 0;
    }

  info = fido_cbor_info_new ();
  if (info == NULL)
    return -ENOMEM;
  r = fido_dev_get_cbor_info (dev, info);
  if (r != FIDO_OK)
    return fido_fail ("getInfo", r);

  names = fido_cbor_info_extensions_ptr (info);
  for (size_t i = 0; i < fido_cbor_info_extensions_len (info); i++)
    if (g_str_equal (names[i], "hmac-secret"))
      f.hmac_secret = true;

  names = fido_cbor_info_options_name_ptr (info);
  values = fido_cbor_info_options_value_ptr (info);
  for (size_t i = 0; i < fido_cbor_info_options_len (info); i++)
    {
      if (g_str_equal (names[i], "rk"))
        f.rk = values[i];
      else if (g_str_equal (names[i], "clientPin"))
        f.client_pin = values[i];
      else if (g_str_equal (names[i], "up"))
        f.up = values[i];
      else if (g_str_equal (names[i], "uv"))
        f.uv = values[i];
    }

  *ret = f;
  return 0;
}

static int
find_single_device (char **ret_path)
{
  fido_dev_info_t *list;
  size_t found = 0;
  int r;

  list = fido_dev_info_new (MAX_DEVICES);
  if (list == NULL)
    return -ENOMEM;
  r = fido_dev_info_manifest (list, MAX_DEVICES, &found);
  if (r != FIDO_OK && r != FIDO_ERR_INTERNAL)   /* INTERNAL: what 1.12 says for "none" */
    r = fido_fail ("manifest", r);
  else if (found == 0)
    r = -ENODEV;
  else if (found > 1)
    r = -ENOTUNIQ;
  else
    {
      *ret_path = g_strdup (fido_dev_info_path (fido_dev_info_ptr (list, 0)));
      r = 0;
    }
  fido_dev_info_free (&list, MAX_DEVICES);
  return r;
}

/* The device to use: the caller's, or one opened here (then owned by
 * *ret_owned, closed by the caller's cleanup). */
static int
acquire_device (fido_dev_t *given, const char *path, fido_dev_t **ret_owned, fido_dev_t **ret_dev)
{
  g_autofree char *found = NULL;
  fido_dev_t *dev;
  int r;

  fido_init_once ();

  if (given != NULL)
    {
      *ret_dev = given;
      return 0;
    }

  if (path == NULL)
    {
      r = find_single_device (&found);
      if (r < 0)
        return r;
      path = found;
    }

  dev = fido_dev_new ();
  if (dev == NULL)
    return -ENOMEM;
  r = fido_dev_open (dev, path);
  if (r != FIDO_OK)
    {
      fido_dev_free (&dev);
      g_debug ("FIDO2: cannot open %s: %s", path, fido_strerr (r));
      return -ENODEV;
    }
  *ret_owned = dev;
  *ret_dev = dev;
  return 0;
}

/* "hidraw<N>": N decimal, no leading zero, short. */
static bool
hidraw_name_valid (const char *name)
{
  const char *n;
  size_t len;

  if (!g_str_has_prefix (name, "hidraw"))
    return false;
  n = name + strlen ("hidraw");
  len = strlen (n);
  if (len == 0 || len > 5 || (n[0] == '0' && len > 1))
    return false;
  for (size_t i = 0; i < len; i++)
    if (!g_ascii_isdigit (n[i]))
      return false;
  return true;
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

int
imprint_fido2_open_device (const char *path, fido_dev_t **ret)
{
  fido_dev_t *owned = NULL, *dev;
  int r;

  g_return_val_if_fail (ret != NULL, -EINVAL);

  r = acquire_device (NULL, path, &owned, &dev);
  if (r < 0)
    return r;
  *ret = owned;
  return 0;
}

/* ---- enrollment ---- */

static int
op_make_cred (fido_dev_t *dev, const char *pin, void *data)
{
  return fido_dev_make_cred (dev, data, pin);
}

static int
op_get_assert (fido_dev_t *dev, const char *pin, void *data)
{
  return fido_dev_get_assert (dev, data, pin);
}

static const unsigned char zero_client_data_hash[32];

static int
assert_set_basics (fido_assert_t *a, const char *rp_id, const void *cid, size_t cid_size,
                   const void *salt, size_t salt_size)
{
  int r;

  if ((r = fido_assert_set_extensions (a, FIDO_EXT_HMAC_SECRET)) != FIDO_OK ||
      (r = fido_assert_set_hmac_salt (a, salt, salt_size)) != FIDO_OK ||
      (r = fido_assert_set_rp (a, rp_id)) != FIDO_OK ||
      (r = fido_assert_set_clientdata_hash (a, zero_client_data_hash, sizeof (zero_client_data_hash))) != FIDO_OK ||
      (r = fido_assert_allow_cred (a, cid, cid_size)) != FIDO_OK)
    return fido_fail ("assertion parameters", r);
  return 0;
}

/* Runs the hmac-secret assertion like systemd. Presence and PIN the key asks
 * for are switched on (and added to *io_lock) when `if_needed` allows it:
 * enrollment always does; at boot systemd does only for fields missing from
 * the token (tokens from v248), so an explicit "false" fails there too. */
static int
hmac_assertion (fido_dev_t *dev, const Features *f, fido_assert_t *a, const Prompter *p,
                ImprintFido2LockFlags *io_lock, char **io_pin, ImprintFido2LockFlags if_needed)
{
  const char *touch = _("Please touch the security key.");
  int r, fr;

  if (f->up && (r = fido_assert_set_up (a, (*io_lock & IMPRINT_FIDO2_LOCK_UP) ? FIDO_OPT_TRUE : FIDO_OPT_FALSE)) != FIDO_OK)
    return fido_fail ("set up", r);
  if (f->uv && (r = fido_assert_set_uv (a, (*io_lock & IMPRINT_FIDO2_LOCK_UV) ? FIDO_OPT_TRUE : FIDO_OPT_FALSE)) != FIDO_OK)
    return fido_fail ("set uv", r);

  for (;;)
    {
      if (*io_lock & IMPRINT_FIDO2_LOCK_PIN)
        {
          r = run_with_pin (dev, p, (*io_lock & IMPRINT_FIDO2_LOCK_UP) ? touch : NULL,
                            op_get_assert, a, io_pin, &fr);
          if (r < 0)
            return r;
        }
      else
        {
          if (*io_lock & IMPRINT_FIDO2_LOCK_UP)
            {
              r = notify_touch (p, touch);
              if (r < 0)
                return r;
            }
          fr = fido_dev_get_assert (dev, a, NULL);
        }

      if ((fr == FIDO_ERR_UP_REQUIRED || fr == FIDO_ERR_UNSUPPORTED_OPTION) &&
          f->up && (if_needed & IMPRINT_FIDO2_LOCK_UP) && !(*io_lock & IMPRINT_FIDO2_LOCK_UP))
        {
          /* some keys do not allow switching presence off */
          if ((r = fido_assert_set_up (a, FIDO_OPT_TRUE)) != FIDO_OK)
            return fido_fail ("set up", r);
          *io_lock |= IMPRINT_FIDO2_LOCK_UP;
          continue;
        }
      if (fr == FIDO_ERR_PIN_REQUIRED && f->client_pin && (if_needed & IMPRINT_FIDO2_LOCK_PIN) &&
          !(*io_lock & IMPRINT_FIDO2_LOCK_PIN))
        {
          *io_lock |= IMPRINT_FIDO2_LOCK_PIN;
          continue;
        }
      break;
    }

  if (fr != FIDO_OK)
    return fido_fail ("getAssertion", fr);
  if (fido_assert_hmac_secret_ptr (a, 0) == NULL || fido_assert_hmac_secret_len (a, 0) == 0)
    return -EIO;
  return 0;
}

void
imprint_fido2_enrollment_free (ImprintFido2Enrollment *e)
{
  if (e == NULL)
    return;
  free (e->credential_id);
  imprint_secret_free (e->secret);
  imprint_secret_freep (&e->pin);
  free (e->rp_id);
  explicit_bzero (e, sizeof (*e));
  free (e);
}

int
imprint_fido2_enroll (fido_dev_t *given, const char *path, const ImprintFido2EnrollParams *params,
                      ImprintFido2Enrollment **ret)
{
  _cleanup_fido_dev_ fido_dev_t *owned = NULL;
  _cleanup_(fido_cred_freep) fido_cred_t *c = NULL;
  _cleanup_(fido_assert_freep) fido_assert_t *a = NULL;
  g_autoptr (ImprintFido2Enrollment) e = NULL;
  ImprintFido2LockFlags lock;
  fido_dev_t *dev;
  Features f;
  Prompter p;
  int r, fr, ext = FIDO_EXT_HMAC_SECRET;

  g_return_val_if_fail (params != NULL && params->rp_id != NULL && params->user_id != NULL &&
                        params->user_id_size > 0 && params->user_name != NULL, -EINVAL);
  g_return_val_if_fail (ret != NULL, -EINVAL);

  p = (Prompter) { params->prompt, params->userdata };
  lock = params->lock_with;

  r = acquire_device (given, path, &owned, &dev);
  if (r < 0)
    return r;
  r = get_features (dev, &f);
  if (r < 0)
    return r;
  if (!f.fido2)
    return -ENODEV;
  if (!f.hmac_secret)
    return -EOPNOTSUPP;

  /* Degrade gracefully to what the key can do, like systemd-cryptenroll. */
  if (!f.client_pin)
    lock &= ~IMPRINT_FIDO2_LOCK_PIN;
  if (!f.up)
    lock &= ~IMPRINT_FIDO2_LOCK_UP;
  if (!f.uv)
    lock &= ~IMPRINT_FIDO2_LOCK_UV;

  e = calloc (1, sizeof (*e));
  if (e == NULL)
    return -ENOMEM;
  if (params->salt != NULL)
    memcpy (e->salt, params->salt, sizeof (e->salt));
  else if (RAND_bytes (e->salt, sizeof (e->salt)) != 1)
    return -EIO;

  c = fido_cred_new ();
  if (c == NULL)
    return -ENOMEM;
  if (lock & IMPRINT_FIDO2_LOCK_UV)
    {
      /* a key without credProtect ignores it */
      ext |= FIDO_EXT_CRED_PROTECT;
      if (fido_cred_set_prot (c, FIDO_CRED_PROT_UV_REQUIRED) != FIDO_OK)
        g_debug ("FIDO2: cannot set credProtect, ignoring");
    }
  if ((fr = fido_cred_set_extensions (c, ext)) != FIDO_OK ||
      (fr = fido_cred_set_rp (c, params->rp_id, params->rp_name)) != FIDO_OK ||
      (fr = fido_cred_set_type (c, COSE_ES256)) != FIDO_OK ||
      (fr = fido_cred_set_user (c, params->user_id, params->user_id_size, params->user_name,
                                params->user_display_name, NULL)) != FIDO_OK ||
      (fr = fido_cred_set_clientdata_hash (c, zero_client_data_hash, sizeof (zero_client_data_hash))) != FIDO_OK ||
      (f.rk && (fr = fido_cred_set_rk (c, FIDO_OPT_FALSE)) != FIDO_OK) ||
      (f.uv && (fr = fido_cred_set_uv (c, FIDO_OPT_FALSE)) != FIDO_OK))
    return fido_fail ("credential parameters", fr);

  /* With a PIN lock the same PIN must go to the assertion (else the key uses
   * its "no verification" secret), so ask for it up front. */
  if (lock & IMPRINT_FIDO2_LOCK_PIN)
    fr = FIDO_ERR_PIN_REQUIRED;
  else
    {
      r = notify_touch (&p, _("Please touch the security key to create the credential."));
      if (r < 0)
        return r;
      fr = fido_dev_make_cred (dev, c, NULL);
    }
  if (fr == FIDO_ERR_PIN_REQUIRED)
    {
      if (!f.client_pin)
        return -EIO;
      r = run_with_pin (dev, &p, f.up ? _("Please touch the security key to create the credential.") : NULL,
                        op_make_cred, c, &e->pin, &fr);
      if (r < 0)
        return r;
    }
  if (fr != FIDO_OK)
    return fido_fail ("makeCredential", fr);

  if (fido_cred_id_ptr (c) == NULL || fido_cred_id_len (c) == 0)
    return -EIO;
  e->credential_id = g_memdup2 (fido_cred_id_ptr (c), fido_cred_id_len (c));
  e->credential_id_size = fido_cred_id_len (c);

  a = fido_assert_new ();
  if (a == NULL)
    return -ENOMEM;
  r = assert_set_basics (a, params->rp_id, e->credential_id, e->credential_id_size,
                         e->salt, sizeof (e->salt));
  if (r < 0)
    return r;
  r = hmac_assertion (dev, &f, a, &p, &lock, &e->pin, IMPRINT_FIDO2_LOCK_PIN | IMPRINT_FIDO2_LOCK_UP);
  if (r < 0)
    return r;

  e->secret_size = fido_assert_hmac_secret_len (a, 0);
  e->secret = imprint_secret_alloc (e->secret_size);
  if (e->secret == NULL)
    return -ENOMEM;
  memcpy (e->secret, fido_assert_hmac_secret_ptr (a, 0), e->secret_size);
  e->rp_id = strdup (params->rp_id);
  e->lock_with = lock;
  if (!(lock & IMPRINT_FIDO2_LOCK_PIN))
    imprint_secret_freep (&e->pin);

  *ret = g_steal_pointer (&e);
  return 0;
}

int
imprint_fido2_enroll_luks (fido_dev_t *dev, const char *path, const char *luks_uuid, const char *device_node,
                           ImprintFido2LockFlags lock_with, ImprintFido2PromptFunc prompt, void *userdata,
                           ImprintFido2Enrollment **ret)
{
  ImprintFido2EnrollParams params = {
    .rp_id = IMPRINT_FIDO2_RP_ID_LUKS,
    .rp_name = IMPRINT_FIDO2_RP_NAME_LUKS,
    .user_id = luks_uuid,
    .user_id_size = luks_uuid != NULL ? strlen (luks_uuid) : 0,
    .user_name = luks_uuid,
    .user_display_name = device_node,
    .lock_with = lock_with,
    .prompt = prompt,
    .userdata = userdata,
  };

  g_return_val_if_fail (luks_uuid != NULL && luks_uuid[0] != '\0', -EINVAL);
  return imprint_fido2_enroll (dev, path, &params, ret);
}

int
imprint_fido2_enroll_homed (fido_dev_t *dev, const char *path, const char *user_name, const char *realm,
                            const char *real_name, ImprintFido2LockFlags lock_with,
                            ImprintFido2PromptFunc prompt, void *userdata, ImprintFido2Enrollment **ret)
{
  g_autofree char *id = NULL;
  ImprintFido2EnrollParams params = {
    .rp_id = IMPRINT_FIDO2_RP_ID_HOMED,
    .rp_name = IMPRINT_FIDO2_RP_NAME_HOMED,
    .user_display_name = real_name,
    .lock_with = lock_with,
    .prompt = prompt,
    .userdata = userdata,
  };

  g_return_val_if_fail (user_name != NULL && user_name[0] != '\0', -EINVAL);

  /* homectl concatenates userName and realm as they are */
  id = g_strconcat (user_name, realm, NULL);
  params.user_id = id;
  params.user_id_size = strlen (id);
  params.user_name = id;
  return imprint_fido2_enroll (dev, path, &params, ret);
}

/* ---- unlocking ---- */

/* systemd's pre-flight: a silent assertion tells whether the credential is
 * on this key at all, before bothering the user. */
static int
preflight (fido_dev_t *dev, const Features *f, const char *rp_id, const void *cid, size_t cid_size)
{
  _cleanup_(fido_assert_freep) fido_assert_t *a = fido_assert_new ();
  int fr;

  if (a == NULL)
    return -ENOMEM;
  if ((fr = fido_assert_set_rp (a, rp_id)) != FIDO_OK ||
      (fr = fido_assert_set_clientdata_hash (a, zero_client_data_hash, sizeof (zero_client_data_hash))) != FIDO_OK ||
      (fr = fido_assert_allow_cred (a, cid, cid_size)) != FIDO_OK ||
      (fr = fido_assert_set_up (a, f->up ? FIDO_OPT_FALSE : FIDO_OPT_OMIT)) != FIDO_OK)
    return fido_fail ("pre-flight parameters", fr);

  fr = fido_dev_get_assert (dev, a, NULL);
  if (fr == FIDO_OK)
    return 0;
  return fido_fail ("pre-flight", fr);
}

static int
unlock_internal (fido_dev_t *given, const char *path, const char *rp_id,
                 const void *credential_id, size_t credential_id_size,
                 const void *salt, size_t salt_size, ImprintFido2LockFlags lock_with,
                 ImprintFido2LockFlags if_needed, ImprintFido2PromptFunc prompt, void *userdata,
                 uint8_t **ret_secret, size_t *ret_secret_size)
{
  _cleanup_fido_dev_ fido_dev_t *owned = NULL;
  _cleanup_(fido_assert_freep) fido_assert_t *a = NULL;
  _cleanup_secret_ char *pin = NULL;
  Prompter p = { prompt, userdata };
  ImprintFido2LockFlags lock = lock_with;
  fido_dev_t *dev;
  uint8_t *secret;
  size_t size;
  Features f;
  int r;

  g_return_val_if_fail (rp_id != NULL && credential_id != NULL && credential_id_size > 0, -EINVAL);
  g_return_val_if_fail (salt != NULL && salt_size > 0, -EINVAL);
  g_return_val_if_fail (ret_secret != NULL && ret_secret_size != NULL, -EINVAL);

  r = acquire_device (given, path, &owned, &dev);
  if (r < 0)
    return r;
  r = get_features (dev, &f);
  if (r < 0)
    return r;
  if (!f.fido2)
    return -ENODEV;
  if (!f.hmac_secret)
    return -EOPNOTSUPP;
  if (((lock & IMPRINT_FIDO2_LOCK_PIN) && !f.client_pin) ||
      ((lock & IMPRINT_FIDO2_LOCK_UP) && !f.up) ||
      ((lock & IMPRINT_FIDO2_LOCK_UV) && !f.uv))
    return -EHWPOISON;

  /* Keys may refuse silent requests that need verification. */
  if (!(lock & IMPRINT_FIDO2_LOCK_UV))
    {
      r = preflight (dev, &f, rp_id, credential_id, credential_id_size);
      if (r < 0)
        return r;
    }

  a = fido_assert_new ();
  if (a == NULL)
    return -ENOMEM;
  r = assert_set_basics (a, rp_id, credential_id, credential_id_size, salt, salt_size);
  if (r < 0)
    return r;
  r = hmac_assertion (dev, &f, a, &p, &lock, &pin, if_needed);
  if (r < 0)
    return r;

  size = fido_assert_hmac_secret_len (a, 0);
  /* libfido2 keeps its own copy, freed (and wiped) with the assertion. */
  secret = imprint_secret_alloc (size);
  if (secret == NULL)
    return -ENOMEM;
  memcpy (secret, fido_assert_hmac_secret_ptr (a, 0), size);
  *ret_secret = secret;
  *ret_secret_size = size;
  return 0;
}

int
imprint_fido2_unlock (fido_dev_t *dev, const char *path, const char *rp_id,
                      const void *credential_id, size_t credential_id_size,
                      const void *salt, size_t salt_size, ImprintFido2LockFlags lock_with,
                      ImprintFido2PromptFunc prompt, void *userdata,
                      uint8_t **ret_secret, size_t *ret_secret_size)
{
  return unlock_internal (dev, path, rp_id, credential_id, credential_id_size, salt, salt_size,
                          lock_with, 0, prompt, userdata, ret_secret, ret_secret_size);
}

static int
json_get_bool (JsonObject *o, const char *key, bool *ret)
{
  JsonNode *n = json_object_get_member (o, key);

  if (n == NULL)
    return 0;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return -EINVAL;
  *ret = json_node_get_boolean (n);
  return 1;
}

static int
json_get_base64 (JsonObject *o, const char *key, guchar **ret, gsize *ret_size)
{
  JsonNode *n = json_object_get_member (o, key);
  const char *s;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return -EINVAL;
  s = json_node_get_string (n);
  if (s == NULL || s[0] == '\0')
    return -EINVAL;
  *ret = g_base64_decode (s, ret_size);
  return *ret_size > 0 ? 0 : -EINVAL;
}

int
imprint_fido2_unlock_luks_token (fido_dev_t *dev, const char *path, const char *token_json,
                                 ImprintFido2PromptFunc prompt, void *userdata, char **ret_passphrase)
{
  g_autoptr (JsonNode) root = NULL;
  g_autofree guchar *cid = NULL, *salt = NULL;
  gsize cid_size = 0, salt_size = 0;
  ImprintFido2LockFlags lock = 0, if_needed = 0;
  const char *rp_id = IMPRINT_FIDO2_RP_ID_LUKS;
  uint8_t *secret = NULL;
  size_t secret_size = 0;
  JsonObject *o;
  JsonNode *n;
  bool b;
  int r;

  g_return_val_if_fail (token_json != NULL && ret_passphrase != NULL, -EINVAL);

  /* The token comes from the disk's LUKS2 header. */
  o = imprint_json_parse_object (token_json, -1, IMPRINT_JSON_MAX_BYTES, &root, NULL);
  if (o == NULL)
    return -EINVAL;
  if (g_strcmp0 (json_object_get_string_member_with_default (o, "type", NULL), IMPRINT_FIDO2_TOKEN_TYPE) != 0)
    return -EMEDIUMTYPE;
  if (json_get_base64 (o, "fido2-credential", &cid, &cid_size) < 0 ||
      json_get_base64 (o, "fido2-salt", &salt, &salt_size) < 0)
    return -EINVAL;
  n = json_object_get_member (o, "fido2-rp");
  if (n != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        return -EINVAL;
      rp_id = json_node_get_string (n);
    }
  /* A missing flag means "if the key asks", as systemd reads tokens written
   * by v248. */
  if ((r = json_get_bool (o, "fido2-clientPin-required", &b)) < 0)
    return r;
  if (r == 0)
    if_needed |= IMPRINT_FIDO2_LOCK_PIN;
  else if (b)
    lock |= IMPRINT_FIDO2_LOCK_PIN;
  if ((r = json_get_bool (o, "fido2-up-required", &b)) < 0)
    return r;
  if (r == 0)
    if_needed |= IMPRINT_FIDO2_LOCK_UP;
  else if (b)
    lock |= IMPRINT_FIDO2_LOCK_UP;
  if ((r = json_get_bool (o, "fido2-uv-required", &b)) < 0)
    return r;
  if (r > 0 && b)
    lock |= IMPRINT_FIDO2_LOCK_UV;

  r = unlock_internal (dev, path, rp_id, cid, cid_size, salt, salt_size, lock, if_needed,
                       prompt, userdata, &secret, &secret_size);
  if (r < 0)
    return r;
  r = imprint_fido2_passphrase (secret, secret_size, ret_passphrase);
  imprint_secret_free (secret);
  return r;
}

/* ---- formats ---- */

int
imprint_fido2_passphrase (const void *secret, size_t secret_size, char **ret)
{
  char *s;
  int n;

  g_return_val_if_fail (secret != NULL && secret_size > 0 && secret_size < 4096, -EINVAL);

  s = imprint_secret_alloc (4 * ((secret_size + 2) / 3) + 1);
  if (s == NULL)
    return -ENOMEM;
  n = EVP_EncodeBlock ((unsigned char *) s, secret, (int) secret_size);
  if (n <= 0)
    {
      imprint_secret_free (s);
      return -EIO;
    }
  s[n] = '\0';
  *ret = s;
  return 0;
}

static char *
builder_to_string (JsonBuilder *b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);

  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

int
imprint_fido2_luks_token_json (const ImprintFido2Enrollment *e, int keyslot, char **ret_json)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *cid = NULL, *salt = NULL, *slot = NULL;

  g_return_val_if_fail (e != NULL && e->credential_id != NULL && keyslot >= 0, -EINVAL);
  g_return_val_if_fail (ret_json != NULL, -EINVAL);

  cid = g_base64_encode (e->credential_id, e->credential_id_size);
  salt = g_base64_encode (e->salt, sizeof (e->salt));
  slot = g_strdup_printf ("%d", keyslot);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, IMPRINT_FIDO2_TOKEN_TYPE);
  json_builder_set_member_name (b, "keyslots");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, slot);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "fido2-credential");
  json_builder_add_string_value (b, cid);
  json_builder_set_member_name (b, "fido2-salt");
  json_builder_add_string_value (b, salt);
  json_builder_set_member_name (b, "fido2-rp");
  json_builder_add_string_value (b, e->rp_id != NULL ? e->rp_id : IMPRINT_FIDO2_RP_ID_LUKS);
  json_builder_set_member_name (b, "fido2-clientPin-required");
  json_builder_add_boolean_value (b, (e->lock_with & IMPRINT_FIDO2_LOCK_PIN) != 0);
  json_builder_set_member_name (b, "fido2-up-required");
  json_builder_add_boolean_value (b, (e->lock_with & IMPRINT_FIDO2_LOCK_UP) != 0);
  json_builder_set_member_name (b, "fido2-uv-required");
  json_builder_add_boolean_value (b, (e->lock_with & IMPRINT_FIDO2_LOCK_UV) != 0);
  json_builder_end_object (b);

  *ret_json = builder_to_string (b);
  return 0;
}

int
imprint_fido2_homed_salt_json (const ImprintFido2Enrollment *e, const char *hashed_password, char **ret_json)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *cid = NULL, *salt = NULL;

  g_return_val_if_fail (e != NULL && e->credential_id != NULL && hashed_password != NULL, -EINVAL);
  g_return_val_if_fail (ret_json != NULL, -EINVAL);

  cid = g_base64_encode (e->credential_id, e->credential_id_size);
  salt = g_base64_encode (e->salt, sizeof (e->salt));

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "credential");
  json_builder_add_string_value (b, cid);
  json_builder_set_member_name (b, "salt");
  json_builder_add_string_value (b, salt);
  json_builder_set_member_name (b, "hashedPassword");
  json_builder_add_string_value (b, hashed_password);
  json_builder_set_member_name (b, "up");
  json_builder_add_boolean_value (b, (e->lock_with & IMPRINT_FIDO2_LOCK_UP) != 0);
  json_builder_set_member_name (b, "uv");
  json_builder_add_boolean_value (b, (e->lock_with & IMPRINT_FIDO2_LOCK_UV) != 0);
  json_builder_set_member_name (b, "clientPin");
  json_builder_add_boolean_value (b, (e->lock_with & IMPRINT_FIDO2_LOCK_PIN) != 0);
  json_builder_end_object (b);

  *ret_json = builder_to_string (b);
  return 0;
}

/* ---- device list ---- */

static void
describe_device (const fido_dev_info_t *di, GVariantBuilder *out)
{
  _cleanup_fido_dev_ fido_dev_t *dev = NULL;
  const char *path = fido_dev_info_path (di);
  Features f = { 0 };
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
  else if (get_features (dev, &f) < 0)
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

  fido_init_once ();
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

  fido_init_once ();
  list = fido_dev_info_new (MAX_DEVICES);
  if (list == NULL)
    return -ENOMEM;
  r = fido_dev_info_manifest (list, MAX_DEVICES, &found);
  if (r != FIDO_OK && r != FIDO_ERR_INTERNAL)
    r = fido_fail ("manifest", r);
  else
    r = imprint_fido2_list_devices_from (list, found, ret);
  fido_dev_info_free (&list, MAX_DEVICES);
  return r;
}
