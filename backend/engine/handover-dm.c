/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <libdevmapper.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "handover.h"
#include "macros.h"

/* The /usr part of the handover (handover.h): the running dm-verity
 * device keeps its root hash and every option; only its data and hash
 * devices change, by a table reload and a resume. The kernel suspends the
 * device for the swap (queued reads wait, none fail) and checks every
 * block read from the new devices against the same hash tree, so a wrong
 * or damaged A slot cannot serve a single unverified byte. */

#define VERITY_MAX_PARAMS 4096
#define VERITY_MAX_FIELDS 64

static int
parse_devt (const char *s, dev_t *ret)
{
  unsigned maj, min;
  char tail;

  if (sscanf (s, "%u:%u%c", &maj, &min, &tail) != 2)
    return -EINVAL;
  *ret = makedev (maj, min);
  return 0;
}

static gboolean
is_uint (const char *s)
{
  if (*s == '\0' || strlen (s) > 20)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isdigit (*s))
      return FALSE;
  return TRUE;
}

/* Optional arguments the reload keeps as they are: none of them names a
 * device or needs something the kernel only had at the first load. */
static int
check_optional (char **f, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      if (g_str_equal (f[i], "use_fec_from_device"))
        return -EOPNOTSUPP;  /* names a third device on the medium */
      if (g_str_equal (f[i], "root_hash_sig_key_desc"))
        return -EOPNOTSUPP;  /* the signature key is gone from the keyring */
    }
  return 0;
}

int
imprint_verity_params_repoint (const char *params, dev_t new_data, dev_t new_hash,
                               dev_t *ret_old_data, dev_t *ret_old_hash, char **ret)
{
  g_auto(GStrv) f = NULL;
  g_autoptr(GString) out = NULL;
  dev_t old_data, old_hash;
  guint n = 0, nopt = 0;
  int r;

  if (params == NULL || strnlen (params, VERITY_MAX_PARAMS + 1) > VERITY_MAX_PARAMS)
    return -EINVAL;
  f = g_strsplit_set (params, " \t\n", VERITY_MAX_FIELDS + 1);
  /* Drop the empty fields of repeated blanks, in place. */
  for (guint i = 0; f[i] != NULL; i++)
    {
      if (f[i][0] == '\0')
        {
          g_free (f[i]);
          continue;
        }
      f[n++] = f[i];
    }
  f[n] = NULL;
  if (n < 10 || n > VERITY_MAX_FIELDS)
    return -EINVAL;
  if (!g_str_equal (f[0], "0") && !g_str_equal (f[0], "1"))
    return -EINVAL;
  if (parse_devt (f[1], &old_data) < 0 || parse_devt (f[2], &old_hash) < 0)
    return -EINVAL;
  for (guint i = 3; i <= 6; i++)
    if (!is_uint (f[i]))
      return -EINVAL;
  if (n > 10)
    {
      if (!is_uint (f[10]))
        return -EINVAL;
      nopt = (guint) g_ascii_strtoull (f[10], NULL, 10);
      if (nopt != n - 11)
        return -EINVAL;
      r = check_optional (f + 11, nopt);
      if (r < 0)
        return r;
    }

  out = g_string_new (f[0]);
  g_string_append_printf (out, " %u:%u %u:%u", major (new_data), minor (new_data),
                          major (new_hash), minor (new_hash));
  for (guint i = 3; i < n; i++)
    g_string_append_printf (out, " %s", f[i]);
  if (ret_old_data)
    *ret_old_data = old_data;
  if (ret_old_hash)
    *ret_old_hash = old_hash;
  *ret = g_string_free (g_steal_pointer (&out), FALSE);
  return 0;
}

static void
dm_task_destroyp (struct dm_task **t)
{
  if (*t)
    dm_task_destroy (*t);
}

int
imprint_dm_verity_table (const char *name, char **ret_params, guint64 *ret_sectors)
{
  _cleanup_(dm_task_destroyp) struct dm_task *t = NULL;
  uint64_t start = 0, length = 0;
  char *type = NULL, *params = NULL;
  void *next;

  t = dm_task_create (DM_DEVICE_TABLE);
  if (t == NULL || !dm_task_set_name (t, name))
    return -ENOMEM;
  if (!dm_task_run (t))
    return -ENODEV;
  next = dm_get_next_target (t, NULL, &start, &length, &type, &params);
  if (type == NULL || params == NULL || !g_str_equal (type, "verity"))
    return -EMEDIUMTYPE;
  if (next != NULL || start != 0)
    return -EMEDIUMTYPE;  /* one target over the whole device, as veritysetup makes */
  *ret_params = g_strdup (params);
  *ret_sectors = length;
  return 0;
}

int
imprint_dm_reload (const char *name, guint64 sectors, const char *params)
{
  _cleanup_(dm_task_destroyp) struct dm_task *load = NULL;
  _cleanup_(dm_task_destroyp) struct dm_task *resume = NULL;

  load = dm_task_create (DM_DEVICE_RELOAD);
  if (load == NULL || !dm_task_set_name (load, name) || !dm_task_set_ro (load) ||
      !dm_task_add_target (load, 0, sectors, "verity", params))
    return -ENOMEM;
  if (!dm_task_run (load))
    return -EIO;

  /* The resume swaps the loaded table in: the kernel suspends the device
   * first (reads wait, they do not fail), then resumes it. */
  resume = dm_task_create (DM_DEVICE_RESUME);
  if (resume == NULL || !dm_task_set_name (resume, name))
    return -ENOMEM;
  if (!dm_task_run (resume))
    {
      /* Drop the loaded table so the device keeps the old one. */
      _cleanup_(dm_task_destroyp) struct dm_task *clear = dm_task_create (DM_DEVICE_CLEAR);
      if (clear != NULL && dm_task_set_name (clear, name))
        (void) dm_task_run (clear);
      return -EIO;
    }
  return 0;
}
