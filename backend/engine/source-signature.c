/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The verity signature partitions of a source: their JSON (bounded: the
 * bytes are the image's), the choice of the signed usr slot to install,
 * and the PKCS#7 check against a certificate. */

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "imprint-error.h"
#include "json-bounded.h"
#include "source-private.h"

typedef struct {
  ImprintPartition part;
  char *json;
  char *root_hash;
  char *fingerprint;
  char *signature;
} ImprintSigCandidate;

static void
sig_candidate_clear (ImprintSigCandidate *c)
{
  imprint_partition_clear (&c->part);
  g_free (c->json);
  g_free (c->root_hash);
  g_free (c->fingerprint);
  g_free (c->signature);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ImprintSigCandidate, sig_candidate_clear)

/* Reads {"rootHash":"…","signature":"…"[,"certificateFingerprint":"…"]},
 * NUL-padded to the partition size. Only the first
 * IMPRINT_SIGNATURE_MAX_JSON bytes are read (real ones are a few KiB;
 * systemd-repart makes the partition 16 KiB): JSON that does not end there
 * is refused, so a hostile image costs 64 KiB, whatever its partition
 * claims. */
gboolean
imprint_signature_json_parse (const char *buf, gsize size, char **ret_json, char **ret_root_hash,
                              char **ret_signature, char **ret_fingerprint, GError **error)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) local = NULL;
  JsonObject *o;
  gsize len = strnlen (buf, size);

  if (len == size && size >= IMPRINT_SIGNATURE_MAX_JSON)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity signature partition holds more than %u bytes of JSON"),
                   IMPRINT_SIGNATURE_MAX_JSON);
      return FALSE;
    }
  /* Bounded before json-glib sees it: it recurses per nesting level. */
  o = imprint_json_parse_object (buf, (gssize) len, IMPRINT_SIGNATURE_MAX_JSON, &root, &local);
  if (o == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity signature partition does not contain valid JSON: %s"),
                   local->message);
      return FALSE;
    }
  const char *rh = imprint_json_object_get_string (o, "rootHash");
  const char *sig = imprint_json_object_get_string (o, "signature");
  if (rh == NULL || sig == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity signature partition lacks \"rootHash\" or \"signature\""));
      return FALSE;
    }
  guint8 tmp[IMPRINT_VERITY_MAX_DIGEST];
  if (strlen (rh) != 64 || imprint_verity_unhex (rh, tmp, sizeof (tmp)) != 32)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The root hash in the verity signature partition is not a SHA-256 hash in hex: \"%s\""),
                   rh);
      return FALSE;
    }
  if (ret_json)
    *ret_json = g_strndup (buf, len);
  if (ret_root_hash)
    *ret_root_hash = g_ascii_strdown (rh, -1);
  if (ret_signature)
    *ret_signature = g_strdup (sig);
  if (ret_fingerprint)
    *ret_fingerprint = g_strdup (imprint_json_object_get_string (o, "certificateFingerprint"));
  return TRUE;
}

static gboolean
read_signature (int fd, const ImprintPartition *p, ImprintSigCandidate *c, GError **error)
{
  g_autofree char *buf = NULL;
  gsize n;
  int r;

  if (p->size == 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity signature partition is empty"));
      return FALSE;
    }
  n = (gsize) MIN (p->size, (guint64) IMPRINT_SIGNATURE_MAX_JSON);
  buf = g_malloc0 (n + 1);
  r = imprint_read_exact (fd, buf, n, p->offset);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("Cannot read the verity signature partition: %s"), g_strerror (-r));
      return FALSE;
    }
  if (!imprint_signature_json_parse (buf, n, &c->json, &c->root_hash, &c->signature,
                                     &c->fingerprint, error))
    return FALSE;
  imprint_partition_copy (&c->part, p);
  return TRUE;
}

/* The signature is PKCS#7 (DER, base64) over the hex root hash, as
 * systemd-repart writes it and the kernel checks it. */
gboolean
imprint_source_signature_verify (const char *root_hash, const char *signature_b64,
                  const char *cert_path, const char *cert_pem, GError **error)
{
  g_autofree guint8 *der = NULL;
  gsize der_len = 0;
  BIO *in = NULL, *data = NULL, *certbio = NULL;
  PKCS7 *p7 = NULL;
  X509 *cert = NULL;
  STACK_OF(X509) *certs = NULL;
  X509_STORE *store = NULL;
  gboolean ok = FALSE;

  der = g_base64_decode (signature_b64, &der_len);
  in = BIO_new_mem_buf (der, (int) der_len);
  p7 = in ? d2i_PKCS7_bio (in, NULL) : NULL;
  if (p7 == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity signature is not a PKCS#7 signature"));
      goto out;
    }
  certbio = cert_pem != NULL ? BIO_new_mem_buf (cert_pem, -1) : BIO_new_file (cert_path, "r");
  cert = certbio ? PEM_read_bio_X509 (certbio, NULL, NULL, NULL) : NULL;
  if (cert == NULL)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Cannot read the certificate %s"), cert_path ? cert_path : "");
      goto out;
    }
  certs = sk_X509_new_null ();
  store = X509_STORE_new ();
  data = BIO_new_mem_buf (root_hash, (int) strlen (root_hash));
  if (certs == NULL || store == NULL || data == NULL || !sk_X509_push (certs, cert))
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, _("Out of memory"));
      goto out;
    }
  cert = NULL; /* owned by certs now */
  /* Only the given certificate may have signed; no chain to a CA here, the
   * certificate itself is the trust anchor. */
  if (PKCS7_verify (p7, certs, store, data, NULL,
                    PKCS7_NOINTERN | PKCS7_NOVERIFY | PKCS7_BINARY | PKCS7_DETACHED) != 1)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                   _("The verity signature does not verify with the certificate %s"),
                   cert_path ? cert_path : "");
      goto out;
    }
  ok = TRUE;
out:
  BIO_free (in);
  BIO_free (data);
  BIO_free (certbio);
  PKCS7_free (p7);
  X509_free (cert);
  sk_X509_pop_free (certs, X509_free);
  X509_STORE_free (store);
  return ok;
}

/* The usr partition named by the first half of @c's root hash, or NULL. */
static ImprintPartition *
find_usr_of (GPtrArray *parts, const ImprintArchTypes *arch, const ImprintSigCandidate *c)
{
  g_autofree char *usr_uuid = imprint_uuid_from_hash_half (c->root_hash, FALSE);
  ImprintPartition *usr = NULL;

  for (guint k = 0; k < parts->len; k++)
    {
      ImprintPartition *q = parts->pdata[k];
      if (g_str_equal (q->type, arch->usr) && g_str_equal (q->uuid, usr_uuid))
        usr = q;
    }
  return usr;
}

/* Why no slot was chosen, most specific first: a signature partition that
 * could not be read, no usr at all, no signature, none with the trusted
 * hash, or hashes that name no usr partition. */
static void
set_no_slot_error (GError **error, GError **sig_error, const ImprintArchTypes *arch,
                   guint nusr, guint nsig, const char *trusted_lc)
{
  if (*sig_error != NULL)
    g_propagate_error (error, g_steal_pointer (sig_error));
  else if (nusr == 0)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                 _("The source has no usr partition for %s"), arch->name);
  else if (nsig == 0)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                 _("The source has no verity signature partition for its usr partition"));
  else if (trusted_lc)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                 _("No verity signature partition of the source carries the trusted root hash %s"),
                 trusted_lc);
  else
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_SOURCE_INVALID,
                 _("The root hash in the verity signature partition does not match the usr "
                   "partition's UUID (it must be the first half of the root hash)"));
}

/* Each signature partition names its root hash, whose halves are the
 * UUIDs of its usr and usr-verity partitions: that pairs them up even
 * when the source holds two slots. */
gboolean
imprint_source_pick_signed_usr (ImprintSource *s, GPtrArray *parts, const char *trusted,
                                char **ret_signature, GError **error)
{
  const ImprintArchTypes *arch = imprint_native_arch ();
  g_autofree char *trusted_lc = trusted ? g_ascii_strdown (trusted, -1) : NULL;
  g_auto(ImprintSigCandidate) chosen = { 0 };
  g_autoptr(GError) sig_error = NULL;
  guint nsig = 0, nusr = 0;

  for (guint i = 0; i < parts->len; i++)
    {
      ImprintPartition *p = parts->pdata[i];
      g_auto(ImprintSigCandidate) c = { 0 };
      g_autoptr(GError) local = NULL;
      ImprintPartition *usr;

      if (g_str_equal (p->type, arch->usr))
        nusr++;
      if (!g_str_equal (p->type, arch->usr_verity_sig) ||
          g_strcmp0 (p->label, IMPRINT_EMPTY_LABEL) == 0)
        continue;
      nsig++;
      if (!read_signature (s->fd, p, &c, &local))
        {
          if (sig_error == NULL)
            sig_error = g_steal_pointer (&local);
          continue;
        }
      if (trusted_lc && !g_str_equal (trusted_lc, c.root_hash))
        continue;
      usr = find_usr_of (parts, arch, &c);
      if (usr == NULL)
        continue;
      /* Several complete slots: take the newest version. */
      if (chosen.json != NULL)
        {
          g_autofree char *ver = NULL, *chosen_ver = NULL;
          imprint_parse_version_label (s->usr.label, NULL, &chosen_ver);
          imprint_parse_version_label (usr->label, NULL, &ver);
          if (ver == NULL || (chosen_ver && strverscmp (ver, chosen_ver) <= 0))
            continue;
          sig_candidate_clear (&chosen);
          imprint_partition_clear (&s->usr);
        }
      chosen = c;
      memset (&c, 0, sizeof (c));
      imprint_partition_copy (&s->usr, usr);
    }

  if (chosen.json == NULL)
    {
      set_no_slot_error (error, &sig_error, arch, nusr, nsig, trusted_lc);
      return FALSE;
    }

  s->root_hash = g_steal_pointer (&chosen.root_hash);
  s->root_hash_trusted = trusted_lc != NULL;
  s->certificate_fingerprint = g_steal_pointer (&chosen.fingerprint);
  s->signature_json = g_steal_pointer (&chosen.json);
  imprint_partition_copy (&s->usr_verity_sig, &chosen.part);
  *ret_signature = g_steal_pointer (&chosen.signature);
  return TRUE;
}
