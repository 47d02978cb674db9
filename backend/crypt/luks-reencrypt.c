/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Encrypting a file system in place: LUKS2 online reencryption of a
 * region that already holds ext4, after shrinking the file system to make
 * room for the header (libcryptsetup's reencrypt API, progress reported). */
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
#include "luks-private.h"
#include "macros.h"
#include "recovery-key.h"
#include "secret.h"
#include "cleanup-cryptsetup.h"

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

/* Refuses early when the region cannot hold header and reserve, or its
 * ext4 has not been shrunk to leave them free. */
static int
check_room (const char *device)
{
  _cleanup_close_ int fd = -1;
  uint64_t size, fs_size = 0;
  struct stat st;
  int r;

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

  r = ext4_size (fd, &fs_size);
  if (r < 0)
    return r;
  if (fs_size > size - IMPRINT_LUKS_ENCRYPT_RESERVE)
    {
      g_info ("The filesystem on %s fills the space the LUKS2 header needs; shrink it by %" G_GUINT64_FORMAT " bytes",
              device, fs_size - (size - IMPRINT_LUKS_ENCRYPT_RESERVE));
      return -ENOSPC;
    }
  return 0;
}

/* The new header is built detached first, in a private directory
 * (*ret_tmpdir, *ret_header: set as soon as they exist, for the caller's
 * cleanup), then restored to the head of the device once the first
 * segment is moved, as "cryptsetup reencrypt --encrypt
 * --reduce-device-size" does. */
static int
make_detached_header (char **ret_tmpdir, char **ret_header)
{
  _cleanup_close_ int fd = -1;
  char *tmpdir;
  int r;

  tmpdir = g_strdup ("/tmp/imprint-luks-XXXXXX");
  if (!g_mkdtemp_full (tmpdir, 0700))
    {
      r = -errno;
      g_free (tmpdir);
      return r;
    }
  *ret_tmpdir = tmpdir;
  *ret_header = g_build_filename (tmpdir, "header", NULL);
  fd = open (*ret_header, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return -errno;
  r = posix_fallocate (fd, 0, 4096);
  if (r > 0)
    return -r;
  return 0;
}

/* The new LUKS2 header, formatted in the detached file @header for
 * @device's data, with a keyslot for @passphrase (*ret_keyslot), and the
 * reencryption initialised in it (not run: the header is not in place
 * yet). */
static int
format_detached (const char *device, const char *header, const struct crypt_params_luks2 *luks2,
                 const void *passphrase, size_t passphrase_size,
                 const struct crypt_params_reencrypt *params, int *ret_keyslot)
{
  _cleanup_crypt_free_ struct crypt_device *cd = NULL;
  int r, slot;

  r = crypt_init_data_device (&cd, header, device);
  if (r < 0)
    return r;
  imprint_luks_setup_logging (cd);

  r = crypt_set_data_offset (cd, IMPRINT_LUKS_HEADER_SIZE / IMPRINT_LUKS_SECTOR);
  if (r < 0)
    return r;

  r = imprint_luks_set_pbkdf (cd, IMPRINT_LUKS_PBKDF_MINIMAL, NULL);
  if (r < 0)
    return r;

  r = crypt_format (cd, CRYPT_LUKS2, IMPRINT_LUKS_CIPHER, IMPRINT_LUKS_CIPHER_MODE,
                    NULL, NULL, IMPRINT_LUKS_VOLUME_KEY_SIZE, (void *) luks2);
  if (r < 0)
    return r;

  slot = crypt_keyslot_add_by_volume_key (cd, CRYPT_ANY_SLOT, NULL, 0, passphrase, passphrase_size);
  if (slot < 0)
    return slot;

  r = crypt_reencrypt_init_by_passphrase (cd, NULL, passphrase, passphrase_size,
                                          CRYPT_ANY_SLOT, slot,
                                          IMPRINT_LUKS_CIPHER, IMPRINT_LUKS_CIPHER_MODE,
                                          params);
  if (r < 0)
    return r;
  *ret_keyslot = slot;
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
    .sector_size = IMPRINT_LUKS_SECTOR,
  };
  struct crypt_params_reencrypt params = {
    .mode = CRYPT_REENCRYPT_ENCRYPT,
    /* Backwards with a data shift: the data moves HEADER_SIZE further in,
     * starting at the end, while the first segment waits in the reserve. */
    .direction = CRYPT_REENCRYPT_BACKWARD,
    .resilience = "datashift",
    .hash = "sha256",
    .data_shift = IMPRINT_LUKS_HEADER_SIZE / IMPRINT_LUKS_SECTOR,
    .luks2 = &luks2,
    .flags = CRYPT_REENCRYPT_INITIALIZE_ONLY | CRYPT_REENCRYPT_MOVE_FIRST_SEGMENT,
  };
  ProgressClosure closure = { progress, userdata };
  int r, slot;

  if (!device || !passphrase || passphrase_size == 0)
    return -EINVAL;

  r = check_room (device);
  if (r < 0)
    return r;

  r = make_detached_header (&tmpdir, &header);
  if (r < 0)
    return r;

  r = format_detached (device, header, &luks2, passphrase, passphrase_size, &params, &slot);
  if (r < 0)
    return r;

  r = crypt_init (&cd, device);
  if (r < 0)
    return r;
  imprint_luks_setup_logging (cd);

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
