/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The typed requests and replies: round trips through GVariant, the exact
 * dictionaries the clients always sent, and what a hostile caller's
 * dictionary is refused for (wrong types, sizes). */
#include "config.h"

#include <string.h>

#include "imprint-error.h"
#include "imprint-plan-words.h"
#include "imprint-request.h"
#include "secret.h"

static GVariant *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *v = g_variant_parse (G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);

  g_assert_no_error (error);
  return g_variant_ref_sink (v);
}

static void
assert_same (GVariant *built, GVariant *expected)
{
  g_autoptr(GVariant) b = g_variant_ref_sink (built);

  if (!g_variant_equal (b, expected))
    {
      g_autofree char *x = g_variant_print (b, TRUE), *y = g_variant_print (expected, TRUE);
      g_error ("built %s, expected %s", x, y);
    }
}

static void
assert_refused (GError *error)
{
  g_assert_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT);
}

/* What imprintctl install sent before the structs existed, key by key. */
static void
test_install_wire (void)
{
  g_autoptr(GVariant) sent = parse (
    "{'auth.no_user_interaction': <true>, 'locale': <'de_DE.UTF-8'>, 'mode': <'erase'>, "
    "'defer-data-partitions': <true>, 'definitions': <'/etc/repart.d'>, 'root-hash': <'ab'>, "
    "'certificate': <'/c.pem'>, 'no-boot-entry': <true>, 'encrypt': <false>, "
    "'encryption': <['tpm2', 'fido2', 'passphrase', 'recovery-key']>, 'tpm2-device': <'auto'>, "
    "'tpm2-pcrs': <'7+11'>, 'fido2-device': <'/dev/hidraw0'>, 'tpm2-public-key': <''>, "
    "'tpm2-pin': <'1234'>, 'passphrase': <'pass'>, 'recovery-key': <'key'>}");
  g_auto(ImprintInstallRequest) r = { 0 };
  g_autoptr(GError) error = NULL;

  imprint_install_request_init (&r);
  g_assert_true (imprint_install_request_from_variant (sent, &r, &error));
  g_assert_no_error (error);
  g_assert_cmpint (r.call.no_user_interaction, ==, IMPRINT_OPT_TRUE);
  g_assert_cmpstr (r.call.locale, ==, "de_DE.UTF-8");
  g_assert_cmpint (r.mode, ==, IMPRINT_REQUEST_MODE_ERASE);
  g_assert_true (imprint_opt_bool (r.defer_data_partitions, FALSE));
  g_assert_false (imprint_opt_bool (r.encrypt, TRUE));
  g_assert_true (imprint_opt_bool (r.verify_first, TRUE));
  g_assert_true (r.has_encryption);
  g_assert_cmpint (r.encryption, ==, IMPRINT_UNLOCK_TPM2 | IMPRINT_UNLOCK_FIDO2 |
                                     IMPRINT_UNLOCK_PASSPHRASE | IMPRINT_UNLOCK_RECOVERY_KEY);
  g_assert_cmpstr (r.tpm2_public_key, ==, "");
  g_assert_cmpstr (r.tpm2_pin, ==, "1234");
  g_assert_cmpuint (imprint_secret_size (r.passphrase), ==, strlen ("pass") + 1);
  g_assert_cmpstr (r.recovery_key, ==, "key");
  assert_same (imprint_install_request_to_variant (&r), sent);

  imprint_install_request_clear (&r);
  g_assert_null (r.passphrase);
  g_assert_cmpint (r.mode, ==, IMPRINT_REQUEST_MODE_UNSET);
  assert_same (imprint_install_request_to_variant (&r), g_variant_new ("a{sv}", NULL));
}

static void
test_install_defaults (void)
{
  g_autoptr(GVariant) sent = parse ("{'mode': <'free-space'>, 'unknown-key': <42>, 'passphrase': <''>}");
  g_auto(ImprintInstallRequest) r = { 0 };
  g_autoptr(GError) error = NULL;

  imprint_install_request_init (&r);
  g_assert_true (imprint_install_request_from_variant (sent, &r, &error));
  g_assert_cmpint (r.mode, ==, IMPRINT_REQUEST_MODE_FREE_SPACE);
  g_assert_false (r.has_encryption);
  g_assert_null (r.passphrase);          /* "" is no passphrase */
  g_assert_null (r.definitions);
  g_assert_true (imprint_opt_bool (r.encrypt, TRUE));
  imprint_install_request_clear (&r);
  /* NULL is an empty dictionary. */
  g_assert_true (imprint_install_request_from_variant (NULL, &r, &error));
}

static void
refuse_install (const char *text)
{
  g_autoptr(GVariant) sent = parse (text);
  g_auto(ImprintInstallRequest) r = { 0 };
  g_autoptr(GError) error = NULL;

  imprint_install_request_init (&r);
  g_assert_false (imprint_install_request_from_variant (sent, &r, &error));
  assert_refused (error);
  /* Nothing half-parsed stays behind. */
  g_assert_null (r.call.locale);
  g_assert_null (r.passphrase);
}

static void
test_install_refused (void)
{
  g_autoptr(GVariant) notdict = g_variant_ref_sink (g_variant_new_string ("x"));
  g_auto(ImprintInstallRequest) r = { 0 };
  g_autoptr(GError) error = NULL;

  refuse_install ("{'mode': <'everything'>}");
  refuse_install ("{'mode': <1>}");
  refuse_install ("{'locale': <'C'>, 'encrypt': <'no'>}");
  refuse_install ("{'locale': <'C'>, 'encryption': <'tpm2'>}");
  refuse_install ("{'locale': <'C'>, 'encryption': <['tpm2', 'smartcard']>}");
  refuse_install ("{'locale': <'C'>, 'passphrase': <['a']>}");
  refuse_install ("{'locale': <'C'>, 'auth.no_user_interaction': <'yes'>}");

  imprint_install_request_init (&r);
  g_assert_false (imprint_install_request_from_variant (notdict, &r, &error));
  assert_refused (error);
}

static GVariant *
dict_with (const char *key, GVariant *value)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", key, value);
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

static void
test_bounds (void)
{
  g_autofree char *secret_max = g_strnfill (IMPRINT_SECRET_MAX, 'x');
  g_autofree char *secret_long = g_strnfill (IMPRINT_SECRET_MAX + 1, 'x');
  g_autofree char *string_max = g_strnfill (IMPRINT_REQUEST_STRING_MAX, 'y');
  g_autofree char *string_long = g_strnfill (IMPRINT_REQUEST_STRING_MAX + 1, 'y');
  g_auto(ImprintInstallRequest) r = { 0 };
  g_auto(ImprintListDisksRequest) l = { 0 };
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GPtrArray) files = g_ptr_array_new ();
  GVariantBuilder b;
  GError *error = NULL;

  imprint_install_request_init (&r);
  v = dict_with ("passphrase", g_variant_new_string (secret_max));
  g_assert_true (imprint_install_request_from_variant (v, &r, &error));
  g_assert_cmpuint (strlen (r.passphrase), ==, IMPRINT_SECRET_MAX);
  imprint_install_request_clear (&r);
  g_clear_pointer (&v, g_variant_unref);
  v = dict_with ("recovery-key", g_variant_new_string (secret_long));
  g_assert_false (imprint_install_request_from_variant (v, &r, &error));
  assert_refused (error);
  g_clear_error (&error);

  g_clear_pointer (&v, g_variant_unref);
  v = dict_with ("definitions", g_variant_new_string (string_max));
  g_assert_true (imprint_install_request_from_variant (v, &r, &error));
  imprint_install_request_clear (&r);
  g_clear_pointer (&v, g_variant_unref);
  v = dict_with ("definitions", g_variant_new_string (string_long));
  g_assert_false (imprint_install_request_from_variant (v, &r, &error));
  assert_refused (error);
  g_clear_error (&error);

  /* Too many entries, even unknown ones. */
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  for (guint i = 0; i <= IMPRINT_REQUEST_ENTRIES_MAX; i++)
    g_variant_builder_add (&b, "{sv}", "junk", g_variant_new_boolean (TRUE));
  g_clear_pointer (&v, g_variant_unref);
  v = g_variant_ref_sink (g_variant_builder_end (&b));
  g_assert_false (imprint_install_request_from_variant (v, &r, &error));
  assert_refused (error);
  g_clear_error (&error);

  /* Too many files, and one too long a name. */
  imprint_list_disks_request_init (&l);
  for (guint i = 0; i <= IMPRINT_REQUEST_STRV_MAX; i++)
    g_ptr_array_add (files, (char *) "/f");
  g_ptr_array_add (files, NULL);
  g_clear_pointer (&v, g_variant_unref);
  v = dict_with ("include-files", g_variant_new_strv ((const char * const *) files->pdata, -1));
  g_assert_false (imprint_list_disks_request_from_variant (v, &l, &error));
  assert_refused (error);
  g_clear_error (&error);
  g_clear_pointer (&v, g_variant_unref);
  v = dict_with ("include-files", g_variant_new_strv ((const char * const[]) { "/a", string_long, NULL }, -1));
  g_assert_false (imprint_list_disks_request_from_variant (v, &l, &error));
  assert_refused (error);
  g_clear_error (&error);
}

static void
test_first_key_counts (void)
{
  g_autoptr(GVariant) sent = parse ("{'root-hash': <'first'>, 'root-hash': <'second'>}");
  g_auto(ImprintInstallRequest) r = { 0 };
  g_autoptr(GError) error = NULL;

  imprint_install_request_init (&r);
  g_assert_true (imprint_install_request_from_variant (sent, &r, &error));
  g_assert_cmpstr (r.root_hash, ==, "first");
}

/* imprintctl setup's settings and options, and the app's. */
static void
test_setup_wire (void)
{
  g_autoptr(GVariant) settings = parse (
    "{'locale': <'de_DE.UTF-8'>, 'keymap': <'de'>, 'timezone': <'Europe/Berlin'>, 'hostname': <'h'>, "
    "'pretty-hostname': <'H'>, 'user': <{'user-name': <'anna'>, 'real-name': <'Anna'>, "
    "'password': <'pw'>, 'recovery-key': <'rk'>, 'fido2': <false>, 'fido2-device': <'/dev/hidraw1'>, "
    "'disk-size': <uint64 1073741824>, 'auto-login': <true>, 'administrator': <false>}>, "
    "'disk-recovery-key': <'drk'>, 'disk-fido2': <true>, 'disk-fido2-device': <'/dev/hidraw2'>, "
    "'disk-device': <'/dev/sda3'>, 'disk-tpm2-device': <'/dev/tpmrm0'>}");
  g_autoptr(GVariant) options = parse (
    "{'locale': <'C.UTF-8'>, 'unlock-passphrase': <'up'>, 'unlock-tpm2': <true>, 'tpm2-device': <'auto'>}");
  g_auto(ImprintSetupRequest) r = { 0 };
  g_autoptr(GError) error = NULL;
  GVariant *s = NULL, *o = NULL;

  imprint_setup_request_init (&r);
  g_assert_true (imprint_setup_request_from_variant (settings, options, &r, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (r.locale, ==, "de_DE.UTF-8");
  g_assert_cmpstr (r.call.locale, ==, "C.UTF-8");
  g_assert_true (r.has_user);
  g_assert_cmpstr (r.user.user_name, ==, "anna");
  g_assert_cmpstr (r.user.password, ==, "pw");
  g_assert_cmpuint (r.user.disk_size, ==, 1073741824);
  g_assert_false (imprint_opt_bool (r.user.administrator, TRUE));
  g_assert_cmpstr (r.disk_recovery_key, ==, "drk");
  g_assert_cmpstr (r.unlock_passphrase, ==, "up");
  imprint_setup_request_to_variant (&r, &s, &o);
  assert_same (s, settings);
  assert_same (o, options);
}

static void
test_setup_refused (void)
{
  g_autoptr(GVariant) bad_user = parse ("{'user': <'anna'>}");
  g_autoptr(GVariant) bad_field = parse ("{'user': <{'disk-size': <'1G'>}>}");
  g_autoptr(GVariant) bad_option = parse ("{'unlock-tpm2': <'yes'>}");
  g_auto(ImprintSetupRequest) r = { 0 };
  GError *error = NULL;

  imprint_setup_request_init (&r);
  g_assert_false (imprint_setup_request_from_variant (bad_user, NULL, &r, &error));
  assert_refused (error);
  g_clear_error (&error);
  g_assert_false (imprint_setup_request_from_variant (bad_field, NULL, &r, &error));
  assert_refused (error);
  g_clear_error (&error);
  g_assert_false (r.has_user);
  g_assert_false (imprint_setup_request_from_variant (NULL, bad_option, &r, &error));
  assert_refused (error);
  g_clear_error (&error);
}

static void
test_enroll_wire (void)
{
  g_autoptr(GVariant) sent = parse (
    "{'unlock-passphrase': <'old'>, 'unlock-tpm2': <false>, 'unlock-tpm2-pin': <'0000'>, "
    "'unlock-fido2': <true>, 'tpm2-device': <'auto'>, 'fido2-device': <'/dev/hidraw0'>, "
    "'tpm2-signature': <'/sig.json'>, 'keyslot': <3>, 'tpm2-pcrs': <'7'>, 'tpm2-public-key': <'/k.pem'>, "
    "'tpm2-public-key-pcrs': <'11'>, 'tpm2-pin': <'1111'>, 'fido2-with-client-pin': <false>, "
    "'fido2-with-user-presence': <true>, 'fido2-with-user-verification': <true>, "
    "'passphrase': <'new'>, 'recovery-key': <'rk'>}");
  g_auto(ImprintEnrollRequest) r = { 0 };
  g_autoptr(GError) error = NULL;

  imprint_enroll_request_init (&r);
  g_assert_cmpint (r.keyslot, ==, -1);
  g_assert_true (imprint_enroll_request_from_variant (sent, &r, &error));
  g_assert_cmpint (r.keyslot, ==, 3);
  g_assert_cmpstr (r.unlock_tpm2_pin, ==, "0000");
  g_assert_false (imprint_opt_bool (r.fido2_with_client_pin, TRUE));
  assert_same (imprint_enroll_request_to_variant (&r), sent);
  imprint_enroll_request_clear (&r);
  g_assert_cmpint (r.keyslot, ==, -1);
}

static void
test_small_requests (void)
{
  g_autoptr(GVariant) disks = parse (
    "{'include-loop': <true>, 'include-files': <['/a.img', '/b.img']>, 'source': <'/s.img'>, "
    "'min-size': <uint64 4096>}");
  g_autoptr(GVariant) security = parse ("{'tpm2-device': <'swtpm:port=2321'>}");
  g_autoptr(GVariant) reset = parse ("{'auth.no_user_interaction': <true>, 'clear-tpm': <true>}");
  g_auto(ImprintListDisksRequest) l = { 0 };
  g_auto(ImprintSecurityRequest) s = { 0 };
  g_auto(ImprintFactoryResetRequest) f = { 0 };
  g_auto(ImprintCallOptions) c = { 0 };
  g_autoptr(GError) error = NULL;

  imprint_list_disks_request_init (&l);
  g_assert_true (imprint_list_disks_request_from_variant (disks, &l, &error));
  g_assert_cmpstr (l.include_files[1], ==, "/b.img");
  assert_same (imprint_list_disks_request_to_variant (&l), disks);
  imprint_security_request_init (&s);
  g_assert_true (imprint_security_request_from_variant (security, &s, &error));
  assert_same (imprint_security_request_to_variant (&s), security);
  imprint_factory_reset_request_init (&f);
  g_assert_true (imprint_factory_reset_request_from_variant (reset, &f, &error));
  assert_same (imprint_factory_reset_request_to_variant (&f), reset);
  imprint_call_options_init (&c);
  g_assert_true (imprint_call_options_from_variant (reset, &c, &error));
  g_assert_cmpint (c.no_user_interaction, ==, IMPRINT_OPT_TRUE);
}

/* The reply as imprint_plan_to_variant() (backend/engine/plan.c) builds it. */
static void
test_plan_info (void)
{
  g_autoptr(GVariant) reply = parse (
    "{'partitions': <[{'number': <uint32 1>, 'type': <'c12a7328-f81f-11d2-ba4b-00a0c93ec93b'>, "
    "'type-name': <'EFI System'>, 'label': <'esp'>, 'uuid': <'u1'>, 'start': <uint64 1048576>, "
    "'size': <uint64 536870912>, 'source': <'the image'>, 'action': <'create'>, "
    "'content': <'boot-files'>, 'adds-boot-loader': <true>}]>, "
    "'erased': <['everything on sda']>, 'summary': <'Sum'>, 'mode': <'free-space'>, "
    "'target': <'/dev/sda'>, 'target-size': <uint64 1000000000>, 'defer-data-partitions': <false>, "
    "'erased-partitions': <[{'number': <uint32 3>, 'label': <'old'>, 'type-name': <'usr-x86-64'>, "
    "'size': <uint64 1048576>}]>, 'definitions-source': <'source-image'>, "
    "'definitions-directory': <'/usr/lib/repart.d'>, "
    "'name': <'Fedora'>, 'version': <'41'>}");
  g_autoptr(GVariant) sparse = parse ("{'summary': <'only this'>, 'future-key': <1>}");
  g_autoptr(GVariant) wrong = parse ("{'partitions': <[{'size': <'big'>}]>}");
  g_auto(ImprintPlanInfo) p = { 0 };
  ImprintPlanPartitionInfo *part;
  GError *error = NULL;

  imprint_plan_info_init (&p);
  g_assert_true (imprint_plan_info_from_variant (reply, &p, &error));
  g_assert_cmpuint (p.partitions->len, ==, 1);
  part = p.partitions->pdata[0];
  g_assert_cmpuint (part->number, ==, 1);
  g_assert_cmpuint (part->size, ==, 536870912);
  g_assert_cmpstr (part->action, ==, IMPRINT_ACTION_CREATE);
  g_assert_cmpstr (p.erased[0], ==, "everything on sda");
  g_assert_cmpint (p.mode, ==, IMPRINT_REQUEST_MODE_FREE_SPACE);
  g_assert_cmpstr (p.version, ==, "41");
  g_assert_cmpstr (part->content, ==, IMPRINT_CONTENT_NAME_BOOT_FILES);
  g_assert_true (part->adds_boot_loader);
  g_assert_false (part->adds_kernels);
  g_assert_cmpuint (p.erased_partitions->len, ==, 1);
  g_assert_cmpstr (p.definitions_source, ==, IMPRINT_DEFINITIONS_FROM_IMAGE);
  assert_same (imprint_plan_info_to_variant (&p), reply);
  {
    /* The words come from the facts (imprint-plan-words.h). */
    g_autofree char *source = imprint_plan_words_source (&p, part);
    g_autofree char *summary = imprint_plan_words_summary (&p);
    g_autofree char *defs = imprint_plan_words_definitions (&p);
    g_auto(GStrv) erased = imprint_plan_words_erased (&p);
    g_assert_cmpstr (source, ==, "kept; systemd-boot is added");
    g_assert_nonnull (strstr (summary, "free space on /dev/sda"));
    g_assert_nonnull (strstr (defs, "/usr/lib/repart.d"));
    g_assert_cmpuint (g_strv_length (erased), ==, 1);
    g_assert_nonnull (strstr (erased[0], "\"old\""));
  }
  {
    /* A shrunk Windows partition: the first line says so, not "free space". */
    g_autofree char *summary = NULL;
    part->shrink_from = part->size * 2;
    summary = imprint_plan_words_summary (&p);
    g_assert_nonnull (strstr (summary, "beside Windows on /dev/sda"));
    g_assert_null (strstr (summary, "free space"));
    part->shrink_from = 0;
  }

  imprint_plan_info_clear (&p);
  g_assert_true (imprint_plan_info_from_variant (sparse, &p, &error));
  g_assert_false (p.source_read_twice);
  {
    /* Said only when true, and then in words. */
    g_autofree char *none = imprint_plan_words_read_twice (&p);
    g_autoptr(GVariant) without = g_variant_ref_sink (imprint_plan_info_to_variant (&p));
    g_autoptr(GVariant) with = NULL;
    g_autofree char *words = NULL;
    g_auto(ImprintPlanInfo) q = { 0 };
    g_assert_null (none);
    g_assert_false (g_variant_lookup (without, IMPRINT_KEY_SOURCE_READ_TWICE, "b", NULL));
    p.source_read_twice = TRUE;
    with = g_variant_ref_sink (imprint_plan_info_to_variant (&p));
    imprint_plan_info_init (&q);
    g_assert_true (imprint_plan_info_from_variant (with, &q, &error));
    g_assert_true (q.source_read_twice);
    words = imprint_plan_words_read_twice (&q);
    g_assert_nonnull (strstr (words, "twice"));
  }
  g_assert_cmpuint (p.partitions->len, ==, 0);
  g_assert_nonnull (p.erased);
  g_assert_null (p.erased[0]);
  g_assert_cmpstr (p.target, ==, "");
  g_assert_null (p.name);

  imprint_plan_info_clear (&p);
  g_assert_false (imprint_plan_info_from_variant (wrong, &p, &error));
  assert_refused (error);
  g_clear_error (&error);
  g_assert_cmpuint (p.partitions->len, ==, 0);
}

/* Bytes nobody vouches for (as the fuzz target feeds them): never a crash,
 * an answer either way. */
static void
test_from_bytes (void)
{
  static const guint8 junk[] = { 'm', 'o', 'd', 'e', 0, 0, 0, 0, 's', 0, 0xff, 0x07, 0x13 };
  g_autoptr(GBytes) bytes = g_bytes_new_static (junk, sizeof junk);
  g_autoptr(GVariant) v = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));
  g_auto(ImprintInstallRequest) r = { 0 };
  g_autoptr(GError) error = NULL;

  imprint_install_request_init (&r);
  (void) imprint_install_request_from_variant (v, &r, &error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/request/install/wire", test_install_wire);
  g_test_add_func ("/request/install/defaults", test_install_defaults);
  g_test_add_func ("/request/install/refused", test_install_refused);
  g_test_add_func ("/request/bounds", test_bounds);
  g_test_add_func ("/request/first-key-counts", test_first_key_counts);
  g_test_add_func ("/request/setup/wire", test_setup_wire);
  g_test_add_func ("/request/setup/refused", test_setup_refused);
  g_test_add_func ("/request/enroll/wire", test_enroll_wire);
  g_test_add_func ("/request/small", test_small_requests);
  g_test_add_func ("/request/plan-info", test_plan_info);
  g_test_add_func ("/request/from-bytes", test_from_bytes);
  return g_test_run ();
}
