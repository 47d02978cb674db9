/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* EFI variables in efivarfs, as systemd reads and writes them: the
 * factory reset request (factory-reset.c) is one. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "factory-reset.h"
#include "macros.h"

int
imprint_efi_string_encode (const char *value, guint32 attributes, guint8 **ret, gsize *ret_size)
{
  g_autofree gunichar2 *u16 = NULL;
  glong n = 0;
  gsize size;
  guint8 *buf;

  u16 = g_utf8_to_utf16 (value, -1, NULL, &n, NULL);
  if (u16 == NULL)
    return -EINVAL;
  size = 4 + ((gsize) n + 1) * 2;
  buf = g_malloc0 (size);
  buf[0] = attributes & 0xff;
  buf[1] = (attributes >> 8) & 0xff;
  buf[2] = (attributes >> 16) & 0xff;
  buf[3] = (attributes >> 24) & 0xff;
  for (glong i = 0; i < n; i++)
    {
      buf[4 + i * 2] = u16[i] & 0xff;
      buf[4 + i * 2 + 1] = (u16[i] >> 8) & 0xff;
    }
  /* The last two bytes stay zero: the terminating NUL character. */
  *ret = buf;
  *ret_size = size;
  return 0;
}

int
imprint_efi_string_decode (const guint8 *data, gsize size, guint32 *ret_attributes, char **ret_value)
{
  g_autofree gunichar2 *u16 = NULL;
  gsize n;
  char *s;

  if (size < 4 || (size - 4) % 2 != 0)
    return -EBADMSG;
  n = (size - 4) / 2;
  u16 = g_new0 (gunichar2, n + 1);
  for (gsize i = 0; i < n; i++)
    u16[i] = (gunichar2) (data[4 + i * 2] | (data[4 + i * 2 + 1] << 8));
  s = g_utf16_to_utf8 (u16, -1, NULL, NULL, NULL);  /* stops at the first NUL */
  if (s == NULL)
    return -EBADMSG;
  if (ret_attributes)
    *ret_attributes = (guint32) data[0] | ((guint32) data[1] << 8) | ((guint32) data[2] << 16) | ((guint32) data[3] << 24);
  *ret_value = s;
  return 0;
}

static char *
efi_path (const char *efivars, const char *name)
{
  return g_build_filename (efivars ? efivars : IMPRINT_EFIVARS_DEFAULT, name, NULL);
}

int
imprint_efi_read_string (const char *efivars, const char *name, char **ret_value)
{
  g_autofree char *path = efi_path (efivars, name);
  g_autofree char *data = NULL;
  gsize size;
  g_autoptr(GError) error = NULL;

  if (!g_file_get_contents (path, &data, &size, &error))
    return g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? -ENOENT : -EIO;
  return imprint_efi_string_decode ((const guint8 *) data, size, NULL, ret_value);
}

/* efivarfs marks variables immutable so a stray rm cannot brick a board;
 * lift it for the variable we own. Not every file system has the flag
 * (tests run on tmpfs): ENOTTY/EOPNOTSUPP are fine. */
static int
clear_immutable (int fd)
{
  int flags;

  if (ioctl (fd, FS_IOC_GETFLAGS, &flags) < 0)
    return (errno == ENOTTY || errno == EOPNOTSUPP || errno == EINVAL) ? 0 : -errno;
  if (!(flags & FS_IMMUTABLE_FL))
    return 0;
  flags &= ~FS_IMMUTABLE_FL;
  if (ioctl (fd, FS_IOC_SETFLAGS, &flags) < 0)
    return -errno;
  return 0;
}

int
imprint_efi_write_string (const char *efivars, const char *name, const char *value)
{
  g_autofree char *path = efi_path (efivars, name);
  g_autofree guint8 *buf = NULL;
  _cleanup_close_ int fd = -1;
  gsize size;
  ssize_t n;
  int r;

  r = imprint_efi_string_encode (value, IMPRINT_EFI_ATTR_NV_BS_RT, &buf, &size);
  if (r < 0)
    return r;

  /* An existing variable: lift the immutable flag first. */
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd >= 0)
    {
      r = clear_immutable (fd);
      if (r < 0)
        return r;
      close (TAKE_FD (fd));
    }
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0)
    return -errno;
  /* efivarfs takes the whole variable in a single write(). */
  n = write (fd, buf, size);
  if (n < 0)
    return -errno;
  if ((gsize) n != size)
    return -EIO;
  return 0;
}

int
imprint_efi_remove (const char *efivars, const char *name)
{
  g_autofree char *path = efi_path (efivars, name);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  int r;

  if (fd < 0)
    return errno == ENOENT ? 0 : -errno;
  r = clear_immutable (fd);
  if (r < 0)
    return r;
  if (unlink (path) < 0 && errno != ENOENT)
    return -errno;
  return 0;
}
