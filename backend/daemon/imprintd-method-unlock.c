/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "imprint-setup-disk.h"
#include "imprintd-methods.h"
#include "luks.h"
#include "macros.h"
#include "safe-open.h"
#include "unlock-log.h"

/* GetUnlockStatus: did the running system's disk need its recovery key or
 * passphrase at this start (backend/crypt/unlock-log.h), and has the TPM2
 * key been sealed again since (Enroll "tpm2" of that disk, noted below in
 * imprintd's runtime directory, which lasts until the next start)? */

#define RESEALED_FILE "tpm2-resealed"

/* Test hooks, like backend/update's IMPRINTD_TEST_*: imprintd is started
 * by D-Bus activation with a clean environment, so only someone who
 * already runs it as root can set these. A LUKS2 device (or image) and
 * volume name standing for the root's, and a directory of journal files
 * standing for the system journal. */
static const char *
test_env (const char *name)
{
  const char *v = g_getenv (name);

  return v != NULL && *v ? v : NULL;
}

static int
find_root_device (char **ret)
{
  const char *device = test_env ("IMPRINTD_TEST_UNLOCK_DEVICE");

  if (device != NULL)
    {
      *ret = g_strdup (device);
      return 0;
    }
  return imprint_setup_disk_find_root (NULL, ret);
}

static const char *
runtime_dir (void)
{
  const char *e = g_getenv ("RUNTIME_DIRECTORY");
  static char first[4096];
  size_t n;

  if (e == NULL || e[0] != '/')
    return "/run/imprint";
  n = strcspn (e, ":");
  if (n >= sizeof first)
    return "/run/imprint";
  memcpy (first, e, n);
  first[n] = '\0';
  return first;
}

static gboolean
boot_id (char ret[SD_ID128_STRING_MAX])
{
  sd_id128_t id;

  if (sd_id128_get_boot (&id) < 0)
    return FALSE;
  sd_id128_to_string (id, ret);
  return TRUE;
}

/* The dm name of the mapping holding "/" ("root"), NULL when there is none. */
static char *
root_volume_name (void)
{
  g_autofree char *path = NULL, *text = NULL;
  struct stat st;

  if (test_env ("IMPRINTD_TEST_UNLOCK_VOLUME") != NULL)
    return g_strdup (test_env ("IMPRINTD_TEST_UNLOCK_VOLUME"));

  if (stat ("/", &st) < 0)
    return NULL;
  path = g_strdup_printf ("/sys/dev/block/%u:%u/dm/name", major (st.st_dev), minor (st.st_dev));
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  g_strchomp (text);
  return *text ? g_steal_pointer (&text) : NULL;
}

/* The same disk (by device number), or the same image file (tests). */
static gboolean
same_device (const char *a, const char *b)
{
  struct stat sa, sb;

  if (a == NULL || b == NULL || stat (a, &sa) < 0 || stat (b, &sb) < 0)
    return FALSE;
  if (S_ISBLK (sa.st_mode) && S_ISBLK (sb.st_mode))
    return sa.st_rdev == sb.st_rdev;
  return S_ISREG (sa.st_mode) && S_ISREG (sb.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static gboolean
resealed_this_boot (void)
{
  g_autofree char *path = g_build_filename (runtime_dir (), RESEALED_FILE, NULL);
  g_autofree char *text = NULL;
  char id[SD_ID128_STRING_MAX];
  _cleanup_close_ int fd = -1;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0 || safe_read_fd (fd, 256, &text, NULL) < 0 || !boot_id (id))
    return FALSE;
  return g_str_equal (g_strstrip (text), id);
}

void
imprintd_unlock_note_resealed (const char *device)
{
  g_autofree char *root = NULL, *path = NULL;
  char id[SD_ID128_STRING_MAX];

  /* Only a re-seal of the disk this system runs from heals its start. */
  if (find_root_device (&root) < 0 || !same_device (root, device) || !boot_id (id))
    return;
  path = g_build_filename (runtime_dir (), RESEALED_FILE, NULL);
  if (!g_file_set_contents_full (path, id, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, NULL))
    g_warning ("Could not write %s", path);
}

/* Which unlock methods the header has: "tpm2-enrolled", "recovery-key-enrolled". */
static void
describe_header (GVariantBuilder *b, const char *device)
{
  struct crypt_device *cd = NULL;
  ImprintLuksToken *tokens = NULL;
  size_t n = 0;
  gboolean tpm2 = FALSE, recovery = FALSE;

  if (imprint_luks_open (device, &cd) >= 0 && imprint_luks_list_tokens (cd, &tokens, &n) >= 0)
    for (size_t i = 0; i < n; i++)
      {
        tpm2 |= g_str_equal (tokens[i].type, "systemd-tpm2");
        recovery |= g_str_equal (tokens[i].type, "systemd-recovery");
      }
  imprint_luks_tokens_free (tokens, n);
  if (cd != NULL)
    crypt_free (cd);
  g_variant_builder_add (b, "{sv}", "tpm2-enrolled", g_variant_new_boolean (tpm2));
  g_variant_builder_add (b, "{sv}", "recovery-key-enrolled", g_variant_new_boolean (recovery));
}

GVariant *
imprintd_method_get_unlock_status (ImprintdMethodCall *call, GError **error)
{
  g_autofree char *device = NULL, *volume = NULL;
  g_auto(ImprintUnlockLog) log;
  char id[SD_ID128_STRING_MAX] = "";
  GVariantBuilder b;
  gboolean encrypted;
  int r;

  encrypted = find_root_device (&device) >= 0;
  volume = encrypted ? root_volume_name () : NULL;
  imprint_unlock_log_init (&log, volume);
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "encrypted", g_variant_new_boolean (encrypted));
  g_variant_builder_add (&b, "{sv}", "device", g_variant_new_string (device ?: ""));
  g_variant_builder_add (&b, "{sv}", "volume", g_variant_new_string (volume ?: ""));
  (void) boot_id (id);
  g_variant_builder_add (&b, "{sv}", "boot-id", g_variant_new_string (id));
  if (encrypted)
    describe_header (&b, device);

  r = volume != NULL ? imprint_unlock_log_read_journal (&log, test_env ("IMPRINTD_TEST_JOURNAL_DIR")) : 0;
  g_variant_builder_add (&b, "{sv}", "journal-read", g_variant_new_boolean (volume != NULL && r >= 0));
  if (r < 0)
    g_debug ("Cannot read the journal: %s", g_strerror (-r));
  g_variant_builder_add (&b, "{sv}", "needed-recovery", g_variant_new_boolean (log.fallback));
  g_variant_builder_add (&b, "{sv}", "reason",
                         g_variant_new_string (log.fallback ? imprint_unlock_reason_to_string (log.reason) : ""));
  g_variant_builder_add (&b, "{sv}", "detail", g_variant_new_string (log.fallback && log.detail ? log.detail : ""));
  g_variant_builder_add (&b, "{sv}", "resealed", g_variant_new_boolean (encrypted && resealed_this_boot ()));
  return g_variant_new ("(@a{sv})", g_variant_builder_end (&b));
}
