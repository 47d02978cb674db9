/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib/gi18n.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "efi-boot.h"
#include "imprint-error.h"
#include "macros.h"

#define EFI_GLOBAL_GUID "8be4df61-93ca-11d2-aa0d-00e098032b8c"
#define EFI_ATTRS (0x1u | 0x2u | 0x4u) /* NON_VOLATILE | BOOTSERVICE | RUNTIME */

static void
put16 (GByteArray *a, guint16 v)
{
  guint8 b[2] = { v & 0xff, v >> 8 };
  g_byte_array_append (a, b, 2);
}

static void
put32 (GByteArray *a, guint32 v)
{
  put16 (a, v & 0xffff);
  put16 (a, v >> 16);
}

static void
put64 (GByteArray *a, guint64 v)
{
  put32 (a, v & 0xffffffff);
  put32 (a, v >> 32);
}

static void
put_utf16 (GByteArray *a, const char *s)
{
  g_autofree gunichar2 *u = g_utf8_to_utf16 (s, -1, NULL, NULL, NULL);
  for (gunichar2 *p = u; p && *p; p++)
    put16 (a, *p);
  put16 (a, 0);
}

/* EFI GUIDs store the first three fields little-endian. */
static void
put_guid (GByteArray *a, const char *uuid)
{
  guint8 raw[16] = { 0 };
  int k = 0;
  for (const char *p = uuid; *p && k < 32; p++)
    if (g_ascii_isxdigit (*p))
      {
        raw[k / 2] |= g_ascii_xdigit_value (*p) << ((k % 2) ? 0 : 4);
        k++;
      }
  guint8 g[16] = { raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6] };
  memcpy (g + 8, raw + 8, 8);
  g_byte_array_append (a, g, 16);
}

GBytes *
imprint_efi_load_option_new (const char *description, guint32 partno, guint64 start_lba,
                             guint64 size_lba, const char *part_uuid, const char *file_path)
{
  g_autoptr(GByteArray) dp = g_byte_array_new ();
  GByteArray *out = g_byte_array_new ();
  g_autoptr(GByteArray) path = g_byte_array_new ();

  /* HD(): media device path, hard drive. */
  g_byte_array_append (dp, (const guint8[]) { 0x04, 0x01 }, 2);
  put16 (dp, 42);
  put32 (dp, partno);
  put64 (dp, start_lba);
  put64 (dp, size_lba);
  put_guid (dp, part_uuid);
  g_byte_array_append (dp, (const guint8[]) { 0x02 /* GPT */, 0x02 /* GUID signature */ }, 2);

  /* File(): media device path, file path. */
  put_utf16 (path, file_path);
  g_byte_array_append (dp, (const guint8[]) { 0x04, 0x04 }, 2);
  put16 (dp, (guint16) (4 + path->len));
  g_byte_array_append (dp, path->data, path->len);

  /* End of the whole path. */
  g_byte_array_append (dp, (const guint8[]) { 0x7f, 0xff, 0x04, 0x00 }, 4);

  put32 (out, 1); /* LOAD_OPTION_ACTIVE */
  put16 (out, (guint16) dp->len);
  put_utf16 (out, description);
  g_byte_array_append (out, dp->data, dp->len);
  return g_byte_array_free_to_bytes (out);
}

static gboolean
read_var (const char *dir, const char *name, GBytes **ret, GError **error)
{
  g_autofree char *p = g_strdup_printf ("%s/%s-" EFI_GLOBAL_GUID, dir, name);
  g_autofree char *c = NULL;
  gsize len = 0;

  if (!g_file_get_contents (p, &c, &len, NULL) || len < 4)
    {
      *ret = NULL;
      return TRUE;
    }
  *ret = g_bytes_new (c + 4, len - 4);
  return TRUE;
}

static gboolean
write_var (const char *dir, const char *name, const void *data, gsize len, GError **error)
{
  g_autofree char *p = g_strdup_printf ("%s/%s-" EFI_GLOBAL_GUID, dir, name);
  g_autofree guint8 *buf = g_malloc (len + 4);
  _cleanup_close_ int fd = -1;
  guint32 attrs = GUINT32_TO_LE (EFI_ATTRS);
  ssize_t n;

  /* efivarfs marks variables immutable; lift that for the one we replace. */
  fd = open (p, O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      int flags = 0;
      if (ioctl (fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_IMMUTABLE_FL))
        {
          flags &= ~FS_IMMUTABLE_FL;
          (void) ioctl (fd, FS_IOC_SETFLAGS, &flags);
        }
      close (TAKE_FD (fd));
    }

  memcpy (buf, &attrs, 4);
  memcpy (buf + 4, data, len);
  /* efivarfs wants the whole variable in one write. */
  fd = open (p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || (n = write (fd, buf, len + 4)) != (ssize_t) (len + 4))
    {
      int err = fd < 0 || n < 0 ? errno : EIO;
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Cannot write the EFI variable %s: %s"), name, g_strerror (err));
      return FALSE;
    }
  return TRUE;
}

gboolean
imprint_efi_register_boot_entry (const char *dir, GBytes *option, guint16 *ret_number, GError **error)
{
  g_autoptr(GBytes) order = NULL;
  g_autofree guint8 *used = g_malloc0 (0x10000);
  int number = -1;

  if (dir == NULL)
    dir = IMPRINT_EFIVARS_DIR;
  if (access (dir, W_OK) < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                   _("EFI variables are not writable here (%s)"), dir);
      return FALSE;
    }

  /* Reuse an identical entry: reinstalling must not pile up entries. */
  for (guint i = 0; i < 0x10000 && number < 0; i++)
    {
      g_autofree char *name = g_strdup_printf ("Boot%04X", i);
      g_autoptr(GBytes) cur = NULL;
      read_var (dir, name, &cur, NULL);
      if (cur == NULL)
        {
          if (i > 0x200)
            break; /* entries are dense in practice; stop scanning early */
          continue;
        }
      used[i] = TRUE;
      if (g_bytes_equal (cur, option))
        number = (int) i;
    }
  if (number < 0)
    for (guint i = 0; i < 0x10000; i++)
      if (!used[i])
        {
          number = (int) i;
          break;
        }

  g_autofree char *name = g_strdup_printf ("Boot%04X", number);
  if (!write_var (dir, name, g_bytes_get_data (option, NULL), g_bytes_get_size (option), error))
    return FALSE;

  read_var (dir, "BootOrder", &order, NULL);
  g_autoptr(GByteArray) neworder = g_byte_array_new ();
  put16 (neworder, (guint16) number);
  if (order)
    {
      gsize n = 0;
      const guint8 *d = g_bytes_get_data (order, &n);
      for (gsize i = 0; i + 1 < n; i += 2)
        {
          guint16 v = d[i] | d[i + 1] << 8;
          if (v != number)
            put16 (neworder, v);
        }
    }
  if (!write_var (dir, "BootOrder", neworder->data, neworder->len, error))
    return FALSE;
  if (ret_number)
    *ret_number = (guint16) number;
  return TRUE;
}
