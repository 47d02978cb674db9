/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What setup starts from and leaves behind: credentials an OEM line
 * prefills, the machine ID, the setup-pending/setup-complete markers in
 * the state directory, and the administrators' group. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json-bounded.h"
#include "imprint-error.h"
#include "imprint-root-fd.h"
#include "imprint-setup.h"
#include "setup-private.h"
#include "macros.h"

/* ---- credentials --------------------------------------------------------- */

void
imprint_setup_credentials_clear (ImprintSetupCredentials *c)
{
  imprint_system_settings_clear (&c->settings);
  g_clear_pointer (&c->user_name, g_free);
  g_clear_pointer (&c->real_name, g_free);
  g_clear_pointer (&c->decided, g_ptr_array_unref);
}

const char *
imprint_setup_credentials_dir (void)
{
  const char *e = g_getenv ("CREDENTIALS_DIRECTORY");

  /* A service with ImportCredential=/LoadCredential= gets its own copy;
   * otherwise the system credentials PID 1 received (v254+ path; older
   * systems have them only in the services that import them). */
  return e != NULL && e[0] != '\0' ? e : "/run/credentials/@system";
}

static char *
read_credential (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  g_strstrip (text);
  return imprint_setup_valid_value (g_steal_pointer (&text));
}

static void
read_home_credential (const char *dir, const char *file, ImprintSetupCredentials *c)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr(JsonNode) root = imprint_json_parse_file (path, IMPRINT_JSON_MAX_BYTES, NULL);
  JsonObject *o;
  const char *user;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  o = json_node_get_object (root);
  /* homectl firstboot: the user name is the credential's suffix unless
   * the record names one. */
  user = json_object_get_string_member_with_default (o, "userName", file + strlen ("home.create."));
  if (!imprint_setup_user_name_is_valid (user))
    return;
  c->user_name = g_strdup (user);
  c->real_name = g_strdup (json_object_get_string_member_with_default (o, "realName", NULL));
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

void
imprint_setup_read_credentials (const char *dir, ImprintSetupCredentials *ret)
{
  static const struct { const char *credential; const char *key; size_t offset; } map[] = {
    { "firstboot.locale",   "locale",   G_STRUCT_OFFSET (ImprintSystemSettings, locale) },
    { "firstboot.keymap",   "keymap",   G_STRUCT_OFFSET (ImprintSystemSettings, keymap) },
    { "firstboot.timezone", "timezone", G_STRUCT_OFFSET (ImprintSystemSettings, timezone) },
    { "system.hostname",    "hostname", G_STRUCT_OFFSET (ImprintSystemSettings, hostname) },
  };
  g_autoptr(GDir) d = NULL;
  g_autoptr(GPtrArray) homes = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  ret->decided = g_ptr_array_new_with_free_func (g_free);
  if (dir == NULL)
    dir = imprint_setup_credentials_dir ();

  for (size_t i = 0; i < G_N_ELEMENTS (map); i++)
    {
      char **field = G_STRUCT_MEMBER_P (&ret->settings, map[i].offset);
      g_autofree char *v = read_credential (dir, map[i].credential);
      if (v == NULL)
        continue;
      *field = g_steal_pointer (&v);
      g_ptr_array_add (ret->decided, g_strdup (map[i].key));
    }

  d = g_dir_open (dir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, "home.create.") && name[strlen ("home.create.")] != '\0')
      g_ptr_array_add (homes, g_strdup (name));
  /* The first one in sort order, for a stable answer. */
  g_ptr_array_sort (homes, compare_strings);
  for (guint i = 0; i < homes->len && ret->user_name == NULL; i++)
    read_home_credential (dir, g_ptr_array_index (homes, i), ret);
  if (ret->user_name != NULL)
    g_ptr_array_add (ret->decided, g_strdup ("user"));
}

/* ---- markers ------------------------------------------------------------------ */

char *
imprint_setup_state_dir (const char *root)
{
  const char *e = g_getenv ("STATE_DIRECTORY");

  if ((root == NULL || root[0] == '\0' || g_str_equal (root, "/")) && e != NULL && e[0] != '\0')
    {
      /* systemd may pass several, separated by ':'; ours is the first. */
      const char *colon = strchr (e, ':');
      return colon != NULL ? g_strndup (e, colon - e) : g_strdup (e);
    }
  return g_build_filename (root == NULL || root[0] == '\0' ? "/" : root, "var/lib/imprint", NULL);
}

char *
imprint_setup_machine_id_fd (int root_fd)
{
  g_autofree char *text = NULL;

  if (imprint_root_read_file (root_fd, "etc/machine-id", 4096, 0, &text, NULL) < 0)
    return NULL;
  g_strstrip (text);
  if (strlen (text) != 32)
    return NULL;
  for (const char *c = text; *c; c++)
    if (!g_ascii_isxdigit (*c))
      return NULL;
  return g_steal_pointer (&text);
}

char *
imprint_setup_machine_id (const char *root)
{
  _cleanup_close_ int fd = -1;

  if (imprint_setup_open_root (root, &fd) < 0)
    return NULL;
  return imprint_setup_machine_id_fd (fd);
}

/* Imprint's state directory: $STATE_DIRECTORY (systemd's, trusted) for
 * the running system when set, else var/lib/imprint below @root_fd. */
static int
open_state_dir (int root_fd, bool running, bool create, int *ret_fd)
{
  const char *e = running ? g_getenv ("STATE_DIRECTORY") : NULL;

  if (e != NULL && e[0] != '\0')
    {
      const char *colon = strchr (e, ':');
      g_autofree char *dir = colon != NULL ? g_strndup (e, colon - e) : g_strdup (e);
      int fd;

      if (create && g_mkdir_with_parents (dir, 0755) < 0)
        return negative_errno ();
      fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        return negative_errno ();
      *ret_fd = fd;
      return 0;
    }
  if (create)
    return imprint_root_mkdir_p (root_fd, "var/lib/imprint", 0755, ret_fd);
  return imprint_root_openat (root_fd, "var/lib/imprint", O_RDONLY | O_DIRECTORY, 0, true, ret_fd);
}

static bool
root_exists (int root_fd, const char *path)
{
  struct stat st;
  return imprint_root_lstat (root_fd, path, &st) >= 0;
}

bool
imprint_setup_is_complete_fd (int root_fd, bool running)
{
  _cleanup_close_ int state = -1;

  if (open_state_dir (root_fd, running, false, &state) < 0)
    return false;
  return !root_exists (state, "setup-pending") && root_exists (state, "setup-complete");
}

bool
imprint_setup_is_pending_fd (int root_fd, bool running)
{
  _cleanup_close_ int state = -1;
  g_autofree char *machine_id = NULL;

  if (open_state_dir (root_fd, running, false, &state) >= 0)
    {
      if (root_exists (state, "setup-pending"))
        return true;
      if (root_exists (state, "setup-complete"))
        return false;
    }
  /* ConditionFirstBoot=: PID 1 finds /etc/machine-id missing, empty or
   * "uninitialized", and remembers that for the rest of the boot in
   * /run/systemd/first-boot (the machine ID itself is committed before
   * the boot ends, so that flag is what counts on a running system). */
  if (root_exists (root_fd, "run/systemd/first-boot"))
    return true;
  machine_id = imprint_setup_machine_id_fd (root_fd);
  return machine_id == NULL;
}

static bool
is_running_root (const char *root)
{
  return root == NULL || root[0] == '\0' || g_str_equal (root, "/");
}

bool
imprint_setup_is_pending (const char *root)
{
  _cleanup_close_ int fd = -1;

  if (imprint_setup_open_root (root, &fd) < 0)
    return false;
  return imprint_setup_is_pending_fd (fd, is_running_root (root));
}

int
imprint_setup_mark_complete_fd (int root_fd, bool running)
{
  _cleanup_close_ int state = -1;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format_iso8601 (now);
  g_autofree char *line = g_strconcat (stamp, "\n", NULL);
  int r;

  r = open_state_dir (root_fd, running, true, &state);
  if (r < 0)
    return r;
  r = imprint_root_write_file (state, "setup-complete", line, strlen (line), 0644, (uid_t) -1, (gid_t) -1, 0755);
  if (r < 0)
    return r;
  r = imprint_root_unlink (state, "setup-pending");
  if (r < 0 && r != -ENOENT)
    return r;
  return 0;
}

int
imprint_setup_mark_complete (const char *root)
{
  _cleanup_close_ int fd = -1;
  int r = imprint_setup_open_root (root, &fd);

  if (r < 0)
    return r;
  return imprint_setup_mark_complete_fd (fd, is_running_root (root));
}

static bool
group_exists (int root_fd, const char *name)
{
  g_autofree char *text = NULL;
  g_autofree char *prefix = g_strconcat (name, ":", NULL);
  g_auto(GStrv) lines = NULL;

  if (root_fd < 0)
    return getgrnam (name) != NULL;
  if (imprint_root_read_file (root_fd, "etc/group", IMPRINT_ROOT_READ_MAX, 0, &text, NULL) < 0)
    return false;
  lines = g_strsplit (text, "\n", -1);
  for (size_t i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return true;
  return false;
}

/* polkit and sudo call administrators "wheel" on most distributions and
 * "sudo" on Debian and its derivatives. @root_fd < 0: this system (NSS). */
char *
imprint_setup_admin_group_fd (int root_fd)
{
  if (group_exists (root_fd, "wheel"))
    return g_strdup ("wheel");
  if (group_exists (root_fd, "sudo"))
    return g_strdup ("sudo");
  return g_strdup ("wheel");
}

char *
imprint_setup_admin_group (const char *root)
{
  _cleanup_close_ int fd = -1;

  if (is_running_root (root))
    return imprint_setup_admin_group_fd (-1);
  if (imprint_setup_open_root (root, &fd) < 0)
    return g_strdup ("wheel");
  return imprint_setup_admin_group_fd (fd);
}
