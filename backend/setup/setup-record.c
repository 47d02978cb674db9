/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <string.h>

#include "json-bounded.h"
#include "imprint-setup.h"
#include "macros.h"
#include "secret.h"

/* homed checks passwords with crypt(3) against privileged.hashedPassword,
 * and hashes the way libxcrypt prefers (yescrypt). A "$6$" hash is what
 * glibc-only systems produce; homed accepts both. */
/* The crypt data holds the password while hashing. libxcrypt allocates
 * (and grows) it with malloc() itself, so it cannot live in secret memory:
 * wipe it and give it back to the allocator it came from. */
static void
crypt_data_free (void *data, int size)
{
  if (data == NULL)
    return;
  explicit_bzero (data, size > 0 ? (size_t) size : 0);
  free (data);
}

int
imprint_setup_hash_password (const char *password, char **ret)
{
  static const char *const prefixes[] = { "$y$", "$6$" };
  _cleanup_free_ char *salt = NULL;
  void *data = NULL;
  int size = 0;
  const char *hash;
  char *copy;

  if (password == NULL || ret == NULL)
    return -EINVAL;

  for (size_t i = 0; i < ELEMENTSOF (prefixes) && salt == NULL; i++)
    {
      errno = 0;
      /* NULL random bytes: libxcrypt reads them from the kernel itself. */
      salt = crypt_gensalt_ra (prefixes[i], 0, NULL, 0);
    }
  if (salt == NULL)
    return errno > 0 ? -errno : -EOPNOTSUPP;

  errno = 0;
  hash = crypt_ra (password, salt, &data, &size);
  if (hash == NULL || hash[0] == '*')
    {
      int r = errno > 0 ? -errno : -EINVAL;
      crypt_data_free (data, size);
      return r;
    }
  copy = g_strdup (hash);
  crypt_data_free (data, size);
  *ret = copy;
  return 0;
}

bool
imprint_setup_verify_password (const char *password, const char *hash)
{
  void *data = NULL;
  int size = 0;
  const char *k;
  bool ok;

  if (password == NULL || hash == NULL || hash[0] == '\0')
    return false;
  k = crypt_ra (password, hash, &data, &size);
  ok = k != NULL && k[0] != '*' && strcmp (k, hash) == 0;
  crypt_data_free (data, size);
  return ok;
}

/* The names homed refuses: taken by the base system everywhere. */
static const char *const reserved_names[] = {
  "root", "nobody", "nfsnobody", "daemon", "bin", "sys", "sync", "adm", "wheel",
  "systemd-coredump", "systemd-network", "systemd-resolve", "systemd-timesync",
  "messagebus", "polkitd", "gdm", "sddm",
};

bool
imprint_setup_user_name_is_valid (const char *name)
{
  size_t n;

  if (name == NULL || name[0] == '\0')
    return false;
  n = strlen (name);
  /* 31: what utmp and many tools keep; systemd's strict rule. */
  if (n > 31)
    return false;
  if (!(g_ascii_islower (name[0]) || name[0] == '_'))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!(g_ascii_islower (name[i]) || g_ascii_isdigit (name[i]) || name[i] == '_' || name[i] == '-'))
      return false;
  for (size_t i = 0; i < ELEMENTSOF (reserved_names); i++)
    if (strcmp (name, reserved_names[i]) == 0)
      return false;
  return true;
}

static void
add_string_array (JsonBuilder *b, const char *member, const char *const *values, size_t n)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (size_t i = 0; i < n; i++)
    if (values[i] != NULL)
      json_builder_add_string_value (b, values[i]);
  json_builder_end_array (b);
}

static int
add_json_object (JsonBuilder *b, const char *json)
{
  g_autoptr(JsonNode) node = imprint_json_parse (json, NULL);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return -EBADMSG;
  json_builder_add_value (b, g_steal_pointer (&node));
  return 0;
}

/* The record homectl would send for `homectl create NAME --storage=luks
 * [--recovery-key=yes] [--fido2-device=…]`; field by field as
 * docs/USER_RECORD.md describes them. */
int
imprint_setup_home_record (const ImprintHomeParams *p, char **ret_json)
{
  g_autoptr(JsonBuilder) b = json_builder_new_immutable ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  _cleanup_secret_ char *fido2_secret = NULL;
  g_autofree char *password_hash = NULL, *recovery_hash = NULL, *fido2_hash = NULL;
  g_autofree char *fido2_salt_json = NULL, *fido2_cid = NULL, *json = NULL;
  gsize json_size = 0;
  char *copy;
  int r;

  if (p == NULL || ret_json == NULL || !imprint_setup_user_name_is_valid (p->user_name) ||
      p->password == NULL || p->password[0] == '\0')
    return -EINVAL;
  if ((p->image_path != NULL) != (p->image_path_machine_id != NULL))
    return -EINVAL;
  if (p->uid != 0 && (p->uid < IMPRINT_HOME_UID_MIN || p->uid > IMPRINT_HOME_UID_MAX))
    return -EINVAL;

  r = imprint_setup_hash_password (p->password, &password_hash);
  if (r < 0)
    return r;
  if (p->recovery_key != NULL)
    {
      r = imprint_setup_hash_password (p->recovery_key, &recovery_hash);
      if (r < 0)
        return r;
    }
  if (p->fido2 != NULL)
    {
      /* homed hashes the base64 of the hmac-secret output, like the LUKS
       * keyslot passphrase (homectl-fido2.c). */
      r = imprint_fido2_passphrase (p->fido2->secret, p->fido2->secret_size, &fido2_secret);
      if (r < 0)
        return r;
      r = imprint_setup_hash_password (fido2_secret, &fido2_hash);
      if (r < 0)
        return r;
      r = imprint_fido2_homed_salt_json (p->fido2, fido2_hash, &fido2_salt_json);
      if (r < 0)
        return r;
      fido2_cid = g_base64_encode (p->fido2->credential_id, p->fido2->credential_id_size);
    }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "userName");
  json_builder_add_string_value (b, p->user_name);
  if (p->real_name != NULL && p->real_name[0] != '\0')
    {
      json_builder_set_member_name (b, "realName");
      json_builder_add_string_value (b, p->real_name);
    }
  json_builder_set_member_name (b, "storage");
  json_builder_add_string_value (b, "luks");
  if (p->disk_size > 0)
    {
      json_builder_set_member_name (b, "diskSize");
      json_builder_add_int_value (b, (gint64) p->disk_size);
    }
  if (p->administrator)
    {
      const char *groups[] = { p->admin_group != NULL ? p->admin_group : "wheel" };
      add_string_array (b, "memberOf", groups, 1);
    }
  if (p->auto_login)
    {
      json_builder_set_member_name (b, "autoLogin");
      json_builder_add_boolean_value (b, TRUE);
    }
  if (recovery_hash != NULL)
    {
      const char *types[] = { "modhex64" };
      add_string_array (b, "recoveryKeyType", types, 1);
    }
  if (fido2_cid != NULL)
    {
      const char *cids[] = { fido2_cid };
      add_string_array (b, "fido2HmacCredential", cids, 1);
    }
  if (p->uid != 0)
    {
      json_builder_set_member_name (b, "uid");
      json_builder_add_int_value (b, p->uid);
    }
  if (p->image_path != NULL)
    {
      /* Only on the machine that creates the home (the live session): the
       * installed system finds the image at its default place,
       * /home/NAME.home, because this section does not match it. */
      const char *ids[] = { p->image_path_machine_id };

      json_builder_set_member_name (b, "perMachine");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      add_string_array (b, "matchMachineId", ids, 1);
      json_builder_set_member_name (b, "imagePath");
      json_builder_add_string_value (b, p->image_path);
      json_builder_end_object (b);
      json_builder_end_array (b);
    }

  json_builder_set_member_name (b, "privileged");
  json_builder_begin_object (b);
  {
    const char *hashes[] = { password_hash };
    add_string_array (b, "hashedPassword", hashes, 1);
  }
  if (recovery_hash != NULL)
    {
      json_builder_set_member_name (b, "recoveryKey");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "modhex64");
      json_builder_set_member_name (b, "hashedPassword");
      json_builder_add_string_value (b, recovery_hash);
      json_builder_end_object (b);
      json_builder_end_array (b);
    }
  if (fido2_salt_json != NULL)
    {
      json_builder_set_member_name (b, "fido2HmacSalt");
      json_builder_begin_array (b);
      r = add_json_object (b, fido2_salt_json);
      if (r < 0)
        return r;
      json_builder_end_array (b);
    }
  json_builder_end_object (b);

  /* Both plaintexts: homed needs every secret that unlocks the home while
   * it creates the LUKS keyslots. The PIN of the security key lets homed
   * ask the key again without a prompt. */
  json_builder_set_member_name (b, "secret");
  json_builder_begin_object (b);
  {
    const char *passwords[] = { p->password, p->recovery_key };
    add_string_array (b, "password", passwords, 2);
  }
  if (p->fido2 != NULL && p->fido2->pin != NULL)
    {
      const char *pins[] = { p->fido2->pin };
      add_string_array (b, "tokenPin", pins, 1);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json = json_generator_to_data (gen, &json_size);
  /* The record holds the plaintext passwords: keep the result in secret
   * memory and wipe json-glib's heap copy. */
  copy = imprint_secret_memdup0 (json, json_size);
  explicit_bzero (json, json_size);
  if (copy == NULL)
    return -ENOMEM;
  *ret_json = copy;
  return 0;
}
