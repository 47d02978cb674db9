/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imprint-setup.h"
#include "macros.h"

#define RECOVERY_KEY "cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv"

static char *
make_tmpdir (void)
{
  g_autoptr(GError) error = NULL;
  char *d = g_dir_make_tmp ("imprint-setup-XXXXXX", &error);
  g_assert_no_error (error);
  return d;
}

static void
rm_rf (const char *path)
{
  const char *argv[] = { "rm", "-rf", "--one-file-system", path, NULL };
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

static char *
slurp (const char *dir, const char *file)
{
  g_autofree char *p = g_build_filename (dir, file, NULL);
  char *text = NULL;
  g_assert_true (g_file_get_contents (p, &text, NULL, NULL));
  return text;
}

static void
put (const char *dir, const char *file, const char *text)
{
  g_autofree char *p = g_build_filename (dir, file, NULL);
  g_autofree char *d = g_path_get_dirname (p);
  g_assert_cmpint (g_mkdir_with_parents (d, 0755), ==, 0);
  g_assert_true (g_file_set_contents (p, text, -1, NULL));
}

static void
test_hash (void)
{
  g_autofree char *h = NULL, *h2 = NULL;

  g_assert_cmpint (imprint_setup_hash_password ("correct horse", &h), ==, 0);
  /* libxcrypt on Debian 12 and 13 has yescrypt. */
  g_assert_true (g_str_has_prefix (h, "$y$") || g_str_has_prefix (h, "$6$"));
  g_assert_true (imprint_setup_verify_password ("correct horse", h));
  g_assert_false (imprint_setup_verify_password ("correct hors", h));
  g_assert_false (imprint_setup_verify_password ("correct horse", ""));
  /* Fresh salt every time. */
  g_assert_cmpint (imprint_setup_hash_password ("correct horse", &h2), ==, 0);
  g_assert_cmpstr (h, !=, h2);
}

static void
test_user_names (void)
{
  g_assert_true (imprint_setup_user_name_is_valid ("anna"));
  g_assert_true (imprint_setup_user_name_is_valid ("_x1-b"));
  g_assert_false (imprint_setup_user_name_is_valid (""));
  g_assert_false (imprint_setup_user_name_is_valid ("Anna"));
  g_assert_false (imprint_setup_user_name_is_valid ("1anna"));
  g_assert_false (imprint_setup_user_name_is_valid ("an na"));
  g_assert_false (imprint_setup_user_name_is_valid ("root"));
  g_assert_false (imprint_setup_user_name_is_valid ("a234567890123456789012345678901x"));
}

static GList *
sorted_members (JsonObject *o)
{
  return g_list_sort (json_object_get_members (o), (GCompareFunc) strcmp);
}

static void
assert_members (JsonObject *o, const char *expected)
{
  g_autoptr(GList) m = sorted_members (o);
  GString *s = g_string_new (NULL);

  for (GList *l = m; l; l = l->next)
    g_string_append_printf (s, "%s%s", s->len ? "," : "", (const char *) l->data);
  g_assert_cmpstr (s->str, ==, expected);
  g_string_free (s, TRUE);
}

static JsonObject *
parse_object (const char *json, JsonNode **ret_node)
{
  g_autoptr(GError) error = NULL;
  JsonNode *n = json_from_string (json, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (n));
  *ret_node = n;
  return json_node_get_object (n);
}

static void
test_record_minimal (void)
{
  ImprintHomeParams p = { .user_name = "anna", .password = "pw one" };
  _cleanup_secret_ char *json = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *o, *priv, *secret;
  JsonArray *a;

  g_assert_cmpint (imprint_setup_home_record (&p, &json), ==, 0);
  o = parse_object (json, &node);
  assert_members (o, "privileged,secret,storage,userName");
  g_assert_cmpstr (json_object_get_string_member (o, "userName"), ==, "anna");
  g_assert_cmpstr (json_object_get_string_member (o, "storage"), ==, "luks");
  priv = json_object_get_object_member (o, "privileged");
  assert_members (priv, "hashedPassword");
  a = json_object_get_array_member (priv, "hashedPassword");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  g_assert_true (imprint_setup_verify_password ("pw one", json_array_get_string_element (a, 0)));
  secret = json_object_get_object_member (o, "secret");
  assert_members (secret, "password");
  a = json_object_get_array_member (secret, "password");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (a, 0), ==, "pw one");

  /* Refused: what homed would refuse. */
  p.user_name = "Root";
  g_assert_cmpint (imprint_setup_home_record (&p, &json), ==, -EINVAL);
  p.user_name = "anna";
  p.password = "";
  g_assert_cmpint (imprint_setup_home_record (&p, &json), ==, -EINVAL);
}

/* The homed record with every option, its hashes checked against the
 * secrets.
 * (Over 80 lines on purpose: one scenario whose steps build on the state
 * the previous ones left; split up, it would only be harder to follow.) */
static void
test_record_full (void)
{
  uint8_t cid[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  uint8_t secret_bytes[32];
  ImprintFido2Enrollment e = { 0 };
  ImprintHomeParams p = {
    .user_name = "anna", .real_name = "Anna Example", .password = "pw one",
    .recovery_key = RECOVERY_KEY, .disk_size = 8ull << 30, .administrator = true, .admin_group = "wheel",
    .auto_login = false, .fido2 = &e,
    .image_path = "/mnt/target/home/anna.home",
    .image_path_machine_id = "0123456789abcdef0123456789abcdef",
    .uid = 60123,
  };
  _cleanup_secret_ char *json = NULL, *fido2_pw = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *cid_b64 = g_base64_encode (cid, sizeof cid);
  JsonObject *o, *priv, *secret, *rk, *salt, *pm;
  JsonArray *a;

  for (size_t i = 0; i < sizeof secret_bytes; i++)
    secret_bytes[i] = (uint8_t) (i * 7 + 1);
  for (size_t i = 0; i < sizeof e.salt; i++)
    e.salt[i] = (uint8_t) i;
  e.credential_id = cid;
  e.credential_id_size = sizeof cid;
  e.secret = secret_bytes;
  e.secret_size = sizeof secret_bytes;
  e.lock_with = IMPRINT_FIDO2_LOCK_PIN | IMPRINT_FIDO2_LOCK_UP;
  e.pin = (char *) "1234";

  g_assert_cmpint (imprint_setup_home_record (&p, &json), ==, 0);
  o = parse_object (json, &node);
  assert_members (o, "diskSize,fido2HmacCredential,memberOf,perMachine,privileged,realName,"
                     "recoveryKeyType,secret,storage,uid,userName");
  g_assert_cmpstr (json_object_get_string_member (o, "realName"), ==, "Anna Example");
  g_assert_cmpint (json_object_get_int_member (o, "uid"), ==, 60123);
  g_assert_cmpint (json_object_get_int_member (o, "diskSize"), ==, 8ll << 30);
  a = json_object_get_array_member (o, "memberOf");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (a, 0), ==, "wheel");
  a = json_object_get_array_member (o, "recoveryKeyType");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (a, 0), ==, "modhex64");
  a = json_object_get_array_member (o, "fido2HmacCredential");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (a, 0), ==, cid_b64);

  a = json_object_get_array_member (o, "perMachine");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  pm = json_array_get_object_element (a, 0);
  assert_members (pm, "imagePath,matchMachineId");
  g_assert_cmpstr (json_object_get_string_member (pm, "imagePath"), ==, "/mnt/target/home/anna.home");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (pm, "matchMachineId"), 0), ==,
                   "0123456789abcdef0123456789abcdef");

  priv = json_object_get_object_member (o, "privileged");
  assert_members (priv, "fido2HmacSalt,hashedPassword,recoveryKey");
  g_assert_true (imprint_setup_verify_password ("pw one",
                   json_array_get_string_element (json_object_get_array_member (priv, "hashedPassword"), 0)));
  a = json_object_get_array_member (priv, "recoveryKey");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  rk = json_array_get_object_element (a, 0);
  assert_members (rk, "hashedPassword,type");
  g_assert_cmpstr (json_object_get_string_member (rk, "type"), ==, "modhex64");
  g_assert_true (imprint_setup_verify_password (RECOVERY_KEY, json_object_get_string_member (rk, "hashedPassword")));
  g_assert_false (imprint_setup_verify_password ("pw one", json_object_get_string_member (rk, "hashedPassword")));

  a = json_object_get_array_member (priv, "fido2HmacSalt");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  salt = json_array_get_object_element (a, 0);
  assert_members (salt, "clientPin,credential,hashedPassword,salt,up,uv");
  g_assert_cmpstr (json_object_get_string_member (salt, "credential"), ==, cid_b64);
  {
    g_autofree char *salt_b64 = g_base64_encode (e.salt, sizeof e.salt);
    g_assert_cmpstr (json_object_get_string_member (salt, "salt"), ==, salt_b64);
  }
  g_assert_true (json_object_get_boolean_member (salt, "up"));
  g_assert_false (json_object_get_boolean_member (salt, "uv"));
  g_assert_true (json_object_get_boolean_member (salt, "clientPin"));
  /* What homed checks: crypt(base64(hmac-secret output)). */
  g_assert_cmpint (imprint_fido2_passphrase (secret_bytes, sizeof secret_bytes, &fido2_pw), ==, 0);
  g_assert_true (imprint_setup_verify_password (fido2_pw, json_object_get_string_member (salt, "hashedPassword")));

  secret = json_object_get_object_member (o, "secret");
  assert_members (secret, "password,tokenPin");
  a = json_object_get_array_member (secret, "password");
  g_assert_cmpuint (json_array_get_length (a), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (a, 0), ==, "pw one");
  g_assert_cmpstr (json_array_get_string_element (a, 1), ==, RECOVERY_KEY);
  a = json_object_get_array_member (secret, "tokenPin");
  g_assert_cmpstr (json_array_get_string_element (a, 0), ==, "1234");

  /* An image path without the machine it applies to would follow the
   * home to the installed system: refused. */
  p.image_path_machine_id = NULL;
  g_assert_cmpint (imprint_setup_home_record (&p, &json), ==, -EINVAL);
  /* homed refuses UIDs outside its range. */
  p.image_path_machine_id = "0123456789abcdef0123456789abcdef";
  p.uid = 1000;
  g_assert_cmpint (imprint_setup_home_record (&p, &json), ==, -EINVAL);
}

static void
test_validation (void)
{
  g_assert_true (imprint_setup_hostname_is_valid ("anna-laptop"));
  g_assert_true (imprint_setup_hostname_is_valid ("a.b.example"));
  g_assert_false (imprint_setup_hostname_is_valid ("-anna"));
  g_assert_false (imprint_setup_hostname_is_valid ("anna-"));
  g_assert_false (imprint_setup_hostname_is_valid ("anna laptop"));
  g_assert_false (imprint_setup_hostname_is_valid ("a..b"));
  g_assert_false (imprint_setup_hostname_is_valid (""));
  g_assert_true (imprint_setup_timezone_is_valid ("Europe/Berlin"));
  g_assert_true (imprint_setup_timezone_is_valid ("Etc/GMT+1"));
  g_assert_false (imprint_setup_timezone_is_valid ("../etc/passwd"));
  g_assert_false (imprint_setup_timezone_is_valid ("/Europe/Berlin"));
  g_assert_true (imprint_setup_locale_is_valid ("de_DE.UTF-8"));
  g_assert_false (imprint_setup_locale_is_valid ("de DE"));
  g_assert_true (imprint_setup_keymap_is_valid ("de-nodeadkeys"));
  g_assert_false (imprint_setup_keymap_is_valid ("../de"));
}

static void
test_write_root (void)
{
  g_autofree char *root = make_tmpdir ();
  g_autofree char *loc = NULL, *vc = NULL, *hn = NULL, *mi = NULL, *link = NULL, *lt = NULL;
  ImprintSystemSettings s = {
    .locale = (char *) "de_DE.UTF-8", .keymap = (char *) "de-nodeadkeys",
    .timezone = (char *) "Europe/Berlin", .hostname = (char *) "anna-laptop",
    .pretty_hostname = (char *) "Anna's \"Laptop\"",
  };
  ImprintSystemSettings back = { 0 };
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;

  /* What the image ships must survive. */
  put (root, "etc/vconsole.conf", "FONT=eurlatgr\nKEYMAP=us\n");
  put (root, "etc/machine-info", "ICON_NAME=computer-laptop\n");
  put (root, "usr/share/zoneinfo/Europe/Berlin", "TZif2");

  g_assert_true (imprint_setup_write_root (root, &s, warnings, &error));
  g_assert_no_error (error);
  loc = slurp (root, "etc/locale.conf");
  g_assert_cmpstr (loc, ==, "LANG=de_DE.UTF-8\n");
  vc = slurp (root, "etc/vconsole.conf");
  g_assert_cmpstr (vc, ==, "FONT=eurlatgr\nKEYMAP=de-nodeadkeys\n");
  hn = slurp (root, "etc/hostname");
  g_assert_cmpstr (hn, ==, "anna-laptop\n");
  mi = slurp (root, "etc/machine-info");
  g_assert_cmpstr (mi, ==, "ICON_NAME=computer-laptop\nPRETTY_HOSTNAME=\"Anna's \\\"Laptop\\\"\"\n");
  lt = g_build_filename (root, "etc/localtime", NULL);
  link = g_file_read_link (lt, NULL);
  g_assert_cmpstr (link, ==, "../usr/share/zoneinfo/Europe/Berlin");
  /* The keymap warning: the boot prompt's layout is not ours to set. */
  g_assert_cmpuint (warnings->len, ==, 1);

  imprint_setup_read_root (root, &back);
  g_assert_cmpstr (back.locale, ==, s.locale);
  g_assert_cmpstr (back.keymap, ==, s.keymap);
  g_assert_cmpstr (back.timezone, ==, s.timezone);
  g_assert_cmpstr (back.hostname, ==, s.hostname);
  g_assert_cmpstr (back.pretty_hostname, ==, s.pretty_hostname);
  imprint_system_settings_clear (&back);

  /* Unknown zone where the target has a tz database: refused, nothing
   * changed. */
  s.timezone = (char *) "Mars/Olympus";
  s.locale = NULL;
  s.keymap = NULL;
  s.hostname = NULL;
  s.pretty_hostname = NULL;
  g_assert_false (imprint_setup_write_root (root, &s, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_free (link);
  link = g_file_read_link (lt, NULL);
  g_assert_cmpstr (link, ==, "../usr/share/zoneinfo/Europe/Berlin");

  /* Bad values are refused before anything is written. */
  s.timezone = NULL;
  s.hostname = (char *) "bad name";
  g_assert_false (imprint_setup_write_root (root, &s, NULL, &error));
  g_clear_error (&error);
  g_free (hn);
  hn = slurp (root, "etc/hostname");
  g_assert_cmpstr (hn, ==, "anna-laptop\n");
  rm_rf (root);
}

/* A tree that belongs to someone else: symlinks out of it, a FIFO,
 * non-UTF-8 values. Nothing outside is read or written. */
static void
test_hostile_root (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *root = g_build_filename (dir, "root", NULL);
  g_autofree char *outside = g_build_filename (dir, "outside", NULL);
  g_autofree char *secret = g_build_filename (outside, "secret", NULL);
  g_autofree char *text = NULL, *fifo = NULL, *p = NULL;
  ImprintSystemSettings back = { 0 };
  ImprintSystemSettings s = { .hostname = (char *) "anna-laptop", .locale = (char *) "de_DE.UTF-8",
                              .pretty_hostname = (char *) "Anna" };
  g_autoptr(GError) error = NULL;
  struct stat st;

  put (outside, "secret", "LANG=SECRET\nPRETTY_HOSTNAME=SECRET\n");
  g_assert_cmpint (g_mkdir_with_parents (root, 0755), ==, 0);
  put (root, "etc/.keep", "");
  p = g_build_filename (root, "etc/hostname", NULL);
  g_assert_cmpint (symlink (secret, p), ==, 0);
  g_free (p);
  p = g_build_filename (root, "etc/locale.conf", NULL);
  g_assert_cmpint (symlink ("../../outside/secret", p), ==, 0);
  g_free (p);
  fifo = g_build_filename (root, "etc/machine-info", NULL);
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  put (root, "etc/vconsole.conf", "KEYMAP=\xff\xfe\n");

  imprint_setup_read_root (root, &back);
  g_assert_null (back.hostname);
  g_assert_null (back.locale);
  g_assert_null (back.pretty_hostname);
  /* Not UTF-8: dropped, it could not go over D-Bus. */
  g_assert_null (back.keymap);
  imprint_system_settings_clear (&back);

  /* Writing replaces the links and the FIFO (nothing to merge, no
   * hang); the file the links pointed to stays as it was. */
  g_assert_true (imprint_setup_write_root (root, &s, NULL, &error));
  g_assert_no_error (error);
  text = slurp (outside, "secret");
  g_assert_cmpstr (text, ==, "LANG=SECRET\nPRETTY_HOSTNAME=SECRET\n");
  g_free (text);
  text = slurp (root, "etc/hostname");
  g_assert_cmpstr (text, ==, "anna-laptop\n");
  p = g_build_filename (root, "etc/locale.conf", NULL);
  g_assert_cmpint (lstat (p, &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));
  g_assert_cmpint (lstat (fifo, &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));

  /* A symlinked etc is not entered. */
  rm_rf (root);
  g_assert_cmpint (g_mkdir_with_parents (root, 0755), ==, 0);
  g_free (p);
  p = g_build_filename (root, "etc", NULL);
  g_assert_cmpint (symlink (outside, p), ==, 0);
  g_assert_false (imprint_setup_write_root (root, &s, NULL, &error));
  g_clear_error (&error);
  g_assert_false (imprint_homed_trust_key (root, "x", "-----BEGIN PUBLIC KEY-----\n", &error));
  g_clear_error (&error);
  g_free (p);
  p = g_build_filename (outside, "hostname", NULL);
  g_assert_false (g_file_test (p, G_FILE_TEST_EXISTS));
  g_free (text);
  text = slurp (outside, "secret");
  g_assert_cmpstr (text, ==, "LANG=SECRET\nPRETTY_HOSTNAME=SECRET\n");
  /* The markers likewise. */
  g_free (p);
  p = g_build_filename (root, "var", NULL);
  g_assert_cmpint (symlink (outside, p), ==, 0);
  g_unsetenv ("STATE_DIRECTORY");
  g_assert_cmpint (imprint_setup_mark_complete (root), <, 0);
  g_free (p);
  p = g_build_filename (outside, "lib", NULL);
  g_assert_false (g_file_test (p, G_FILE_TEST_EXISTS));
  rm_rf (dir);
}

static void
test_credentials (void)
{
  g_autofree char *dir = make_tmpdir ();
  ImprintSetupCredentials c = { 0 };
  g_autofree char *joined = NULL;

  put (dir, "firstboot.locale", "fr_FR.UTF-8\n");
  put (dir, "firstboot.timezone", "Europe/Paris");
  put (dir, "system.hostname", "kiosk-7\n");
  put (dir, "home.create.zoe", "{\"realName\":\"Zoé Martin\"}");
  put (dir, "home.create.bob", "{\"userName\":\"bob\",\"realName\":\"Bob\"}");
  g_setenv ("CREDENTIALS_DIRECTORY", dir, TRUE);
  g_assert_cmpstr (imprint_setup_credentials_dir (), ==, dir);
  imprint_setup_read_credentials (NULL, &c);
  g_assert_cmpstr (c.settings.locale, ==, "fr_FR.UTF-8");
  g_assert_null (c.settings.keymap);
  g_assert_cmpstr (c.settings.timezone, ==, "Europe/Paris");
  g_assert_cmpstr (c.settings.hostname, ==, "kiosk-7");
  /* The first record in name order. */
  g_assert_cmpstr (c.user_name, ==, "bob");
  g_assert_cmpstr (c.real_name, ==, "Bob");
  g_ptr_array_add (c.decided, NULL);
  joined = g_strjoinv (",", (char **) c.decided->pdata);
  g_assert_cmpstr (joined, ==, "locale,timezone,hostname,user");
  imprint_setup_credentials_clear (&c);

  /* The name from the credential's suffix. */
  {
    g_autofree char *p = g_build_filename (dir, "home.create.bob", NULL);
    g_assert_cmpint (unlink (p), ==, 0);
  }
  imprint_setup_read_credentials (dir, &c);
  g_assert_cmpstr (c.user_name, ==, "zoe");
  g_assert_cmpstr (c.real_name, ==, "Zoé Martin");
  imprint_setup_credentials_clear (&c);
  g_unsetenv ("CREDENTIALS_DIRECTORY");

  /* No directory: nothing decided, no error. */
  imprint_setup_read_credentials ("/nonexistent/credentials", &c);
  g_assert_null (c.settings.locale);
  g_assert_null (c.user_name);
  g_assert_cmpuint (c.decided->len, ==, 0);
  imprint_setup_credentials_clear (&c);
  rm_rf (dir);
}

static void
test_markers (void)
{
  g_autofree char *root = make_tmpdir ();
  g_autofree char *pending = g_build_filename (root, "var/lib/imprint/setup-pending", NULL);
  g_autofree char *complete = g_build_filename (root, "var/lib/imprint/setup-complete", NULL);
  g_autofree char *state = NULL;

  g_unsetenv ("STATE_DIRECTORY");
  state = imprint_setup_state_dir (root);
  g_assert_true (g_str_has_suffix (state, "/var/lib/imprint"));

  /* No machine-id: ConditionFirstBoot holds. */
  g_assert_true (imprint_setup_is_pending (root));
  put (root, "etc/machine-id", "uninitialized\n");
  g_assert_true (imprint_setup_is_pending (root));
  put (root, "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  g_assert_false (imprint_setup_is_pending (root));
  /* The machine ID is committed during the first boot; PID 1's flag
   * says it still is the first boot. */
  put (root, "run/systemd/first-boot", "");
  g_assert_true (imprint_setup_is_pending (root));
  {
    g_autofree char *flag = g_build_filename (root, "run/systemd/first-boot", NULL);
    g_assert_cmpint (unlink (flag), ==, 0);
  }
  g_assert_false (imprint_setup_is_pending (root));
  /* An explicit marker wins. */
  put (root, "var/lib/imprint/setup-pending", "");
  g_assert_true (imprint_setup_is_pending (root));

  g_assert_cmpint (imprint_setup_mark_complete (root), ==, 0);
  g_assert_false (g_file_test (pending, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (complete, G_FILE_TEST_IS_REGULAR));
  g_assert_false (imprint_setup_is_pending (root));
  /* Complete also beats a first boot. */
  put (root, "etc/machine-id", "");
  g_assert_false (imprint_setup_is_pending (root));
  rm_rf (root);
}

static void
test_admin_group (void)
{
  g_autofree char *root = make_tmpdir ();
  g_autofree char *g = NULL;

  g = imprint_setup_admin_group (root);
  g_assert_cmpstr (g, ==, "wheel");
  g_free (g);
  put (root, "etc/group", "root:x:0:\nsudo:x:27:\n");
  g = imprint_setup_admin_group (root);
  g_assert_cmpstr (g, ==, "sudo");
  g_free (g);
  put (root, "etc/group", "root:x:0:\nsudo:x:27:\nwheel:x:10:\n");
  g = imprint_setup_admin_group (root);
  g_assert_cmpstr (g, ==, "wheel");
  rm_rf (root);
}

static void
test_trust_key (void)
{
  g_autofree char *root = make_tmpdir ();
  g_autofree char *text = NULL, *path = NULL;
  g_autoptr(GError) error = NULL;
  const char *pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n";
  struct stat st;

  g_assert_false (imprint_homed_trust_key (root, "imprint-setup", "not a key", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  g_assert_true (imprint_homed_trust_key (root, "imprint-setup", pem, &error));
  g_assert_no_error (error);
  text = slurp (root, "etc/systemd/home/imprint-setup.public");
  g_assert_cmpstr (text, ==, pem);
  path = g_build_filename (root, "etc/systemd/home/imprint-setup.public", NULL);
  g_assert_cmpint (stat (path, &st), ==, 0);
  /* homed's rule: root-owned, no group/other write. */
  g_assert_cmpuint (st.st_mode & 07777, ==, 0644);
  if (getuid () == 0)
    g_assert_cmpuint (st.st_uid, ==, 0);
  rm_rf (root);
}

static void
test_home_uid (void)
{
  g_autofree char *root = make_tmpdir ();
  guint32 a = 0, b = 0, c = 0;

  g_assert_cmpint (imprint_setup_pick_home_uid (root, "anna", &a), ==, 0);
  g_assert_cmpuint (a, >=, IMPRINT_HOME_UID_MIN);
  g_assert_cmpuint (a, <=, IMPRINT_HOME_UID_MAX);
  /* The same name, the same start. */
  g_assert_cmpint (imprint_setup_pick_home_uid (root, "anna", &b), ==, 0);
  g_assert_cmpuint (a, ==, b);

  /* Taken in the target: the next one, wrapping at the range's end. */
  {
    g_autofree char *line = g_strdup_printf ("anna2:x:%u:%u::/home/anna2:/bin/sh\n", a, a);
    put (root, "etc/passwd", line);
  }
  g_assert_false (imprint_setup_home_uid_is_free (root, a));
  g_assert_cmpint (imprint_setup_pick_home_uid (root, "anna", &c), ==, 0);
  g_assert_cmpuint (c, ==, a == IMPRINT_HOME_UID_MAX ? IMPRINT_HOME_UID_MIN : a + 1);

  {
    g_autofree char *f = g_strdup_printf ("etc/userdb/%u.group", c);
    put (root, f, "{}");
  }
  g_assert_false (imprint_setup_home_uid_is_free (root, c));
  /* A home the target's homed knows, by its binding's UID. */
  {
    guint32 d = IMPRINT_HOME_UID_MIN + (a - IMPRINT_HOME_UID_MIN + 7) % (IMPRINT_HOME_UID_MAX - IMPRINT_HOME_UID_MIN + 1);
    g_autofree char *rec = g_strdup_printf ("{\"userName\":\"x\",\"binding\":{\"00\":{\"uid\":%u}}}", d);

    g_assert_true (imprint_setup_home_uid_is_free (root, d));
    put (root, "var/lib/systemd/home/x.identity", rec);
    g_assert_false (imprint_setup_home_uid_is_free (root, d));
  }
  g_assert_cmpint (imprint_setup_pick_home_uid (root, "anna", NULL), ==, -EINVAL);
  rm_rf (root);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/setup/hash", test_hash);
  g_test_add_func ("/setup/user-names", test_user_names);
  g_test_add_func ("/setup/record/minimal", test_record_minimal);
  g_test_add_func ("/setup/record/full", test_record_full);
  g_test_add_func ("/setup/validation", test_validation);
  g_test_add_func ("/setup/write-root", test_write_root);
  g_test_add_func ("/setup/hostile-root", test_hostile_root);
  g_test_add_func ("/setup/credentials", test_credentials);
  g_test_add_func ("/setup/markers", test_markers);
  g_test_add_func ("/setup/trust-key", test_trust_key);
  g_test_add_func ("/setup/admin-group", test_admin_group);
  g_test_add_func ("/setup/home-uid", test_home_uid);
  return g_test_run ();
}
