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
/* What the record carries instead of the secrets: crypt(3) hashes, and
 * the FIDO2 credential's id and salt entry. */
typedef struct {
  char *password_hash, *recovery_hash, *fido2_hash, *fido2_salt_json, *fido2_cid;
} HomeHashes;

static void
home_hashes_clear (HomeHashes *h)
{
  g_free (h->password_hash);
  g_free (h->recovery_hash);
  g_free (h->fido2_hash);
  g_free (h->fido2_salt_json);
  g_free (h->fido2_cid);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HomeHashes, home_hashes_clear)

static int
hash_secrets (const ImprintHomeParams *p, HomeHashes *h)
{
  _cleanup_secret_ char *fido2_secret = NULL;
  int r;

  r = imprint_setup_hash_password (p->password, &h->password_hash);
  if (r < 0)
    return r;
  if (p->recovery_key != NULL)
    {
      r = imprint_setup_hash_password (p->recovery_key, &h->recovery_hash);
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
      r = imprint_setup_hash_password (fido2_secret, &h->fido2_hash);
      if (r < 0)
        return r;
      r = imprint_fido2_homed_salt_json (p->fido2, h->fido2_hash, &h->fido2_salt_json);
      if (r < 0)
        return r;
      h->fido2_cid = g_base64_encode (p->fido2->credential_id, p->fido2->credential_id_size);
    }
  return 0;
}

/* The regular section: who the user is and how the home is made. */
static void
add_regular (JsonBuilder *b, const ImprintHomeParams *p, const HomeHashes *h)
{
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
  if (h->recovery_hash != NULL)
    {
      const char *types[] = { "modhex64" };
      add_string_array (b, "recoveryKeyType", types, 1);
    }
  if (h->fido2_cid != NULL)
    {
      const char *cids[] = { h->fido2_cid };
      add_string_array (b, "fido2HmacCredential", cids, 1);
    }
  if (p->uid != 0)
    {
      json_builder_set_member_name (b, "uid");
      json_builder_add_int_value (b, p->uid);
    }
}

/* Only on the machine that creates the home (the live session): the
 * installed system finds the image at its default place, /home/NAME.home,
 * because this section does not match it. */
static void
add_per_machine (JsonBuilder *b, const ImprintHomeParams *p)
{
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

/* The privileged section: the hashes homed checks against. */
static int
add_privileged (JsonBuilder *b, const HomeHashes *h)
{
  const char *hashes[] = { h->password_hash };
  int r;

  json_builder_set_member_name (b, "privileged");
  json_builder_begin_object (b);
  add_string_array (b, "hashedPassword", hashes, 1);
  if (h->recovery_hash != NULL)
    {
      json_builder_set_member_name (b, "recoveryKey");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "modhex64");
      json_builder_set_member_name (b, "hashedPassword");
      json_builder_add_string_value (b, h->recovery_hash);
      json_builder_end_object (b);
      json_builder_end_array (b);
    }
  if (h->fido2_salt_json != NULL)
    {
      json_builder_set_member_name (b, "fido2HmacSalt");
      json_builder_begin_array (b);
      r = add_json_object (b, h->fido2_salt_json);
      if (r < 0)
        return r;
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  return 0;
}

/* Both plaintexts: homed needs every secret that unlocks the home while
 * it creates the LUKS keyslots. The PIN of the security key lets homed
 * ask the key again without a prompt. */
static void
add_secret (JsonBuilder *b, const ImprintHomeParams *p)
{
  const char *passwords[] = { p->password, p->recovery_key };

  json_builder_set_member_name (b, "secret");
  json_builder_begin_object (b);
  add_string_array (b, "password", passwords, 2);
  if (p->fido2 != NULL && p->fido2->pin != NULL)
    {
      const char *pins[] = { p->fido2->pin };
      add_string_array (b, "tokenPin", pins, 1);
    }
  json_builder_end_object (b);
}

/* The record holds the plaintext passwords: the result goes to secret
 * memory and json-glib's heap copy is wiped. */
static int
builder_to_secret_json (JsonBuilder *b, char **ret_json)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autofree char *json = NULL;
  gsize json_size = 0;
  char *copy;

  json_generator_set_root (gen, root);
  json = json_generator_to_data (gen, &json_size);
  copy = imprint_secret_memdup0 (json, json_size);
  explicit_bzero (json, json_size);
  if (copy == NULL)
    return -ENOMEM;
  *ret_json = copy;
  return 0;
}

int
imprint_setup_home_record (const ImprintHomeParams *p, char **ret_json)
{
  g_autoptr(JsonBuilder) b = json_builder_new_immutable ();
  g_auto(HomeHashes) h = { 0 };
  int r;

  if (p == NULL || ret_json == NULL || !imprint_setup_user_name_is_valid (p->user_name) ||
      p->password == NULL || p->password[0] == '\0')
    return -EINVAL;
  if ((p->image_path != NULL) != (p->image_path_machine_id != NULL))
    return -EINVAL;
  if (p->uid != 0 && (p->uid < IMPRINT_HOME_UID_MIN || p->uid > IMPRINT_HOME_UID_MAX))
    return -EINVAL;

  r = hash_secrets (p, &h);
  if (r < 0)
    return r;

  json_builder_begin_object (b);
  add_regular (b, p, &h);
  if (p->image_path != NULL)
    add_per_machine (b, p);
  r = add_privileged (b, &h);
  if (r < 0)
    return r;
  add_secret (b, p);
  json_builder_end_object (b);

  return builder_to_secret_json (b, ret_json);
}
