/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json-bounded.h"
#include "macros.h"
#include "recovery-key.h"
#include "secret.h"
#include "loop.h"
#include "luks-setup.h"
#include "random.h"
#include "cleanup-cryptsetup.h"

#define ONETIME_KEY_SIZE 64

static void
report (ImprintLuksSetupProgress progress, void *userdata, double fraction, const char *step)
{
  if (progress)
    progress (fraction, step, userdata);
}

/* [offset, offset+size) of path as a read-write loop device that goes
 * away when the returned fd is closed (autoclear). */
static int
loop_attach (const char *path, uint64_t offset, uint64_t size, int *ret_fd, char **ret_node)
{
  _cleanup_close_ int file = open (path, O_RDWR | O_CLOEXEC);

  if (file < 0)
    return -errno;
  /* The loop device holds its own reference to the file. */
  return imprint_loop_attach (file, offset, size, false, ret_fd, ret_node);
}

static int
region_size (const char *path, uint64_t *ret)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  off_t end;

  if (fd < 0)
    return -errno;
  end = lseek (fd, 0, SEEK_END);
  if (end < 0)
    return -errno;
  *ret = (uint64_t) end;
  return 0;
}

static int
make_ext4 (const ImprintLuksSetup *cfg, const char *node, uint64_t size)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  if (size <= IMPRINT_LUKS_ENCRYPT_RESERVE + IMPRINT_LUKS_HEADER_SIZE)
    return -ENOSPC;

  g_ptr_array_add (argv, g_strdup ("mkfs.ext4"));
  g_ptr_array_add (argv, g_strdup ("-q"));
  g_ptr_array_add (argv, g_strdup ("-F"));
  if (cfg->fs_label)
    {
      g_ptr_array_add (argv, g_strdup ("-L"));
      g_ptr_array_add (argv, g_strdup (cfg->fs_label));
    }
  if (cfg->fs_uuid)
    {
      g_ptr_array_add (argv, g_strdup ("-U"));
      g_ptr_array_add (argv, g_strdup (cfg->fs_uuid));
    }
  if (cfg->fs_source_dir)
    {
      g_ptr_array_add (argv, g_strdup ("-d"));
      g_ptr_array_add (argv, g_strdup (cfg->fs_source_dir));
    }
  g_ptr_array_add (argv, g_strdup (node));
  /* The filesystem ends where the reserve for the header shift begins. */
  g_ptr_array_add (argv, g_strdup_printf ("%" G_GUINT64_FORMAT "k",
                                          (size - IMPRINT_LUKS_ENCRYPT_RESERVE) / 1024));
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, &error))
    {
      g_info ("Cannot run mkfs.ext4: %s", error->message);
      return -ENOENT;
    }
  if (!g_spawn_check_wait_status (status, &error))
    {
      g_info ("mkfs.ext4 failed: %s", err ? g_strstrip (err) : error->message);
      return -EIO;
    }
  return 0;
}

typedef struct {
  ImprintLuksSetupProgress progress;
  void *userdata;
} EncryptClosure;

static bool
encrypt_progress (double fraction, void *userdata)
{
  EncryptClosure *c = userdata;

  report (c->progress, c->userdata, 0.10 + 0.65 * fraction, _("Encrypting the disk"));
  return true;
}

void
imprint_luks_setup_result_done (ImprintLuksSetupResult *r)
{
  if (!r)
    return;
  g_clear_pointer (&r->luks_uuid, g_free);
}

static int
enroll_extra (const ImprintLuksSetup *cfg, struct crypt_device *cd, const ImprintSizedSecret *vk, int *ret_keyslot)
{
  g_autoptr (JsonObject) token = NULL;
  _cleanup_secret_ char *pass = NULL;
  int r, slot;

  r = cfg->enroll_extra (cd, vk->data, vk->size, &token, &pass, cfg->enroll_extra_userdata);
  if (r < 0)
    return r;
  if (!token || !pass || !*pass)
    return -EINVAL;

  r = imprint_luks_enroll (cd, vk->data, vk->size, pass, strlen (pass),
                           IMPRINT_LUKS_PBKDF_MINIMAL, NULL, token, &slot, NULL);
  if (r < 0)
    return r;

  r = imprint_luks_check_passphrase (cd, pass, strlen (pass), NULL);
  if (r < 0)
    return r;

  *ret_keyslot = slot;
  return 0;
}

/* The block device to format: cfg->device itself, or its region
 * [offset, offset+size) as a loop device (*ret_loop_fd, *ret_loop_node),
 * and its size. */
static int
open_region (const ImprintLuksSetup *cfg, int *ret_loop_fd, char **ret_loop_node,
             const char **ret_node, uint64_t *ret_size)
{
  const char *node = cfg->device;
  int r;

  if (cfg->offset > 0 || cfg->size > 0)
    {
      uint64_t total;

      r = region_size (cfg->device, &total);
      if (r < 0)
        return r;
      if (cfg->offset >= total || (cfg->size > 0 && cfg->offset + cfg->size > total))
        return -ERANGE;

      r = loop_attach (cfg->device, cfg->offset, cfg->size, ret_loop_fd, ret_loop_node);
      if (r < 0)
        return r;
      node = *ret_loop_node;
    }

  r = region_size (node, ret_size);
  if (r < 0)
    return r;
  *ret_node = node;
  return 0;
}

/* The LUKS2 volume, formatted or encrypted in place (after mkfs when
 * asked), with a random one-time key in *ret_onetime_slot: the volume key
 * is reached through it until the real ways in are enrolled. */
static int
create_volume (const ImprintLuksSetup *cfg, const char *node, uint64_t size, EncryptClosure *closure,
               ImprintSizedSecret *onetime, struct crypt_device **ret_cd, int *ret_onetime_slot)
{
  int r;

  onetime->size = ONETIME_KEY_SIZE;
  onetime->data = imprint_secret_alloc (onetime->size);
  if (!onetime->data)
    return -ENOMEM;
  r = imprint_random_bytes (onetime->data, onetime->size);
  if (r < 0)
    return r;

  if (cfg->mode == IMPRINT_LUKS_SETUP_ENCRYPT_IN_PLACE)
    {
      if (cfg->mkfs)
        {
          report (closure->progress, closure->userdata, 0.02, _("Creating the file system"));
          r = make_ext4 (cfg, node, size);
          if (r < 0)
            return r;
        }

      report (closure->progress, closure->userdata, 0.10, _("Encrypting the disk"));
      return imprint_luks_encrypt_in_place (node, cfg->label, onetime->data, onetime->size,
                                            encrypt_progress, closure, ret_cd, ret_onetime_slot);
    }
  report (closure->progress, closure->userdata, 0.10, _("Creating the encrypted volume"));
  return imprint_luks_format (node, cfg->label, onetime->data, onetime->size, ret_cd, ret_onetime_slot);
}

static int
enroll_tpm2 (const ImprintLuksSetup *cfg, struct crypt_device *cd, const ImprintSizedSecret *vk,
             ImprintTpm2 *tpm, ImprintLuksSetupResult *result)
{
  ImprintTpm2Sealed sealed = { 0 };
  const ImprintTpm2SealParams params = {
    .pcr_mask = cfg->tpm2_pcr_mask ? cfg->tpm2_pcr_mask : IMPRINT_TPM2_DEFAULT_PCR_MASK,
    .pin = cfg->tpm2_pin,
    .pubkey_pem = cfg->tpm2_pubkey_pem,
    .pubkey_pcr_mask = cfg->tpm2_pubkey_pcr_mask,
  };
  int r;

  r = imprint_luks_enroll_tpm2 (cd, vk->data, vk->size, tpm, &params, cfg->tpm2_signature_json,
                                &result->tpm2_keyslot, &sealed);
  if (r < 0)
    return r;
  result->tpm2_pcr_bank = sealed.pcr_bank;
  result->tpm2_primary_alg = sealed.primary_alg;
  result->tpm2_signed_policy = sealed.pubkey_pem != NULL;
  imprint_tpm2_sealed_done (&sealed);
  return 0;
}

/* Every way in the configuration asks for, each in its own keyslot: the
 * recovery key (always), the TPM2, the passphrase, the caller's extra
 * (a FIDO2 key). */
static int
enroll_unlockers (const ImprintLuksSetup *cfg, EncryptClosure *closure, struct crypt_device *cd,
                  const ImprintSizedSecret *vk, const char *recovery, ImprintTpm2 *tpm,
                  ImprintLuksSetupResult *result)
{
  g_autoptr (JsonObject) recovery_token = NULL;
  int r;

  report (closure->progress, closure->userdata, 0.80, _("Adding the recovery key"));
  recovery_token = imprint_luks_recovery_token_new ();
  r = imprint_luks_enroll (cd, vk->data, vk->size, recovery, strlen (recovery),
                           IMPRINT_LUKS_PBKDF_MINIMAL, NULL, recovery_token, &result->recovery_keyslot, NULL);
  if (r < 0)
    return r;

  if (tpm)
    {
      report (closure->progress, closure->userdata, 0.84, _("Sealing the key to the TPM"));
      r = enroll_tpm2 (cfg, cd, vk, tpm, result);
      if (r < 0)
        return r;
    }

  if (cfg->passphrase)
    {
      report (closure->progress, closure->userdata, 0.88, _("Adding the passphrase"));
      r = imprint_luks_enroll (cd, vk->data, vk->size, cfg->passphrase, strlen (cfg->passphrase),
                               IMPRINT_LUKS_PBKDF_DEFAULT, cfg->passphrase_pbkdf, NULL,
                               &result->passphrase_keyslot, NULL);
      if (r < 0)
        return r;
    }

  if (cfg->enroll_extra)
    {
      report (closure->progress, closure->userdata, 0.92, _("Adding the security key"));
      r = enroll_extra (cfg, cd, vk, &result->extra_keyslot);
      if (r < 0)
        return r;
    }
  return 0;
}

/* Checks each way in before the one-time key goes. */
static int
check_unlockers (const ImprintLuksSetup *cfg, struct crypt_device *cd, const char *recovery,
                 const ImprintLuksSetupResult *result)
{
  int r, slot = -1;

  r = imprint_luks_check_passphrase (cd, recovery, strlen (recovery), &slot);
  if (r < 0)
    return r;
  if (slot != result->recovery_keyslot)
    return -EUCLEAN;

  if (cfg->passphrase)
    {
      r = imprint_luks_check_passphrase (cd, cfg->passphrase, strlen (cfg->passphrase), &slot);
      if (r < 0)
        return r;
    }
  return 0;
}

int
imprint_luks_setup (const ImprintLuksSetup *cfg,
                    ImprintLuksSetupProgress progress,
                    void *userdata,
                    ImprintLuksSetupResult *ret)
{
  _cleanup_crypt_free_ struct crypt_device *cd = NULL;
  _cleanup_sized_secret_ ImprintSizedSecret onetime = { 0 }, vk = { 0 };
  _cleanup_secret_ char *recovery = NULL;
  _cleanup_close_ int loop_fd = -1;
  g_autofree char *loop_node = NULL;
  g_autoptr (ImprintTpm2) tpm = NULL;
  ImprintLuksSetupResult result = {
    .recovery_keyslot = -1,
    .passphrase_keyslot = -1,
    .tpm2_keyslot = -1,
    .extra_keyslot = -1,
  };
  EncryptClosure closure = { progress, userdata };
  const char *node;
  uint64_t size;
  int r, onetime_slot = -1;

  if (!cfg || !cfg->device || !cfg->recovery_key)
    return -EINVAL;
  if (cfg->mkfs && cfg->mode != IMPRINT_LUKS_SETUP_ENCRYPT_IN_PLACE)
    return -EINVAL;
  if (cfg->passphrase && !*cfg->passphrase)
    return -EINVAL;

  r = imprint_recovery_key_normalize (cfg->recovery_key, &recovery);
  if (r < 0)
    return r;

  /* Open the TPM before touching the disk: a missing TPM must not leave a
   * half-made volume behind. */
  if (cfg->tpm2)
    {
      r = imprint_tpm2_open (cfg->tpm2_device, cfg->tpm2_device_flags, &tpm);
      if (r < 0)
        return r;
    }

  report (progress, userdata, 0.0, _("Preparing the disk"));
  r = open_region (cfg, &loop_fd, &loop_node, &node, &size);
  if (r < 0)
    return r;
  r = create_volume (cfg, node, size, &closure, &onetime, &cd, &onetime_slot);
  if (r < 0)
    return r;
  r = imprint_luks_volume_key_get (cd, onetime.data, onetime.size, &vk.data, &vk.size, NULL);
  if (r < 0)
    return r;
  r = enroll_unlockers (cfg, &closure, cd, &vk, recovery, tpm, &result);
  if (r < 0)
    return r;

  report (progress, userdata, 0.96, _("Checking every way to unlock the disk"));
  r = check_unlockers (cfg, cd, recovery, &result);
  if (r < 0)
    return r;
  r = imprint_luks_remove_keyslot (cd, onetime_slot);
  if (r < 0)
    return r;

  result.luks_uuid = g_strdup (crypt_get_uuid (cd));

  /* Make sure the header is on the disk before the loop device goes. */
  crypt_free (g_steal_pointer (&cd));
  if (loop_fd >= 0)
    (void) fsync (loop_fd);

  report (progress, userdata, 1.0, _("The disk is encrypted"));

  if (ret)
    *ret = result;
  else
    imprint_luks_setup_result_done (&result);
  return 0;
}
