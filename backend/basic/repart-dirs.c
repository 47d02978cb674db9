/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* repart.d directories as systemd-repart lists them (conf_files_list and
 * drop-ins), read without following symlinks; repart-definition.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "macros.h"
#include "repart-definition.h"
#include "safe-open.h"

#define OPEN_FILE_FLAGS (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
#define OPEN_DIR_FLAGS  (OPEN_FILE_FLAGS | O_DIRECTORY)

typedef struct {
  ImprintRepartOpenFunc open_func;
  void *userdata;
} Opener;

static int
do_open (const Opener *o, int dirfd, const char *name, int flags)
{
  int fd;

  if (o->open_func != NULL)
    return o->open_func (dirfd, name, flags, o->userdata);
  fd = openat (dirfd, name, flags);
  return fd < 0 ? -errno : fd;
}

static gint
cmp_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Adds the *.conf names of @dirfd not seen yet (name -> the fd to read it
 * from) to @seen. */
static int
list_dir (int dirfd, GHashTable *seen)
{
  _cleanup_close_ int fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d;
  struct dirent *de;

  if (fd < 0)
    return -errno;
  d = fdopendir (fd);
  if (d == NULL)
    return -errno;
  TAKE_FD (fd);
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      if (de->d_name[0] == '.' || !g_str_has_suffix (de->d_name, ".conf") ||
          g_hash_table_contains (seen, de->d_name))
        continue;
      if (g_hash_table_size (seen) >= IMPRINT_REPART_FILES_MAX)
        {
          closedir (d);
          return -E2BIG;
        }
      g_hash_table_insert (seen, g_strdup (de->d_name), GINT_TO_POINTER (dirfd));
    }
  closedir (d);
  return 0;
}

/* The names in @seen, sorted. */
static GPtrArray *
sorted_names (GHashTable *seen)
{
  GPtrArray *names = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, seen);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, key);

  g_ptr_array_sort (names, cmp_strings);
  return names;
}

/* 1 when @name in @dirfd masks (a symlink to /dev/null, the null device,
 * an empty file), 0 with the contents, else a negative errno. */
static int
read_file (const Opener *o, int dirfd, const char *name, char **ret, size_t *ret_size)
{
  _cleanup_close_ int fd = do_open (o, dirfd, name, OPEN_FILE_FLAGS);
  struct stat st;
  int r;

  if (fd == -ELOOP)
    {
      char target[16] = "";
      ssize_t n = readlinkat (dirfd, name, target, sizeof (target) - 1);
      return n == 9 && memcmp (target, "/dev/null", 9) == 0 ? 1 : -ELOOP;
    }
  if (fd < 0)
    return fd;
  if (fstat (fd, &st) < 0)
    return -errno;
  if (S_ISCHR (st.st_mode) && st.st_rdev == makedev (1, 3))
    return 1;
  r = safe_fd_check (fd, SAFE_TYPE_REG, &st);
  if (r < 0)
    return r;
  if (st.st_size == 0)
    return 1;
  return safe_read_fd (fd, IMPRINT_REPART_FILE_MAX, ret, ret_size);
}

static int
parse_file (const Opener *o, int dirfd, const char *name, ImprintRepartDefinition *def)
{
  _cleanup_free_ char *text = NULL;
  size_t size = 0;
  int r = read_file (o, dirfd, name, &text, &size);

  if (r != 0)
    return r;
  return imprint_repart_definition_parse (def, text, size);
}

/* Applies NAME.d/ *.conf of every directory, in name order. */
static int
apply_drop_ins (const Opener *o, const int *dirfds, size_t n_dirs, ImprintRepartDefinition *def,
                char **ret_bad_name)
{
  g_autofree char *sub = g_strconcat (def->name, ".d", NULL);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GPtrArray) names = NULL;
  int r = 0;

  for (size_t i = 0; i < n_dirs && r >= 0; i++)
    {
      int fd = dirfds[i] < 0 ? -ENOENT : do_open (o, dirfds[i], sub, OPEN_DIR_FLAGS);
      if (fd < 0)
        continue;   /* no drop-ins there (or not a directory: systemd skips it too) */
      g_array_append_val (fds, fd);
      r = list_dir (fd, seen);
    }
  names = sorted_names (seen);
  for (guint i = 0; i < names->len && r >= 0; i++)
    {
      const char *name = names->pdata[i];
      r = parse_file (o, GPOINTER_TO_INT (g_hash_table_lookup (seen, name)), name, def);
      if (r < 0 && ret_bad_name != NULL)
        *ret_bad_name = g_build_filename (sub, name, NULL);
    }
  for (guint i = 0; i < fds->len; i++)
    close (g_array_index (fds, int, i));
  return r < 0 ? r : 0;
}

int
imprint_repart_load_fds (const int *dirfds, size_t n_dirs, ImprintRepartOpenFunc open_func,
                         void *userdata, GPtrArray **ret, char **ret_bad_name)
{
  const Opener o = { open_func, userdata };
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) defs =
    g_ptr_array_new_with_free_func ((GDestroyNotify) imprint_repart_definition_free);
  g_autoptr(GPtrArray) names = NULL;
  g_autofree char *bad = NULL;
  int r;

  for (size_t i = 0; i < n_dirs; i++)
    if (dirfds[i] >= 0 && (r = list_dir (dirfds[i], seen)) < 0)
      return r;
  names = sorted_names (seen);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autoptr(ImprintRepartDefinition) def = imprint_repart_definition_new (name);

      r = parse_file (&o, GPOINTER_TO_INT (g_hash_table_lookup (seen, name)), name, def);
      if (r == 1)
        continue;   /* masked */
      if (r < 0)
        bad = g_strdup (name);
      else
        r = apply_drop_ins (&o, dirfds, n_dirs, def, &bad);
      if (r < 0)
        {
          if (ret_bad_name != NULL)
            *ret_bad_name = g_steal_pointer (&bad);
          return r;
        }
      g_ptr_array_add (defs, g_steal_pointer (&def));
    }
  *ret = g_steal_pointer (&defs);
  return 0;
}

int
imprint_repart_load_dirs (const char *const *dirs, GPtrArray **ret, gboolean *ret_found,
                          char **ret_bad_name)
{
  g_autoptr(GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  gboolean found = FALSE;
  int r = 0;

  for (gsize i = 0; dirs[i] != NULL && r >= 0; i++)
    {
      int fd = open (dirs[i], OPEN_DIR_FLAGS);
      if (fd < 0 && errno != ENOENT)
        r = -errno;
      if (fd >= 0)
        found = TRUE;
      g_array_append_val (fds, fd);
    }
  if (r >= 0)
    r = imprint_repart_load_fds ((const int *) (void *) fds->data, fds->len, NULL, NULL, ret,
                                 ret_bad_name);
  for (guint i = 0; i < fds->len; i++)
    if (g_array_index (fds, int, i) >= 0)
      close (g_array_index (fds, int, i));
  if (r >= 0 && ret_found != NULL)
    *ret_found = found;
  return r;
}

int
imprint_repart_write_dir (GPtrArray *defs, int dirfd, ImprintRepartFilter keep,
                          ImprintRepartFilter strip, const char *const *omit, void *userdata)
{
  for (guint i = 0; i < defs->len; i++)
    {
      const ImprintRepartDefinition *def = defs->pdata[i];
      g_autofree char *text = NULL;
      _cleanup_close_ int fd = -1;
      size_t len, done = 0;

      if (keep != NULL && !keep (def, userdata))
        continue;
      text = imprint_repart_definition_format (def, strip != NULL && strip (def, userdata) ? omit : NULL);
      len = strlen (text);
      fd = openat (dirfd, def->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0)
        return -errno;
      while (done < len)
        {
          ssize_t n = write (fd, text + done, len - done);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            return -errno;
          done += (size_t) n;
        }
    }
  return 0;
}
