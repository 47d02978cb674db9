/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

/* ntfs-3g's tools, run on an fd we hold (ntfs-probe.h). */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "imprint-error.h"
#include "imprint-names.h"
#include "loop.h"
#include "macros.h"
#include "ntfs-probe.h"

#define VOLUME_ARG "@VOLUME@"
#define VOLUME_PATH "/proc/self/fd/3"
#define PROBE_TIMEOUT_S 600

/* Fixed places only: PATH is not ours to trust in a root service. */
static char *
tool_path (const char *tool)
{
  const char *dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };

  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *p = g_build_filename (dirs[i], tool, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_EXECUTABLE) && !g_file_test (p, G_FILE_TEST_IS_DIR))
        return g_steal_pointer (&p);
    }
  return NULL;
}

/* The last "NN.NN percent" in @chunk, as 0..1; -1 when none. */
static double
last_percent (const char *chunk, gsize len)
{
  double best = -1;

  for (gsize i = 0; i + 8 <= len; i++)
    if (memcmp (chunk + i, " percent", 8) == 0)
      {
        gsize s = i;
        char num[16];

        while (s > 0 && i - s < sizeof num - 1 && (g_ascii_isdigit (chunk[s - 1]) || chunk[s - 1] == '.'))
          s--;
        if (s == i)
          continue;
        memcpy (num, chunk + s, i - s);
        num[i - s] = '\0';
        best = CLAMP (g_ascii_strtod (num, NULL) / 100.0, 0.0, 1.0);
      }
  return best;
}

typedef struct {
  GByteArray *out;
  gboolean capped;
} Capture;

/* Reads what the child writes until EOF, the deadline or cancellation
 * (the latter two only when killable). TRUE at EOF. */
static gboolean
drain (int fd, const ImprintNtfsRunOptions *o, GCancellable *cancellable, Capture *c,
       gboolean *ret_timed_out)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) o->timeout_s * G_USEC_PER_SEC;
  char buf[4096];

  for (;;)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      ssize_t n;

      if (o->killable && (g_cancellable_is_cancelled (cancellable) || g_get_monotonic_time () > deadline))
        {
          *ret_timed_out = !g_cancellable_is_cancelled (cancellable);
          return FALSE;
        }
      if (poll (&p, 1, 200) < 0 && errno != EINTR)
        return FALSE;
      if (p.revents == 0)
        continue;
      n = read (fd, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n <= 0)
        return TRUE;
      if (o->progress)
        {
          double f = last_percent (buf, (gsize) n);
          if (f >= 0)
            o->progress (f, o->progress_data);
        }
      if (c->out->len < IMPRINT_NTFS_OUTPUT_MAX)
        g_byte_array_append (c->out, (guint8 *) buf, MIN ((gsize) n, IMPRINT_NTFS_OUTPUT_MAX - c->out->len));
      if (o->killable && o->stop_after > 0 && c->out->len >= o->stop_after)
        {
          c->capped = TRUE;
          return FALSE;
        }
    }
}

/* In the child of a run that writes (after fork, before exec; only
 * async-signal-safe calls). If imprintd dies or is stopped mid-resize,
 * ntfsresize must finish rather than die half-way: its output pipe then
 * has no reader (SIGPIPE, ignored: writes just fail), and a stop of the
 * service or a Ctrl-C of imprintctl's terminal must not reach it (own
 * session; SIGTERM, SIGINT and SIGHUP ignored, all kept across exec).
 * SIGKILL still ends it. */
static void
detach_writer (gpointer unused)
{
  signal (SIGPIPE, SIG_IGN);
  signal (SIGTERM, SIG_IGN);
  signal (SIGINT, SIG_IGN);
  signal (SIGHUP, SIG_IGN);
  setsid ();
}

static GPtrArray *
make_argv (const char *path, const char *const *args)
{
  GPtrArray *argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) path);
  for (gsize i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) (g_str_equal (args[i], VOLUME_ARG) ? VOLUME_PATH : args[i]));
  g_ptr_array_add (argv, NULL);
  return argv;
}

gboolean
imprint_ntfs_run (const char *tool, const char *const *args, int volume_fd,
                  const ImprintNtfsRunOptions *o, GCancellable *cancellable,
                  char **ret_out, gsize *ret_len, int *ret_status, GError **error)
{
  const char *env[] = { "LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
  g_autofree char *path = tool_path (tool);
  g_autoptr(GPtrArray) argv = NULL;
  g_autoptr(GError) local = NULL;
  Capture c = { .out = g_byte_array_new () };
  int source_fds[1] = { volume_fd }, target_fds[1] = { 3 };
  int pipefd[2] = { -1, -1 };
  gboolean eof, timed_out = FALSE;
  GPid pid;
  int status = 0;

  g_autoptr(GByteArray) owned = c.out;
  if (path == NULL)
    return g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_UNAVAILABLE,
                        _("%s is not installed (package ntfs-3g)"), tool), FALSE;
  if (!g_unix_open_pipe (pipefd, FD_CLOEXEC, error))
    return FALSE;
  argv = make_argv (path, args);
  if (!g_spawn_async_with_pipes_and_fds (NULL, (const char *const *) argv->pdata, env,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL |
                                         (o->merge_stderr ? 0 : G_SPAWN_STDERR_TO_DEV_NULL),
                                         o->killable ? NULL : detach_writer, NULL,
                                         -1, pipefd[1], o->merge_stderr ? pipefd[1] : -1,
                                         source_fds, target_fds, 1, &pid, NULL, NULL, NULL, &local))
    {
      close (pipefd[0]);
      close (pipefd[1]);
      return g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_UNAVAILABLE, _("Cannot run %s: %s"),
                          tool, local->message), FALSE;
    }
  close (pipefd[1]);
  eof = drain (pipefd[0], o, cancellable, &c, &timed_out);
  if (!eof)
    kill (pid, SIGKILL);   /* only killable runs stop early: read-only tools */
  close (pipefd[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  g_spawn_close_pid (pid);
  if (!eof && !c.capped)
    {
      if (timed_out)
        g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("%s did not finish in %u seconds"),
                     tool, o->timeout_s);
      else
        g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED, _("Cancelled"));
      return FALSE;
    }
  g_byte_array_append (c.out, (const guint8 *) "", 1);
  if (ret_len)
    *ret_len = c.out->len - 1;
  if (ret_out)
    *ret_out = (char *) g_byte_array_free (g_steal_pointer (&owned), FALSE);
  if (ret_status)
    *ret_status = status;
  return TRUE;
}

gboolean
imprint_ntfs_probe_volume (int volume_fd, ImprintNtfsProbe *ret, GCancellable *cancellable,
                           GError **error)
{
  const char *info_args[] = { "--info", "--no-action", "--no-progress-bar", VOLUME_ARG, NULL };
  /* --force: read it even from a volume marked dirty, so both reasons
   * are known (ntfscat only reads). */
  const char *cat_args[] = { "--force", VOLUME_ARG, "hiberfil.sys", NULL };
  ImprintNtfsRunOptions info_o = { .timeout_s = PROBE_TIMEOUT_S, .killable = TRUE, .merge_stderr = TRUE };
  ImprintNtfsRunOptions cat_o = { .timeout_s = 60, .killable = TRUE, .stop_after = 4096 };
  g_autofree char *out = NULL, *head = NULL;
  gsize len = 0, head_len = 0;
  int status;

  memset (ret, 0, sizeof *ret);
  /* Without --force: a volume Windows marked for chkdsk is refused with
   * "Volume is scheduled for check", which is the fact we want. */
  if (!imprint_ntfs_run ("ntfsresize", info_args, volume_fd, &info_o, cancellable, &out, &len,
                         &status, error))
    return FALSE;
  imprint_ntfs_parse_info (out, len, &ret->info);
  if (g_spawn_check_wait_status (status, NULL) == FALSE)
    ret->info.complete = FALSE;
  /* ntfsresize reads a hibernated volume read-only without a word; only a
   * read-write mount would refuse it. The first bytes of hiberfil.sys
   * say it (an absent file prints nothing on stdout). */
  if (!imprint_ntfs_run ("ntfscat", cat_args, volume_fd, &cat_o, cancellable, &head, &head_len,
                         &status, error))
    return FALSE;
  ret->hibernated = imprint_ntfs_hiberfile_hibernated ((const guint8 *) head, head_len);
  return TRUE;
}

gboolean
imprint_ntfs_probe_region (int disk_fd, guint64 offset, guint64 size, ImprintNtfsProbe *ret,
                           GCancellable *cancellable, GError **error)
{
  _cleanup_close_ int loop_fd = -1;
  g_autofree char *node = NULL;
  int r;

  r = imprint_loop_attach (disk_fd, offset, size, TRUE, &loop_fd, &node);
  if (r < 0)
    return g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_UNAVAILABLE,
                        _("Cannot attach a loop device: %s"), g_strerror (-r)), FALSE;
  return imprint_ntfs_probe_volume (loop_fd, ret, cancellable, error);
}

GVariant *
imprint_ntfs_shrink_variant (const ImprintNtfsProbe *probe, gboolean bitlocker, guint64 part_size,
                             guint64 need)
{
  const ImprintNtfsInfo *info = probe ? &probe->info : NULL;
  ImprintNtfsRefusals r = imprint_ntfs_refusals (info, bitlocker, probe && probe->hibernated,
                                                 part_size, need);
  g_autoptr(GPtrArray) codes = g_ptr_array_new ();
  g_autoptr(GPtrArray) words = g_ptr_array_new ();
  guint64 floor = imprint_ntfs_floor_size (info);
  GVariantBuilder b;

  imprint_ntfs_refusals_describe (r, codes, words);
  g_ptr_array_add (codes, NULL);
  g_ptr_array_add (words, NULL);
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_SHRINK_POSSIBLE, g_variant_new_boolean (r == 0));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_SHRINK_USED,
                         g_variant_new_uint64 (info && info->complete ? info->used : 0));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_SHRINK_MIN_SIZE,
                         g_variant_new_uint64 (floor < part_size ? floor : 0));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_REASONS,
                         g_variant_new_strv ((const char *const *) words->pdata, -1));
  g_variant_builder_add (&b, "{sv}", "reason-codes",
                         g_variant_new_strv ((const char *const *) codes->pdata, -1));
  return g_variant_builder_end (&b);
}
