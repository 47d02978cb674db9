/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json-bounded.h"
#include "luks.h"
#include "macros.h"
#include "recovery-key.h"
#include "secret.h"
#include "cleanup-cryptsetup.h"

#define SECTOR 512

/* libcryptsetup never puts key material in its log messages; route them to
 * GLib's debug log instead of stderr. */
static void
imprint_crypt_log (int level, const char *msg, void *usrptr)
{
  g_autofree char *m = g_strchomp (g_strdup (msg));

  if (level == CRYPT_LOG_ERROR)
    g_info ("libcryptsetup: %s", m);
  else
    g_debug ("libcryptsetup: %s", m);
}

static void
setup_logging (struct crypt_device *cd)
{
  static gsize global_done = 0;

  /* Also the default, for messages about contexts that failed to load. */
  if (g_once_init_enter (&global_done))
    {
      crypt_set_log_callback (NULL, imprint_crypt_log, NULL);
      g_once_init_leave (&global_done, 1);
    }
  crypt_set_log_callback (cd, imprint_crypt_log, NULL);
}

static const struct crypt_pbkdf_type minimal_pbkdf = {
  .type = CRYPT_KDF_PBKDF2,
  .hash = "sha512",
  .iterations = 1000,
  .flags = CRYPT_PBKDF_NO_BENCHMARK,
};

static int
set_pbkdf (struct crypt_device *cd, ImprintLuksPbkdf kind, const struct crypt_pbkdf_type *override)
{
  const struct crypt_pbkdf_type *p;

  if (override)
    p = override;
  else if (kind == IMPRINT_LUKS_PBKDF_MINIMAL)
    p = &minimal_pbkdf;
  else
    p = crypt_get_pbkdf_default (CRYPT_LUKS2);

  return crypt_set_pbkdf_type (cd, p);
}

int
imprint_luks_format (const char *device,
                     const char *label,
                     const void *passphrase, size_t passphrase_size,
                     struct crypt_device **ret_cd,
                     int *ret_keyslot)
{
  _cleanup_crypt_free_ struct crypt_device *cd = NULL;
  struct crypt_params_luks2 params = {
    .label = label,
  };
  int r, slot;

  if (!device || !passphrase || passphrase_size == 0)
    return -EINVAL;

  r = crypt_init (&cd, device);
  if (r < 0)
    return r;
  setup_logging (cd);

  r = set_pbkdf (cd, IMPRINT_LUKS_PBKDF_MINIMAL, NULL);
  if (r < 0)
    return r;

  r = crypt_format (cd, CRYPT_LUKS2, IMPRINT_LUKS_CIPHER, IMPRINT_LUKS_CIPHER_MODE,
                    NULL, NULL, IMPRINT_LUKS_VOLUME_KEY_SIZE, &params);
  if (r < 0)
    return r;

  /* NULL volume key: the one crypt_format() generated and still holds. */
  slot = crypt_keyslot_add_by_volume_key (cd, CRYPT_ANY_SLOT, NULL, 0, passphrase, passphrase_size);
  if (slot < 0)
    return slot;

  *ret_cd = TAKE_PTR (cd);
  if (ret_keyslot)
    *ret_keyslot = slot;
  return 0;
}

typedef struct {
  ImprintCryptProgressFunc func;
  void *userdata;
} ProgressClosure;

static int
reencrypt_progress (uint64_t size, uint64_t offset, void *usrptr)
{
  ProgressClosure *c = usrptr;

  if (!c->func || size == 0)
    return 0;
  /* Non-zero stops the reencryption; it can be resumed later. */
  return c->func ((double) offset / (double) size, c->userdata) ? 0 : 1;
}

static void
unlink_and_free (char **p)
{
  if (*p)
    {
      (void) unlink (*p);
      g_free (*p);
    }
}

static void
rmdir_and_free (char **p)
{
  if (*p)
    {
      (void) rmdir (*p);
      g_free (*p);
    }
}

/* If the region starts with an ext2/3/4 filesystem, returns its size in
 * bytes (0 otherwise): in-place encryption must not start when the
 * filesystem reaches into the space the header shift needs. */
static int
ext4_size (int fd, uint64_t *ret)
{
  uint8_t sb[1024];
  uint64_t blocks;
  uint32_t log_bs;

  if (pread (fd, sb, sizeof (sb), 1024) != (ssize_t) sizeof (sb))
    {
      *ret = 0;
      return 0;
    }
  if (sb[0x38] != 0x53 || sb[0x39] != 0xef)
    {
      *ret = 0;
      return 0;
    }

  blocks = (uint64_t) sb[0x04] | (uint64_t) sb[0x05] << 8 | (uint64_t) sb[0x06] << 16 | (uint64_t) sb[0x07] << 24;
  /* INCOMPAT_64BIT: the high half of the block count is valid. */
  if (sb[0x60] & 0x80)
    blocks |= ((uint64_t) sb[0x150] | (uint64_t) sb[0x151] << 8 | (uint64_t) sb[0x152] << 16 |
               (uint64_t) sb[0x153] << 24) << 32;
  log_bs = (uint32_t) sb[0x18] | (uint32_t) sb[0x19] << 8 | (uint32_t) sb[0x1a] << 16 | (uint32_t) sb[0x1b] << 24;
  if (log_bs > 6)
    return -EBADMSG;

  *ret = blocks * (UINT64_C (1024) << log_bs);
  return 0;
}

int
imprint_luks_encrypt_in_place (const char *device,
                               const char *label,
                               const void *passphrase, size_t passphrase_size,
                               ImprintCryptProgressFunc progress, void *userdata,
                               struct crypt_device **ret_cd,
                               int *ret_keyslot)
{
  _cleanup_crypt_free_ struct crypt_device *cd = NULL;
  __attribute__ ((cleanup (rmdir_and_free))) char *tmpdir = NULL;
  __attribute__ ((cleanup (unlink_and_free))) char *header = NULL;
  const struct crypt_params_luks2 luks2 = {
    .label = label,
    .sector_size = SECTOR,
  };
  struct crypt_params_reencrypt params = {
    .mode = CRYPT_REENCRYPT_ENCRYPT,
    /* Backwards with a data shift: the data moves HEADER_SIZE further in,
     * starting at the end, while the first segment waits in the reserve. */
    .direction = CRYPT_REENCRYPT_BACKWARD,
    .resilience = "datashift",
    .hash = "sha256",
    .data_shift = IMPRINT_LUKS_HEADER_SIZE / SECTOR,
    .luks2 = &luks2,
    .flags = CRYPT_REENCRYPT_INITIALIZE_ONLY | CRYPT_REENCRYPT_MOVE_FIRST_SEGMENT,
  };
  ProgressClosure closure = { progress, userdata };
  _cleanup_close_ int fd = -1;
  struct stat st;
  uint64_t size;
  int r, slot;

  if (!device || !passphrase || passphrase_size == 0)
    return -EINVAL;

  /* Refuse early when the region cannot hold header and reserve. */
  fd = open (device, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  if (fstat (fd, &st) < 0)
    return -errno;
  if (S_ISREG (st.st_mode))
    size = (uint64_t) st.st_size;
  else
    {
      off_t end = lseek (fd, 0, SEEK_END);
      if (end < 0)
        return -errno;
      size = (uint64_t) end;
    }
  if (size <= IMPRINT_LUKS_ENCRYPT_RESERVE + IMPRINT_LUKS_HEADER_SIZE)
    return -ENOSPC;
  {
    uint64_t fs_size = 0;

    r = ext4_size (fd, &fs_size);
    if (r < 0)
      return r;
    if (fs_size > size - IMPRINT_LUKS_ENCRYPT_RESERVE)
      {
        g_info ("The filesystem on %s fills the space the LUKS2 header needs; shrink it by %" G_GUINT64_FORMAT " bytes",
                device, fs_size - (size - IMPRINT_LUKS_ENCRYPT_RESERVE));
        return -ENOSPC;
      }
  }
  close (TAKE_FD (fd));

  /* The new header is built detached first, in a private directory, then
   * restored to the head of the device once the first segment is moved,
   * as "cryptsetup reencrypt --encrypt --reduce-device-size" does. */
  tmpdir = g_strdup ("/tmp/imprint-luks-XXXXXX");
  if (!g_mkdtemp_full (tmpdir, 0700))
    {
      r = -errno;
      g_clear_pointer (&tmpdir, g_free);
      return r;
    }
  header = g_build_filename (tmpdir, "header", NULL);
  fd = open (header, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return -errno;
  r = posix_fallocate (fd, 0, 4096);
  if (r > 0)
    return -r;
  close (TAKE_FD (fd));

  r = crypt_init_data_device (&cd, header, device);
  if (r < 0)
    return r;
  setup_logging (cd);

  r = crypt_set_data_offset (cd, IMPRINT_LUKS_HEADER_SIZE / SECTOR);
  if (r < 0)
    return r;

  r = set_pbkdf (cd, IMPRINT_LUKS_PBKDF_MINIMAL, NULL);
  if (r < 0)
    return r;

  r = crypt_format (cd, CRYPT_LUKS2, IMPRINT_LUKS_CIPHER, IMPRINT_LUKS_CIPHER_MODE,
                    NULL, NULL, IMPRINT_LUKS_VOLUME_KEY_SIZE, (void *) &luks2);
  if (r < 0)
    return r;

  slot = crypt_keyslot_add_by_volume_key (cd, CRYPT_ANY_SLOT, NULL, 0, passphrase, passphrase_size);
  if (slot < 0)
    return slot;

  r = crypt_reencrypt_init_by_passphrase (cd, NULL, passphrase, passphrase_size,
                                          CRYPT_ANY_SLOT, slot,
                                          IMPRINT_LUKS_CIPHER, IMPRINT_LUKS_CIPHER_MODE,
                                          &params);
  if (r < 0)
    return r;

  crypt_free (TAKE_PTR (cd));

  r = crypt_init (&cd, device);
  if (r < 0)
    return r;
  setup_logging (cd);

  r = crypt_header_restore (cd, CRYPT_LUKS2, header);
  if (r < 0)
    return r;

  params.flags &= ~CRYPT_REENCRYPT_INITIALIZE_ONLY;
  r = crypt_reencrypt_init_by_passphrase (cd, NULL, passphrase, passphrase_size,
                                          CRYPT_ANY_SLOT, slot, NULL, NULL, &params);
  if (r < 0)
    return r;

  r = crypt_reencrypt_run (cd, reencrypt_progress, &closure);
  if (r < 0)
    return r;
  if (crypt_reencrypt_status (cd, NULL) != CRYPT_REENCRYPT_NONE)
    return -ECANCELED;

  *ret_cd = TAKE_PTR (cd);
  if (ret_keyslot)
    *ret_keyslot = slot;
  return 0;
}

int
imprint_luks_open (const char *device, struct crypt_device **ret_cd)
{
  _cleanup_crypt_free_ struct crypt_device *cd = NULL;
  int r;

  if (!device)
    return -EINVAL;

  r = crypt_init (&cd, device);
  if (r < 0)
    return r;
  setup_logging (cd);

  r = crypt_load (cd, CRYPT_LUKS2, NULL);
  if (r < 0)
    return r;

  *ret_cd = TAKE_PTR (cd);
  return 0;
}

int
imprint_luks_volume_key_get (struct crypt_device *cd,
                             const void *passphrase, size_t passphrase_size,
                             void **ret_volume_key, size_t *ret_volume_key_size,
                             int *ret_keyslot)
{
  size_t size;
  char *vk;
  int r;

  if (!cd || !passphrase)
    return -EINVAL;

  r = crypt_get_volume_key_size (cd);
  if (r <= 0)
    return -EINVAL;
  size = (size_t) r;

  /* libcryptsetup writes the key into our buffer; it takes no ownership. */
  vk = imprint_secret_alloc (size);
  if (!vk)
    return -ENOMEM;

  r = crypt_volume_key_get (cd, CRYPT_ANY_SLOT, vk, &size, passphrase, passphrase_size);
  if (r < 0)
    {
      imprint_secret_free (vk);
      return r;
    }

  *ret_volume_key = vk;
  *ret_volume_key_size = size;
  if (ret_keyslot)
    *ret_keyslot = r;
  return 0;
}

int
imprint_luks_add_keyslot (struct crypt_device *cd,
                          const void *volume_key, size_t volume_key_size,
                          const void *passphrase, size_t passphrase_size,
                          ImprintLuksPbkdf kind,
                          const struct crypt_pbkdf_type *pbkdf_override,
                          int *ret_keyslot)
{
  int r, slot;

  if (!cd || !volume_key || !passphrase || passphrase_size == 0)
    return -EINVAL;

  r = set_pbkdf (cd, kind, pbkdf_override);
  if (r < 0)
    return r;

  slot = crypt_keyslot_add_by_volume_key (cd, CRYPT_ANY_SLOT, volume_key, volume_key_size,
                                          passphrase, passphrase_size);
  if (slot < 0)
    return slot;

  if (ret_keyslot)
    *ret_keyslot = slot;
  return 0;
}

int
imprint_luks_token_import (struct crypt_device *cd,
                           int keyslot,
                           JsonObject *token,
                           int *ret_token)
{
  g_autoptr (JsonObject) copy = json_object_new ();
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonArray) keyslots = json_array_new ();
  g_autoptr (GList) members = NULL;
  g_autofree char *json = NULL;
  const char *type;
  int t;

  if (!cd || !token || keyslot < 0)
    return -EINVAL;

  type = json_object_get_string_member_with_default (token, "type", NULL);
  if (!type || !*type)
    return -EINVAL;

  /* "type" first, then "keyslots" with exactly one decimal string (see
   * cryptsetup_get_keyslot_from_token() in systemd), then the rest. */
  json_object_set_string_member (copy, "type", type);
  {
    char num[16];
    g_snprintf (num, sizeof (num), "%i", keyslot);
    json_array_add_string_element (keyslots, num);
  }
  json_object_set_array_member (copy, "keyslots", g_steal_pointer (&keyslots));

  members = json_object_get_members (token);
  for (GList *l = members; l; l = l->next)
    {
      const char *name = l->data;

      if (g_str_equal (name, "type") || g_str_equal (name, "keyslots"))
        continue;
      json_object_set_member (copy, name, json_node_copy (json_object_get_member (token, name)));
    }

  node = json_node_init_object (json_node_alloc (), copy);
  json = json_to_string (node, FALSE);

  /* libcryptsetup validates the JSON here, through the type's token plugin
   * when one is installed (systemd's, for "systemd-*" types). */
  t = crypt_token_json_set (cd, CRYPT_ANY_TOKEN, json);
  if (t < 0)
    return t;

  if (ret_token)
    *ret_token = t;
  return 0;
}

int
imprint_luks_enroll (struct crypt_device *cd,
                     const void *volume_key, size_t volume_key_size,
                     const void *passphrase, size_t passphrase_size,
                     ImprintLuksPbkdf kind,
                     const struct crypt_pbkdf_type *pbkdf_override,
                     JsonObject *token,
                     int *ret_keyslot,
                     int *ret_token)
{
  int r, slot, t = -1;

  r = imprint_luks_add_keyslot (cd, volume_key, volume_key_size, passphrase, passphrase_size,
                                kind, pbkdf_override, &slot);
  if (r < 0)
    return r;

  if (token)
    {
      r = imprint_luks_token_import (cd, slot, token, &t);
      if (r < 0)
        {
          (void) crypt_keyslot_destroy (cd, slot);
          return r;
        }
    }

  if (ret_keyslot)
    *ret_keyslot = slot;
  if (ret_token)
    *ret_token = t;
  return 0;
}

static int
count_active_keyslots (struct crypt_device *cd)
{
  int max = crypt_keyslot_max (CRYPT_LUKS2), n = 0;

  for (int i = 0; i < max; i++)
    {
      crypt_keyslot_info ki = crypt_keyslot_status (cd, i);
      if (ki == CRYPT_SLOT_ACTIVE || ki == CRYPT_SLOT_ACTIVE_LAST)
        n++;
    }
  return n;
}

static bool
keyslot_is_active (struct crypt_device *cd, int keyslot)
{
  crypt_keyslot_info ki = crypt_keyslot_status (cd, keyslot);
  return ki == CRYPT_SLOT_ACTIVE || ki == CRYPT_SLOT_ACTIVE_LAST;
}

int
imprint_luks_remove_keyslot (struct crypt_device *cd, int keyslot)
{
  int max_tokens = crypt_token_max (CRYPT_LUKS2);

  if (!cd || keyslot < 0)
    return -EINVAL;
  if (!keyslot_is_active (cd, keyslot))
    return -ENOENT;
  if (count_active_keyslots (cd) <= 1)
    return -EBUSY;

  for (int t = 0; t < max_tokens; t++)
    if (crypt_token_is_assigned (cd, t, keyslot) == 0)
      {
        int r = crypt_token_json_set (cd, t, NULL);
        if (r < 0)
          return r;
      }

  return crypt_keyslot_destroy (cd, keyslot);
}

static int
token_parse (struct crypt_device *cd, int id, ImprintLuksToken *ret)
{
  g_autoptr (JsonNode) node = NULL;
  g_autofree int *slots = NULL;
  JsonObject *o;
  JsonArray *a;
  const char *json, *type;
  size_t n = 0;
  int r;

  r = crypt_token_json_get (cd, id, &json);
  if (r < 0)
    return r;

  node = imprint_json_parse (json, NULL);
  if (!node || !JSON_NODE_HOLDS_OBJECT (node))
    return -EBADMSG;
  o = json_node_get_object (node);

  type = json_object_get_string_member_with_default (o, "type", NULL);
  if (!type)
    return -EBADMSG;

  a = json_object_has_member (o, "keyslots") ? json_object_get_array_member (o, "keyslots") : NULL;
  if (a)
    {
      slots = g_new0 (int, json_array_get_length (a) + 1);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          const char *s = json_node_get_string (json_array_get_element (a, i));
          guint64 v;

          if (!s || !g_ascii_string_to_unsigned (s, 10, 0, INT32_MAX, &v, NULL))
            return -EBADMSG;
          slots[n++] = (int) v;
        }
    }

  *ret = (ImprintLuksToken) {
    .id = id,
    .type = g_strdup (type),
    .keyslots = g_steal_pointer (&slots),
    .n_keyslots = n,
    .json = g_strdup (json),
  };
  return 0;
}

void
imprint_luks_tokens_free (ImprintLuksToken *tokens, size_t n)
{
  if (!tokens)
    return;
  for (size_t i = 0; i < n; i++)
    {
      g_free (tokens[i].type);
      g_free (tokens[i].keyslots);
      g_free (tokens[i].json);
    }
  g_free (tokens);
}

int
imprint_luks_list_tokens (struct crypt_device *cd, ImprintLuksToken **ret_tokens, size_t *ret_n)
{
  int max = crypt_token_max (CRYPT_LUKS2);
  ImprintLuksToken *tokens;
  size_t n = 0;

  if (!cd || max <= 0)
    return -EINVAL;

  tokens = g_new0 (ImprintLuksToken, max);
  for (int t = 0; t < max; t++)
    {
      crypt_token_info ti = crypt_token_status (cd, t, NULL);
      int r;

      if (ti == CRYPT_TOKEN_INVALID || ti == CRYPT_TOKEN_INACTIVE)
        continue;

      r = token_parse (cd, t, &tokens[n]);
      if (r < 0)
        {
          imprint_luks_tokens_free (tokens, n);
          return r;
        }
      n++;
    }

  *ret_tokens = tokens;
  *ret_n = n;
  return 0;
}

int
imprint_luks_list_plain_keyslots (struct crypt_device *cd, int **ret_keyslots, size_t *ret_n)
{
  int max = crypt_keyslot_max (CRYPT_LUKS2), max_tokens = crypt_token_max (CRYPT_LUKS2);
  g_autofree int *slots = NULL;
  size_t n = 0;

  if (!cd || max <= 0)
    return -EINVAL;

  slots = g_new0 (int, max);
  for (int i = 0; i < max; i++)
    {
      bool has_token = false;

      if (!keyslot_is_active (cd, i))
        continue;
      for (int t = 0; t < max_tokens && !has_token; t++)
        has_token = crypt_token_is_assigned (cd, t, i) == 0;
      if (!has_token)
        slots[n++] = i;
    }

  *ret_keyslots = g_steal_pointer (&slots);
  *ret_n = n;
  return 0;
}

int
imprint_luks_remove_token (struct crypt_device *cd, int token)
{
  ImprintLuksToken t = { 0 };
  int r, remaining;

  if (!cd || token < 0)
    return -EINVAL;

  r = token_parse (cd, token, &t);
  if (r < 0)
    return r;

  remaining = count_active_keyslots (cd);
  for (size_t i = 0; i < t.n_keyslots; i++)
    if (keyslot_is_active (cd, t.keyslots[i]))
      remaining--;
  if (remaining <= 0)
    r = -EBUSY;
  else
    r = crypt_token_json_set (cd, token, NULL);
  for (size_t i = 0; r >= 0 && i < t.n_keyslots; i++)
    if (keyslot_is_active (cd, t.keyslots[i]))
      r = imprint_luks_remove_keyslot (cd, t.keyslots[i]);

  g_free (t.type);
  g_free (t.keyslots);
  g_free (t.json);
  return r < 0 ? r : 0;
}

int
imprint_luks_check_passphrase (struct crypt_device *cd,
                               const void *passphrase, size_t passphrase_size,
                               int *ret_keyslot)
{
  int r;

  if (!cd || !passphrase)
    return -EINVAL;

  r = crypt_activate_by_passphrase (cd, NULL, CRYPT_ANY_SLOT, passphrase, passphrase_size, 0);
  if (r < 0)
    return r;

  if (ret_keyslot)
    *ret_keyslot = r;
  return 0;
}

int
imprint_luks_check_token (struct crypt_device *cd, const char *type, const char *pin, int *ret_keyslot)
{
  int r;

  if (!cd)
    return -EINVAL;

  r = crypt_activate_by_token_pin (cd, NULL, type, CRYPT_ANY_TOKEN,
                                   pin, pin ? strlen (pin) : 0, NULL, 0);
  if (r < 0)
    return r;

  if (ret_keyslot)
    *ret_keyslot = r;
  return 0;
}

JsonObject *
imprint_luks_recovery_token_new (void)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "type", "systemd-recovery");
  return o;
}

typedef struct {
  void *data;
  size_t size;
} Secret;

static void
secret_done (Secret *s)
{
  imprint_secret_free (s->data);
  s->data = NULL;
  s->size = 0;
}

int
imprint_luks_set_recovery_key (struct crypt_device *cd,
                               const void *unlock, size_t unlock_size,
                               const char *key,
                               int *ret_keyslot)
{
  _cleanup_ (secret_done) Secret vk = { 0 };
  g_autoptr (JsonObject) token = imprint_luks_recovery_token_new ();
  ImprintLuksToken *tokens = NULL;
  size_t n = 0;
  int r, slot;

  if (!cd || !unlock || !key || !imprint_recovery_key_is_valid (key))
    return -EINVAL;

  r = imprint_luks_volume_key_get (cd, unlock, unlock_size, &vk.data, &vk.size, NULL);
  if (r < 0)
    return r;

  /* The new key first, so the volume never has fewer ways in. */
  r = imprint_luks_enroll (cd, vk.data, vk.size, key, strlen (key),
                           IMPRINT_LUKS_PBKDF_MINIMAL, NULL, token, &slot, NULL);
  if (r < 0)
    return r;

  r = imprint_luks_list_tokens (cd, &tokens, &n);
  for (size_t i = 0; r >= 0 && i < n; i++)
    {
      bool is_new = false;

      if (!g_str_equal (tokens[i].type, "systemd-recovery"))
        continue;
      for (size_t k = 0; k < tokens[i].n_keyslots; k++)
        is_new = is_new || tokens[i].keyslots[k] == slot;
      if (!is_new)
        r = imprint_luks_remove_token (cd, tokens[i].id);
    }
  imprint_luks_tokens_free (tokens, n);
  if (r < 0)
    return r;

  if (ret_keyslot)
    *ret_keyslot = slot;
  return 0;
}

int
imprint_luks_regenerate_recovery_key (struct crypt_device *cd,
                                      const void *unlock, size_t unlock_size,
                                      char **ret_key)
{
  _cleanup_secret_ char *key = NULL;
  int r;

  if (!cd || !unlock || !ret_key)
    return -EINVAL;

  r = imprint_recovery_key_generate (&key);
  if (r < 0)
    return r;

  r = imprint_luks_set_recovery_key (cd, unlock, unlock_size, key, NULL);
  if (r < 0)
    return r;

  *ret_key = TAKE_PTR (key);
  return 0;
}

int
imprint_luks_set_passphrase (struct crypt_device *cd,
                             const void *unlock, size_t unlock_size,
                             const char *new_passphrase,
                             const struct crypt_pbkdf_type *pbkdf_override,
                             int *ret_keyslot)
{
  _cleanup_ (secret_done) Secret vk = { 0 };
  g_autofree int *plain = NULL;
  size_t n_plain = 0;
  int r, slot = -1;

  if (!cd || !unlock || (new_passphrase && !*new_passphrase))
    return -EINVAL;

  r = imprint_luks_volume_key_get (cd, unlock, unlock_size, &vk.data, &vk.size, NULL);
  if (r < 0)
    return r;

  r = imprint_luks_list_plain_keyslots (cd, &plain, &n_plain);
  if (r < 0)
    return r;

  if (new_passphrase)
    {
      r = imprint_luks_add_keyslot (cd, vk.data, vk.size, new_passphrase, strlen (new_passphrase),
                                    IMPRINT_LUKS_PBKDF_DEFAULT, pbkdf_override, &slot);
      if (r < 0)
        return r;
    }
  else if (count_active_keyslots (cd) <= (int) n_plain)
    return -EBUSY;

  for (size_t i = 0; i < n_plain; i++)
    {
      r = imprint_luks_remove_keyslot (cd, plain[i]);
      if (r < 0)
        return r;
    }

  if (ret_keyslot)
    *ret_keyslot = slot;
  return 0;
}
