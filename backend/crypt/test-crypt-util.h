/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers shared by the crypt tests: temporary files, running tools, a
 * cheap PBKDF, and a private swtpm in socket mode. Header-only so each
 * test stays one file. */

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <libcryptsetup.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macros.h"
#include "tpm2.h"

/* Everything a test creates lives under one directory per process, which
 * is removed at exit and also when an assertion aborts the test. */
static char *test_tmp_root;

static int
test_nftw_remove (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) remove (path);
  return 0;
}

static void
test_remove_root (void)
{
  if (test_tmp_root)
    (void) nftw (test_tmp_root, test_nftw_remove, 16, FTW_DEPTH | FTW_PHYS);
}

static void
test_fatal_signal (int sig)
{
  test_remove_root ();
  signal (sig, SIG_DFL);
  raise (sig);
}

static inline char *
test_make_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *d;

  if (!test_tmp_root)
    {
      test_tmp_root = g_dir_make_tmp ("imprint-crypt-test-XXXXXX", &error);
      g_assert_no_error (error);
      atexit (test_remove_root);
      signal (SIGABRT, test_fatal_signal);
      signal (SIGSEGV, test_fatal_signal);
      signal (SIGTERM, test_fatal_signal);
      signal (SIGINT, test_fatal_signal);
    }

  d = g_build_filename (test_tmp_root, "XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (d));
  return d;
}

static inline void
test_rm_rf (const char *path)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (!path)
    return;
  dir = g_dir_open (path, 0, NULL);
  if (!dir)
    {
      (void) g_unlink (path);
      return;
    }
  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *p = g_build_filename (path, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        test_rm_rf (p);
      else
        (void) g_unlink (p);
    }
  (void) g_rmdir (path);
}

static inline void
test_make_file (const char *path, guint64 size)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) size), ==, 0);
  close (fd);
}

static inline bool
test_have_program (const char *name)
{
  g_autofree char *p = g_find_program_in_path (name);
  if (!p)
    {
      g_autofree char *s = g_build_filename ("/usr/sbin", name, NULL);
      return g_file_test (s, G_FILE_TEST_IS_EXECUTABLE);
    }
  return true;
}

static inline int
test_spawn (const char *const *argv, char **ret_out)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *cmd = g_strjoinv (" ", (char **) argv);
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  g_test_message ("$ %s -> %d\n%s%s", cmd, status, out, err);
  if (ret_out)
    *ret_out = g_steal_pointer (&out);
  return status;
}

static inline void
test_run (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  int status = test_spawn (argv, NULL);
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);
}

static inline void
test_run_expect_fail (const char *const *argv)
{
  g_autofree char *out = NULL;
  int status = test_spawn (argv, &out);
  /* debugfs exits 0 even when it cannot open the filesystem: it must at
   * least not print the file. */
  g_assert_true (status != 0 || !strstr (out, "Imprint"));
}

static inline char *
test_run_output (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  char *out = NULL;
  int status = test_spawn (argv, &out);
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);
  return out;
}

/* Argon2id with tiny costs: the same code path as the default PBKDF,
 * without spending seconds and a GiB per keyslot in CI. */
static inline const struct crypt_pbkdf_type *
test_cheap_argon2id (void)
{
  static const struct crypt_pbkdf_type p = {
    .type = CRYPT_KDF_ARGON2ID,
    .hash = "sha256",
    .iterations = 4,
    .max_memory_kb = 32,
    .parallel_threads = 1,
    .flags = CRYPT_PBKDF_NO_BENCHMARK,
  };
  return &p;
}

/* A private swtpm, TCP socket mode on a free port pair (TPM on port, the
 * control channel on port + 1). It dies with the test process. */
typedef struct {
  GPid pid;
  char *state_dir;
  int port;
  char *tcti;
} TestSwtpm;

static inline bool
test_port_free (int port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                           .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool ok;

  g_assert_cmpint (fd, >=, 0);
  ok = bind (fd, (struct sockaddr *) &a, sizeof (a)) == 0;
  close (fd);
  return ok;
}

static inline bool
test_port_connectable (int port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                           .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool ok;

  g_assert_cmpint (fd, >=, 0);
  ok = connect (fd, (struct sockaddr *) &a, sizeof (a)) == 0;
  close (fd);
  return ok;
}

static inline void
test_child_setup (gpointer data)
{
  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static inline TestSwtpm *
test_swtpm_start (void)
{
  TestSwtpm *s;

  if (!test_have_program ("swtpm"))
    return NULL;

  s = g_new0 (TestSwtpm, 1);
  s->state_dir = test_make_tmpdir ();

  for (int attempt = 0; attempt < 20; attempt++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *server = NULL, *ctrl = NULL, *state = NULL;
      int port = g_random_int_range (20000, 60000) & ~1;

      if (!test_port_free (port) || !test_port_free (port + 1))
        continue;

      server = g_strdup_printf ("type=tcp,port=%d,bindaddr=127.0.0.1", port);
      ctrl = g_strdup_printf ("type=tcp,port=%d,bindaddr=127.0.0.1", port + 1);
      state = g_strdup_printf ("dir=%s", s->state_dir);
      const char *argv[] = {
        "swtpm", "socket", "--tpm2",
        "--server", server, "--ctrl", ctrl,
        "--flags", "not-need-init,startup-clear",
        "--tpmstate", state,
        NULL,
      };
      if (!g_spawn_async (NULL, (char **) argv, NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                          test_child_setup, NULL, &s->pid, &error))
        g_error ("cannot start swtpm: %s", error->message);

      for (int i = 0; i < 100; i++)
        {
          int status;
          if (waitpid (s->pid, &status, WNOHANG) == s->pid)
            {
              s->pid = 0;
              break;
            }
          if (test_port_connectable (port))
            {
              s->port = port;
              s->tcti = g_strdup_printf ("swtpm:host=127.0.0.1,port=%d", port);
              return s;
            }
          g_usleep (50 * 1000);
        }
      if (s->pid)
        {
          kill (s->pid, SIGKILL);
          waitpid (s->pid, NULL, 0);
          s->pid = 0;
        }
    }

  g_error ("swtpm did not come up");
}

static inline void
test_swtpm_stop (TestSwtpm *s)
{
  if (!s)
    return;
  if (s->pid > 0)
    {
      kill (s->pid, SIGTERM);
      waitpid (s->pid, NULL, 0);
    }
  test_rm_rf (s->state_dir);
  g_free (s->state_dir);
  g_free (s->tcti);
  g_free (s);
}

/* A signing key as a UKI's .pcrpkey, and signatures as its .pcrsig
 * (tpm2-pcr-signature.json, what systemd-measure/ukify write). */
static inline EVP_PKEY *
make_signing_key (char **ret_pem)
{
  EVP_PKEY *pk = EVP_RSA_gen (2048);
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long len;

  g_assert_nonnull (pk);
  g_assert_cmpint (PEM_write_bio_PUBKEY (bio, pk), ==, 1);
  len = BIO_get_mem_data (bio, &data);
  *ret_pem = g_strndup (data, (gsize) len);
  BIO_free (bio);
  return pk;
}

static inline char *
hex (const guint8 *d, gsize n)
{
  GString *s = g_string_new (NULL);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%02x", d[i]);
  return g_string_free (s, FALSE);
}

/* Signs the digest a PolicyPCR over pcr_mask's current values yields. */
static inline char *
make_signature_json (ImprintTpm2 *t, EVP_PKEY *pk, uint32_t pcr_mask)
{
  uint8_t pol[TPM2_SHA256_DIGEST_SIZE], fp[32];
  unsigned char *der = NULL, sig[512];
  size_t sig_len = sizeof (sig);
  EVP_MD_CTX *md = EVP_MD_CTX_new ();
  g_autofree char *pol_hex = NULL, *fp_hex = NULL, *sig_b64 = NULL;
  g_autoptr (GString) pcrs = g_string_new (NULL);
  int der_len;

  g_assert_cmpint (imprint_tpm2_calculate_policy (t, pcr_mask, TPM2_ALG_SHA256, false, pol), ==, 0);
  g_assert_cmpint (EVP_DigestSignInit (md, NULL, EVP_sha256 (), NULL, pk), ==, 1);
  g_assert_cmpint (EVP_DigestSign (md, sig, &sig_len, pol, sizeof (pol)), ==, 1);
  EVP_MD_CTX_free (md);

  der_len = i2d_PublicKey (pk, &der);
  g_assert_cmpint (der_len, >, 0);
  SHA256 (der, (size_t) der_len, fp);
  OPENSSL_free (der);

  for (int i = 0; i < 24; i++)
    if (pcr_mask & (1u << i))
      g_string_append_printf (pcrs, "%s%d", pcrs->len ? "," : "", i);
  pol_hex = hex (pol, sizeof (pol));
  fp_hex = hex (fp, sizeof (fp));
  sig_b64 = g_base64_encode (sig, sig_len);
  return g_strdup_printf ("{\"sha256\":[{\"pcrs\":[%s],\"pkfp\":\"%s\",\"pol\":\"%s\",\"sig\":\"%s\"}]}",
                          pcrs->str, fp_hex, pol_hex, sig_b64);
}


/* Decrypts the data segment with the volume key (aes-xts-plain64, 512-byte
 * sectors, IV = sector number) into out: proof without device-mapper that
 * the volume really holds the original data. */
static inline void
decrypt_volume (const char *image, uint64_t offset, uint64_t size,
                const void *vk, size_t vk_size, const char *out)
{
  _cleanup_close_ int in_fd = open (image, O_RDONLY | O_CLOEXEC);
  _cleanup_close_ int out_fd = open (out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  unsigned char in[512], plain[512];

  g_assert_cmpint (in_fd, >=, 0);
  g_assert_cmpint (out_fd, >=, 0);
  g_assert_cmpuint (vk_size, ==, 64);

  for (uint64_t sector = 0; sector < size / 512; sector++)
    {
      unsigned char iv[16] = { 0 };
      int len = 0;

      for (int i = 0; i < 8; i++)
        iv[i] = (unsigned char) (sector >> (8 * i));
      g_assert_cmpint (pread (in_fd, in, 512, (off_t) (offset + sector * 512)), ==, 512);
      g_assert_cmpint (EVP_DecryptInit_ex (ctx, EVP_aes_256_xts (), NULL, vk, iv), ==, 1);
      g_assert_cmpint (EVP_DecryptUpdate (ctx, plain, &len, in, 512), ==, 1);
      g_assert_cmpint (len, ==, 512);
      g_assert_cmpint (write (out_fd, plain, 512), ==, 512);
    }
  EVP_CIPHER_CTX_free (ctx);
}

/* ---- TPM2 state of the test swtpm (tss2 directly, not our code) ---- */

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

/* Extends a PCR in the SHA-256 bank with @byte repeated, the way firmware
 * would on a change of the Secure Boot state. */
static inline void
test_tpm2_extend_pcr (const char *tcti_conf, unsigned pcr, guint8 byte)
{
  TSS2_TCTI_CONTEXT *tcti = NULL;
  ESYS_CONTEXT *esys = NULL;
  TPML_DIGEST_VALUES digests = {
    .count = 1,
    .digests[0] = { .hashAlg = TPM2_ALG_SHA256 },
  };

  memset (digests.digests[0].digest.sha256, byte, TPM2_SHA256_DIGEST_SIZE);
  g_assert_cmpuint (Tss2_TctiLdr_Initialize (tcti_conf, &tcti), ==, TSS2_RC_SUCCESS);
  g_assert_cmpuint (Esys_Initialize (&esys, tcti, NULL), ==, TSS2_RC_SUCCESS);
  g_assert_cmpuint (Esys_PCR_Extend (esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                     &digests), ==, TSS2_RC_SUCCESS);
  Esys_Finalize (&esys);
  Tss2_TctiLdr_Finalize (&tcti);
}

/* Transient objects left behind would fill the TPM (no resource manager
 * in front of swtpm): count them. */
static inline guint
test_tpm2_count_transient (const char *tcti_conf)
{
  TSS2_TCTI_CONTEXT *tcti = NULL;
  ESYS_CONTEXT *esys = NULL;
  TPMS_CAPABILITY_DATA *cap = NULL, *cap2 = NULL;
  TPMI_YES_NO more;
  guint n;

  g_assert_cmpuint (Tss2_TctiLdr_Initialize (tcti_conf, &tcti), ==, TSS2_RC_SUCCESS);
  g_assert_cmpuint (Esys_Initialize (&esys, tcti, NULL), ==, TSS2_RC_SUCCESS);
  g_assert_cmpuint (Esys_GetCapability (esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                        UINT32_C (0x80000000) /* TPM2_TRANSIENT_FIRST: its macro overflows int */, 64, &more, &cap), ==, TSS2_RC_SUCCESS);
  g_assert_cmpuint (Esys_GetCapability (esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                        UINT32_C (0x02000000), 64, &more, &cap2), ==, TSS2_RC_SUCCESS);
  n = cap->data.handles.count + cap2->data.handles.count;
  Esys_Free (cap);
  Esys_Free (cap2);
  Esys_Finalize (&esys);
  Tss2_TctiLdr_Finalize (&tcti);
  return n;
}

/* systemd 252's plugin leaves sessions and objects loaded after failed
 * attempts; with no resource manager they would make later commands fail
 * for the wrong reason (TPM_RC_SESSION_MEMORY). */
static inline void
test_tpm2_flush_all_transient (const char *tcti_conf)
{
  static const TPM2_HANDLE ranges[] = { UINT32_C (0x80000000) /* TPM2_TRANSIENT_FIRST: its macro overflows int */, UINT32_C (0x02000000) };
  TSS2_TCTI_CONTEXT *tcti = NULL;
  ESYS_CONTEXT *esys = NULL;

  g_assert_cmpuint (Tss2_TctiLdr_Initialize (tcti_conf, &tcti), ==, TSS2_RC_SUCCESS);
  g_assert_cmpuint (Esys_Initialize (&esys, tcti, NULL), ==, TSS2_RC_SUCCESS);
  for (size_t r = 0; r < G_N_ELEMENTS (ranges); r++)
    {
      TPMS_CAPABILITY_DATA *cap = NULL;
      TPMI_YES_NO more;

      g_assert_cmpuint (Esys_GetCapability (esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                            ranges[r], 64, &more, &cap), ==, TSS2_RC_SUCCESS);
      for (uint32_t i = 0; i < cap->data.handles.count; i++)
        {
          ESYS_TR h = ESYS_TR_NONE;
          if (Esys_TR_FromTPMPublic (esys, cap->data.handles.handle[i], ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, &h) == TSS2_RC_SUCCESS)
            (void) Esys_FlushContext (esys, h);
        }
      Esys_Free (cap);
    }
  Esys_Finalize (&esys);
  Tss2_TctiLdr_Finalize (&tcti);
}
