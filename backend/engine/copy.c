/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include <fcntl.h>
#include <glib/gi18n.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "buffer.h"
#include "copy.h"
#include "imprint-error.h"
#include "macros.h"

#define DEFAULT_BUFFER (8u * 1024 * 1024)
#define DEFAULT_NBUF 4u
#define ALIGN 4096
/* Holes of a sparse source shorter than this are read like data. */
#define HOLE_MIN (64u * 1024)

typedef struct {
  guint8 *buf;
  const guint8 *data; /* what to verify and write: buf, or a part of
                       * job->expect (expect_is_source) */
  size_t len;
  guint64 pos;     /* offset inside the range */
  gboolean zero;   /* reads as zeros (a hole of the source, or zeros were
                    * read): buf need not hold them */
  gboolean ready;  /* read and (when asked) verified: may be written */
} Slot;

/* The ring: the reader fills slots in order, verifier threads claim filled
 * slots in any order and mark them ready, the writer (the calling thread)
 * writes them in order. All counters only grow; slot i lives in
 * slots[i % n]. */
typedef struct {
  const ImprintCopyJob *job;
  int direct_fd;       /* the source reopened with O_DIRECT (or, for
                        * src_buffered, without readahead), or -1 */
  guint64 src_size;    /* a regular file's size (holes are looked up), else 0 */
  mode_t dst_kind;     /* S_IFREG, S_IFBLK or 0 (other, or no target) */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  Slot *slots;
  unsigned n;
  size_t bufsize;
  guint64 nslots;      /* slots in the whole range: known once the reader
                        * is through (holes make slots shorter) */
  guint64 produced;    /* filled by the reader */
  guint64 claimed;     /* taken by a verifier */
  guint64 consumed;    /* written */
  gboolean verify;
  gboolean stop;       /* a stage failed, or cancelled */
  GError *error;       /* first error, under lock */
  unsigned allocated;  /* slots whose buffer is allocated */
} Ring;

static void
ring_fail (Ring *r, GError *e)
{
  pthread_mutex_lock (&r->lock);
  if (r->error == NULL)
    r->error = e;
  else
    g_error_free (e);
  r->stop = TRUE;
  pthread_cond_broadcast (&r->cond);
  pthread_mutex_unlock (&r->lock);
}

static gboolean
all_zero (const guint8 *p, size_t n)
{
  /* Overlapping compare: p[0] is zero and every byte equals the next. */
  return n == 0 || (p[0] == 0 && memcmp (p, p + 1, n - 1) == 0);
}

/* How much of the range at @pos the next slot takes, and whether it is a
 * hole of the source (read as zeros without reading). Holes cost no I/O
 * and no hashing; data slots end where a hole starts, so the hole gets a
 * slot of its own. Only regular files have holes to ask for. */
static size_t
next_slot (Ring *r, guint64 pos, size_t want, gboolean *ret_zero)
{
  const ImprintCopyJob *job = r->job;
  guint64 at = job->src_offset + pos;
  guint64 hole_end;
  off_t d, h;

  *ret_zero = FALSE;
  if (r->src_size == 0)
    return want;

  d = lseek (job->src_fd, (off_t) at, SEEK_DATA);
  if (d < 0 && errno == ENXIO)
    hole_end = r->src_size; /* no data after @at: a hole up to the end */
  else if (d < 0)
    return want;            /* no SEEK_DATA here: read everything */
  else
    hole_end = (guint64) d;

  if (hole_end > at)
    {
      guint64 n = hole_end - at;
      if (n >= want)
        {
          *ret_zero = TRUE;
          return want;
        }
      n &= ~(guint64) (HOLE_MIN - 1);
      if (n > 0)
        {
          *ret_zero = TRUE;
          return (size_t) n;
        }
      return want;
    }

  h = lseek (job->src_fd, (off_t) at, SEEK_HOLE);
  if (h > (off_t) at)
    {
      guint64 n = ((guint64) h - at + HOLE_MIN - 1) & ~(guint64) (HOLE_MIN - 1);
      if (n < want)
        return (size_t) n;
    }
  return want;
}

/* Reads [pos + got, pos + want) of the range into the slot's buffer,
 * direct where the alignment allows. FALSE when the read failed or the
 * source ended early (the ring is failed then). */
static gboolean
read_slot (Ring *r, Slot *s, guint64 pos, size_t got, size_t want)
{
  const ImprintCopyJob *job = r->job;

  while (got < want)
    {
      guint64 at = job->src_offset + pos + got;
      gboolean direct = r->direct_fd >= 0 && at % 4096 == 0 && (want - got) % 4096 == 0;
      ssize_t k = pread (direct ? r->direct_fd : job->src_fd, s->buf + got, want - got, (off_t) at);
      if (k < 0 && errno == EINTR)
        continue;
      if (k < 0 && errno == EINVAL && direct)
        {
          /* Alignment the file system wants and did not say: buffered. */
          close (r->direct_fd);
          r->direct_fd = -1;
          continue;
        }
      if (k < 0)
        {
          int e = errno;
          ring_fail (r, g_error_new (IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                                     _("Reading the %s from the source failed: %s"),
                                     job->what, g_strerror (e)));
          return FALSE;
        }
      if (k == 0)
        {
          ring_fail (r, g_error_new (IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                                     _("The source ended %" PRIu64 " bytes into the %s: "
                                       "it is truncated"), pos + got, job->what));
          return FALSE;
        }
      got += (size_t) k;
    }
  return TRUE;
}

static void *
reader_thread (void *userdata)
{
  Ring *r = userdata;
  const ImprintCopyJob *job = r->job;
  guint64 pos = 0;

  while (pos < job->length)
    {
      Slot *s;
      size_t want = (size_t) MIN ((guint64) r->bufsize, job->length - pos);
      size_t got = 0;
      gboolean zero = FALSE, known;

      /* The known bytes end on a 4 KiB boundary, so what follows them is
       * read direct (the few bytes up to the end of @expect are read and
       * compared with it): a buffered read there would not stop at the
       * range. */
      known = job->expect_is_source && pos < (job->expect_size & ~(size_t) (ALIGN - 1));
      if (known)
        got = want = (size_t) MIN ((guint64) want, (job->expect_size & ~(size_t) (ALIGN - 1)) - pos);
      else
        want = next_slot (r, pos, want, &zero);
      if (zero)
        got = want;

      pthread_mutex_lock (&r->lock);
      while (!r->stop && r->produced - r->consumed >= r->n)
        pthread_cond_wait (&r->cond, &r->lock);
      if (r->stop)
        {
          pthread_mutex_unlock (&r->lock);
          return NULL;
        }
      s = &r->slots[r->produced % r->n];
      pthread_mutex_unlock (&r->lock);

      if (!read_slot (r, s, pos, got, want))
        return NULL;
      /* Zeros that were read (unused space of a file system image) are
       * treated like a hole: verified as zeros, zeroed on the target
       * without sending them. Data usually shows in the first bytes. */
      if (!zero && !known && all_zero (s->buf, want))
        zero = TRUE;
      s->data = known ? job->expect + pos : s->buf;
      s->len = want;
      s->pos = pos;
      s->zero = zero;
      pos += want;

      pthread_mutex_lock (&r->lock);
      s->ready = !r->verify || known;
      r->produced++;
      if (pos >= job->length)
        r->nslots = r->produced;
      pthread_cond_broadcast (&r->cond);
      pthread_mutex_unlock (&r->lock);
    }
  return NULL;
}

static gboolean
verify_slot (const ImprintCopyJob *job, const Slot *s, GError **error)
{
  if (s->data == job->expect + s->pos)
    return TRUE; /* the verified bytes themselves */
  if (job->expect && s->pos < job->expect_size)
    {
      size_t n = (size_t) MIN ((guint64) s->len, job->expect_size - s->pos);
      if (s->zero ? !all_zero (job->expect + s->pos, n) : memcmp (s->data, job->expect + s->pos, n) != 0)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                       _("The %s changed while it was copied: it no longer matches what was verified"),
                       job->what);
          return FALSE;
        }
    }
  if (job->verify_tree && s->zero)
    return imprint_verity_tree_verify_zero (job->verify_tree, s->pos, s->len, error);
  if (job->verify_tree &&
      !imprint_verity_tree_verify_data (job->verify_tree, s->pos, s->data, s->len, error))
    return FALSE;
  return TRUE;
}

/* Hashing is the expensive part: one verifier per CPU, each on its own
 * buffer. */
static void *
verifier_thread (void *userdata)
{
  Ring *r = userdata;

  for (;;)
    {
      GError *e = NULL;
      Slot *s;

      pthread_mutex_lock (&r->lock);
      while (!r->stop && r->claimed == r->produced && r->claimed < r->nslots)
        pthread_cond_wait (&r->cond, &r->lock);
      if (r->stop || r->claimed >= r->nslots)
        {
          pthread_mutex_unlock (&r->lock);
          return NULL;
        }
      s = &r->slots[r->claimed % r->n];
      r->claimed++;
      pthread_mutex_unlock (&r->lock);

      if (!verify_slot (r->job, s, &e))
        {
          ring_fail (r, e);
          return NULL;
        }

      pthread_mutex_lock (&r->lock);
      s->ready = TRUE;
      pthread_cond_broadcast (&r->cond);
      pthread_mutex_unlock (&r->lock);
    }
}

static GError *
write_error (const ImprintCopyJob *job, int err, guint64 at)
{
  if (err == ENOSPC || err == EFBIG || err == 0)
    return g_error_new (IMPRINT_ERROR, IMPRINT_ERROR_NO_SPACE,
                        _("The target ran out of space after %" PRIu64 " bytes of the %s"),
                        at, job->what);
  return g_error_new (IMPRINT_ERROR, imprint_error_from_errno (-err),
                      _("Writing the %s to the target failed after %" PRIu64 " bytes: %s"),
                      job->what, at, g_strerror (err));
}

static int
write_all (int fd, const guint8 *p, size_t len, guint64 off, size_t *ret_written)
{
  size_t done = 0;

  while (done < len)
    {
      ssize_t k = pwrite (fd, p + done, len - done, (off_t) (off + done));
      if (k < 0 && errno == EINTR)
        continue;
      if (k < 0 && errno == EINVAL && (fcntl (fd, F_GETFL) & O_DIRECT))
        {
          /* The device refused direct I/O for this request (alignment it
           * did not announce): carry on buffered. */
          int fl = fcntl (fd, F_GETFL);
          if (fcntl (fd, F_SETFL, fl & ~O_DIRECT) < 0)
            return -EINVAL;
          continue;
        }
      if (k < 0)
        {
          *ret_written = done;
          return -errno;
        }
      if (k == 0)
        {
          /* A short write means the end of the device or file system. */
          *ret_written = done;
          return -ENOSPC;
        }
      done += (size_t) k;
    }
  *ret_written = done;
  return 0;
}

/* A hole of the source becomes zeros on the target: a hole punched into
 * an image file, zeroed blocks on a disk (the device may do it without
 * transferring data), else written zeros. */
static int
write_zeros (Ring *r, Slot *s, guint64 off, size_t *ret_written)
{
  int fd = r->job->dst_fd;

  if (r->dst_kind == S_IFREG &&
      fallocate (fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t) off, (off_t) s->len) == 0)
    goto done;
  if (r->dst_kind == S_IFBLK &&
      fallocate (fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t) off, (off_t) s->len) == 0)
    goto done;
  memset (s->buf, 0, s->len);
  return write_all (fd, s->buf, s->len, off, ret_written);

done:
  *ret_written = s->len;
  return 0;
}

/* Sizes the ring (buffer size, number of buffers: enough that every
 * verifier has one while the reader and the writer have theirs) and
 * allocates its buffers; r->allocated counts those to free. */
static gboolean
ring_init (Ring *r, const ImprintCopyJob *job, unsigned nverifiers, GError **error)
{
  guint64 full_slots;

  r->job = job;
  r->direct_fd = -1;
  r->verify = job->verify_tree != NULL || job->expect != NULL;
  r->bufsize = job->buffer_size ? job->buffer_size : DEFAULT_BUFFER;
  r->bufsize = (r->bufsize + 65535) & ~(size_t) 65535;
  r->nslots = job->length == 0 ? 0 : G_MAXUINT64;
  full_slots = (job->length + r->bufsize - 1) / r->bufsize;
  r->n = job->n_buffers ? job->n_buffers : DEFAULT_NBUF;
  if (r->verify)
    r->n = MAX (r->n, nverifiers + 2);
  r->n = (unsigned) MIN ((guint64) r->n, MAX (full_slots, 1));
  pthread_mutex_init (&r->lock, NULL);
  pthread_cond_init (&r->cond, NULL);
  r->slots = g_new0 (Slot, r->n);
  for (; r->allocated < r->n; r->allocated++)
    if ((r->slots[r->allocated].buf = imprint_buffer_alloc (r->bufsize)) == NULL)
      {
        g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("Out of memory"));
        return FALSE;
      }
  return TRUE;
}

static void
ring_clear (Ring *r)
{
  if (r->direct_fd >= 0)
    close (r->direct_fd);
  for (unsigned i = 0; i < r->allocated; i++)
    imprint_buffer_free (r->slots[i].buf, r->bufsize);
  g_free (r->slots);
  g_clear_error (&r->error);
  pthread_mutex_destroy (&r->lock);
  pthread_cond_destroy (&r->cond);
}

/* What the reader needs to know about source and target, and the source
 * reopened for direct I/O: a live system has little memory to spare for
 * gigabytes read once, and it saves a copy. Where direct I/O is refused
 * (tmpfs), the buffered fd does it. */
static void
ring_open_source (Ring *r)
{
  const ImprintCopyJob *job = r->job;
  g_autofree char *self = g_strdup_printf ("/proc/self/fd/%d", job->src_fd);
  struct stat st;

  posix_fadvise (job->src_fd, (off_t) job->src_offset, (off_t) job->length, POSIX_FADV_SEQUENTIAL);
  if (fstat (job->src_fd, &st) == 0 && S_ISREG (st.st_mode))
    r->src_size = (guint64) st.st_size;
  if (job->dst_fd >= 0 && fstat (job->dst_fd, &st) == 0)
    r->dst_kind = st.st_mode & S_IFMT;
  if (!job->src_buffered)
    r->direct_fd = open (self, O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOCTTY);
  else if ((r->direct_fd = open (self, O_RDONLY | O_CLOEXEC | O_NOCTTY)) >= 0)
    /* Through the cache, but only the range: readahead past its end
     * would read the next partition from the device ahead of a direct
     * copy of it, which then reads it again. The slots are large enough
     * without it. Its own open file, so its own readahead state. */
    posix_fadvise (r->direct_fd, 0, 0, POSIX_FADV_RANDOM);
}

/* The writer: the calling thread, in order, until the range is written,
 * a stage failed or the copy is cancelled. */
static void
write_slots (Ring *r, ImprintProgress *progress)
{
  const ImprintCopyJob *job = r->job;

  for (;;)
    {
      Slot *s;
      size_t written = 0;
      int k;

      pthread_mutex_lock (&r->lock);
      while (!r->stop && r->consumed < r->nslots &&
             !(r->consumed < r->produced && r->slots[r->consumed % r->n].ready))
        pthread_cond_wait (&r->cond, &r->lock);
      if (r->stop || r->consumed >= r->nslots)
        {
          pthread_mutex_unlock (&r->lock);
          break;
        }
      s = &r->slots[r->consumed % r->n];
      pthread_mutex_unlock (&r->lock);

      if (g_cancellable_is_cancelled (progress ? progress->cancellable : NULL))
        {
          ring_fail (r, g_error_new (IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED,
                                     _("The operation was cancelled")));
          break;
        }

      if (job->dst_fd >= 0 && s->zero)
        k = write_zeros (r, s, job->dst_offset + s->pos, &written);
      else if (job->dst_fd >= 0)
        k = write_all (job->dst_fd, s->data, s->len, job->dst_offset + s->pos, &written);
      else
        k = 0, written = s->len;
      if (progress)
        progress->done += written;
      if (k < 0)
        {
          ring_fail (r, write_error (job, -k, s->pos + written));
          break;
        }
      imprint_progress_report (progress);

      pthread_mutex_lock (&r->lock);
      s->ready = FALSE;
      r->consumed++;
      pthread_cond_broadcast (&r->cond);
      pthread_mutex_unlock (&r->lock);
    }
}

/* The outcome once every thread is joined: the first error of any stage,
 * a range the tree did not cover completely, or the target's flush. */
static gboolean
ring_result (Ring *r, GError **error)
{
  const ImprintCopyJob *job = r->job;

  if (r->error)
    {
      g_propagate_error (error, g_steal_pointer (&r->error));
      return FALSE;
    }
  if (job->verify_tree && !imprint_verity_tree_complete (job->verify_tree))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The %s was not completely covered by its verity tree"), job->what);
      return FALSE;
    }
  if (job->dst_fd >= 0 && fdatasync (job->dst_fd) < 0 && errno != EINVAL) /* EINVAL: nothing to flush */
    {
      g_propagate_error (error, write_error (job, errno, job->length));
      return FALSE;
    }
  return TRUE;
}

gboolean
imprint_copy (const ImprintCopyJob *job, ImprintProgress *progress, GError **error)
{
  Ring r = { 0 };
  pthread_t reader, verifiers[4];
  unsigned nverifiers = 0;
  gboolean ok = FALSE;
  int e;

  if (job->verify_tree != NULL || job->expect != NULL)
    nverifiers = CLAMP (g_get_num_processors (), 1u, G_N_ELEMENTS (verifiers));
  if (!ring_init (&r, job, nverifiers, error))
    goto out;
  if (job->length == 0)
    {
      ok = TRUE;
      goto out;
    }
  ring_open_source (&r);

  e = pthread_create (&reader, NULL, reader_thread, &r);
  if (e != 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("Cannot start a thread: %s"),
                   g_strerror (e));
      goto out;
    }
  for (unsigned i = 0; i < nverifiers; i++)
    {
      e = pthread_create (&verifiers[i], NULL, verifier_thread, &r);
      if (e != 0)
        {
          if (i == 0)
            ring_fail (&r, g_error_new (IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                                        _("Cannot start a thread: %s"), g_strerror (e)));
          nverifiers = i;
          break;
        }
    }

  write_slots (&r, progress);

  /* Wake everyone (normal end or failure) and collect them. */
  pthread_mutex_lock (&r.lock);
  if (r.consumed < r.nslots)
    r.stop = TRUE;
  pthread_cond_broadcast (&r.cond);
  pthread_mutex_unlock (&r.lock);
  pthread_join (reader, NULL);
  for (unsigned i = 0; i < nverifiers; i++)
    pthread_join (verifiers[i], NULL);
  ok = ring_result (&r, error);

out:
  ring_clear (&r);
  return ok;
}
