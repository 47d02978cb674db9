/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "crypt-error.h"
#include "imprint-error.h"
#include "install-root.h"
#include "luks-change.h"
#include "luks-setup.h"
#include "repart-definition.h"
#include "secret.h"
#include "security-caps.h"

/* The encryption step of the install: see install-root.h. Moved here from
 * imprintd (it was the daemon's encryption hook), so the engine runs it
 * itself and any front end gets the same root. */

void
imprint_root_encryption_clear (ImprintRootEncryption *enc)
{
  imprint_secret_free (enc->recovery_key);
  imprint_secret_free (enc->passphrase);
  imprint_secret_free (enc->tpm2_pin);
  g_free (enc->tpm2_device);
  g_free (enc->tpm2_pubkey_pem);
  g_free (enc->fido2_device);
  g_free (enc->luks_uuid);
  g_free (enc->root_node);
  *enc = (ImprintRootEncryption) { 0 };
}

/* The root's repart.d definition, read with the shared parser
 * (backend/basic/repart-definition.h): its [Partition] Label= and
 * MakeDirectories=. An empty definition when there is none. */
static ImprintRepartDefinition *
read_definition (const char *path, GError **error)
{
  g_autoptr(ImprintRepartDefinition) def = imprint_repart_definition_new (path != NULL ? path : "");
  g_autofree char *text = NULL;
  gsize size = 0;
  int r;

  if (path == NULL)
    return g_steal_pointer (&def);
  if (!g_file_get_contents (path, &text, &size, error))
    return NULL;
  r = imprint_repart_definition_parse (def, text, size);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Cannot read the partition definition %s: %s"), path, g_strerror (-r));
      return NULL;
    }
  return g_steal_pointer (&def);
}

/* The directories MakeDirectories= asks for, made in a scratch tree that
 * mkfs.ext4 -d copies into the new file system. */
static char *
make_directories_tree (const ImprintRepartDefinition *def, GError **error)
{
  const char *const *dirs = (const char *const *) def->make_directories;
  g_autofree char *tree = NULL;

  if (dirs == NULL || dirs[0] == NULL)
    return NULL;
  tree = g_dir_make_tmp ("imprint-root-XXXXXX", error);
  if (tree == NULL)
    return NULL;
  for (gsize i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *p = g_build_filename (tree, dirs[i], NULL);
      if (g_mkdir_with_parents (p, 0755) < 0)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                       _("Could not prepare the directory %s: %s"),
                       dirs[i], g_strerror (errno));
          return NULL;
        }
    }
  return g_steal_pointer (&tree);
}

static void
remove_tree (const char *tree)
{
  g_autofree char *argv0 = NULL;
  const char *argv[] = { "rm", "-rf", "--one-file-system", tree, NULL };

  if (tree == NULL)
    return;
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, NULL, NULL);
}

static int
enroll_fido2 (struct crypt_device *cd,
              const void *volume_key, size_t volume_key_size,
              JsonObject **ret_token, char **ret_passphrase, void *userdata)
{
  const ImprintRootEncryption *enc = userdata;

  return imprint_luks_fido2_token (cd, enc->fido2_device, IMPRINT_FIDO2_LOCK_DEFAULT,
                                   enc->fido2_prompt, enc->fido2_prompt_data, enc->report,
                                   ret_token, ret_passphrase);
}

static void
on_luks_progress (double fraction, const char *step, void *userdata)
{
  const ImprintRootEncryption *enc = userdata;

  if (step != NULL)
    imprint_report_step (enc->report, step);
  imprint_report_progress (enc->report, CLAMP (fraction, 0.0, 1.0));
}

/* With device-mapper, a fresh LUKS2 volume is opened and the file system
 * made inside it: only what mkfs writes is encrypted, instead of every
 * sector of a large partition rewritten by in-place encryption. */
static gboolean
can_activate (const ImprintRootPartition *root)
{
  return root->node != NULL && access ("/dev/mapper/control", W_OK) == 0;
}

/* mkfs for the root's Format=: btrfs (the live session's root becomes the
 * installed one by a btrfs replace, handover.h, so a live image ships
 * Format=btrfs) or ext4 (anything else: what the in-place path makes). */
static void
add_mkfs_args (GPtrArray *argv, const char *format, const char *label, const char *tree)
{
  gboolean btrfs = g_strcmp0 (format, "btrfs") == 0;

  g_ptr_array_add (argv, g_strdup (btrfs ? "mkfs.btrfs" : "mkfs.ext4"));
  g_ptr_array_add (argv, g_strdup ("-q"));
  g_ptr_array_add (argv, g_strdup ("-L"));
  g_ptr_array_add (argv, g_strdup (label));
  if (tree != NULL)
    {
      g_ptr_array_add (argv, g_strdup (btrfs ? "--rootdir" : "-d"));
      g_ptr_array_add (argv, g_strdup (tree));
    }
}

static gboolean
make_fs_inside (const char *node, const char *key, const char *format, const char *label,
                const char *tree, GError **error)
{
  struct crypt_device *cd = NULL;
  g_autofree char *name = g_strdup_printf ("imprint-root-%d", (int) getpid ());
  g_autofree char *mapped = g_strdup_printf ("/dev/mapper/%s", name);
  g_autofree char *err = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  int status = 0, r;
  gboolean ok = FALSE;

  r = crypt_init (&cd, node);
  if (r >= 0)
    r = crypt_load (cd, CRYPT_LUKS2, NULL);
  if (r >= 0)
    r = crypt_activate_by_passphrase (cd, name, CRYPT_ANY_SLOT, key, strlen (key), 0);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Could not open the new encrypted partition: %s"), g_strerror (-r));
      crypt_free (cd);
      return FALSE;
    }

  add_mkfs_args (argv, format, label, tree);
  g_ptr_array_add (argv, g_strdup (mapped));
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, error))
    goto out;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Could not make the file system: %s"), err ? g_strstrip (err) : "");
      goto out;
    }
  ok = TRUE;

out:
  r = crypt_deactivate (cd, name);
  if (r < 0 && ok)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Could not close the encrypted partition: %s"), g_strerror (-r));
      ok = FALSE;
    }
  crypt_free (cd);
  return ok;
}

gboolean
imprint_root_encrypt (const ImprintRootPartition *root, ImprintRootEncryption *enc, GError **error)
{
  g_autoptr(ImprintRepartDefinition) def = read_definition (root->definition, error);
  g_autofree char *tree = NULL;
  ImprintLuksSetupResult result = { 0 };
  ImprintLuksSetup cfg = { 0 };
  int r;

  if (def == NULL)
    return FALSE;
  tree = make_directories_tree (def, error);
  if (tree == NULL && error != NULL && *error != NULL)
    return FALSE;

  /* Encrypting in place works without device-mapper, on image files and
   * on disks alike: the file system is made first, then encrypted. */
  if (root->node != NULL)
    cfg.device = root->node;
  else
    {
      cfg.device = root->target;
      cfg.offset = root->offset;
      cfg.size = root->size;
    }
  cfg.mode = can_activate (root) ? IMPRINT_LUKS_SETUP_FORMAT : IMPRINT_LUKS_SETUP_ENCRYPT_IN_PLACE;
  cfg.mkfs = cfg.mode == IMPRINT_LUKS_SETUP_ENCRYPT_IN_PLACE;
  cfg.label = def->label != NULL && def->label[0] != '\0' ? def->label : "root";
  cfg.fs_label = cfg.label;
  cfg.fs_source_dir = tree;
  cfg.recovery_key = enc->recovery_key;
  cfg.passphrase = enc->passphrase;
  cfg.tpm2 = enc->tpm2;
  cfg.tpm2_device = enc->tpm2_device;
  cfg.tpm2_device_flags = enc->tpm2_device_flags;
  cfg.tpm2_pcr_mask = enc->tpm2_pcr_mask;
  cfg.tpm2_pin = enc->tpm2_pin;
  /* Only the key: the UKI's signatures are for the installed system's
   * PCR 11, not this boot's, so they cannot check the seal here. */
  cfg.tpm2_pubkey_pem = enc->tpm2_pubkey_pem;
  if (enc->fido2)
    {
      cfg.enroll_extra = enroll_fido2;
      cfg.enroll_extra_userdata = enc;
    }

  r = imprint_luks_setup (&cfg, on_luks_progress, enc, &result);
  if (r >= 0 && cfg.mode == IMPRINT_LUKS_SETUP_FORMAT)
    {
      imprint_report_step (enc->report, _("Creating the file system"));
      if (!make_fs_inside (cfg.device, enc->recovery_key, def->format, cfg.fs_label, tree, error))
        {
          imprint_luks_setup_result_done (&result);
          remove_tree (tree);
          return FALSE;
        }
    }
  remove_tree (tree);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_crypt_error_code (r),
                   _("Could not encrypt the system partition: %s"), imprint_crypt_strerror (r));
      return FALSE;
    }
  g_free (enc->luks_uuid);
  enc->luks_uuid = g_strdup (result.luks_uuid);
  g_free (enc->root_node);
  enc->root_node = cfg.mode == IMPRINT_LUKS_SETUP_FORMAT ? g_strdup (root->node) : NULL;
  imprint_luks_setup_result_done (&result);
  imprint_report_log (enc->report, _("The system partition is encrypted (LUKS2 %s)."), enc->luks_uuid);
  return TRUE;
}

gboolean
imprint_root_encryption_pick_tpm2_key (ImprintRootEncryption *enc, const ImprintSource *source, GError **error)
{
  g_autofree char *tmp = NULL, *uki = NULL, *sig = NULL;
  int r;

  if (!enc->tpm2 || !enc->tpm2_pubkey_auto)
    return TRUE;

  tmp = g_dir_make_tmp ("imprint-uki-XXXXXX", error);
  if (tmp == NULL)
    return FALSE;
  g_clear_pointer (&enc->tpm2_pubkey_pem, g_free);
  uki = imprint_source_extract_uki (source, tmp, NULL);
  r = uki != NULL ? imprint_uki_read_pcr_signing (uki, &enc->tpm2_pubkey_pem, &sig) : -ENOENT;
  if (uki != NULL)
    (void) g_unlink (uki);
  (void) g_rmdir (tmp);
  if (r >= 0)
    imprint_report_log (enc->report, _("The system image is signed for measured boot: the TPM key also gets a signed PCR 11 policy."));
  else
    imprint_report_log (enc->report, _("The system image carries no PCR signature: the TPM key is bound to PCR 7 only."));
  return TRUE;
}

/* See install-root.h. */
gboolean
imprint_source_check_esp_uki (const ImprintSource *source, GError **error)
{
  g_autofree char *tmp = NULL, *uki = NULL, *cmdline = NULL;
  g_autoptr(GError) local = NULL;
  g_auto(GStrv) words = NULL;
  guint n_usrhash = 0;
  gboolean ok = FALSE;
  size_t size = 0;
  int r;

  tmp = g_dir_make_tmp ("imprint-uki-XXXXXX", error);
  if (tmp == NULL)
    return FALSE;
  uki = imprint_source_extract_uki (source, tmp, &local);
  if (uki == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The source’s boot partition holds no unified kernel image naming its system "
                     "partition, so it cannot be checked against the certificate or root hash%s%s"),
                   local ? ": " : "", local ? local->message : "");
      goto out;
    }
  r = imprint_pe_read_section (uki, ".cmdline", &cmdline, &size);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The source’s unified kernel image has no readable command line: %s"), g_strerror (-r));
      goto out;
    }
  words = g_strsplit_set (cmdline, " \t\r\n", -1);
  for (char **w = words; *w != NULL; w++)
    {
      if (!g_str_has_prefix (*w, "usrhash="))
        continue;
      n_usrhash++;
      if (g_ascii_strcasecmp (*w + strlen ("usrhash="), source->root_hash) != 0)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                       _("The source’s unified kernel image boots another system partition (%s) than "
                         "the verified one (usrhash=%s)"), *w, source->root_hash);
          goto out;
        }
    }
  if (n_usrhash == 0)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                           _("The source’s unified kernel image does not name its system partition "
                             "(no usrhash= on its command line)"));
      goto out;
    }
  ok = TRUE;
out:
  if (uki != NULL)
    (void) g_unlink (uki);
  (void) g_rmdir (tmp);
  return ok;
}

