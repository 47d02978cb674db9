/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imprint-error.h"
#include "imprint-fido2.h"
#include "imprint-request.h"
#include "imprintd-methods.h"
#include "definitions-snapshot.h"
#include "install.h"
#include "install-root.h"
#include "recovery-key.h"
#include "macros.h"
#include "safe-open.h"

/* InspectSource, PlanInstall and Install: the engine (backend/engine) does
 * the partitioning and the verified copy (install.h) and the LUKS2 root
 * with its unlock methods (install-root.h); this file checks what the
 * caller asked for and opens what it named, as the caller. */

/* Cap for what a caller's files may make us read. */
#define CERTIFICATE_MAX   (64 * 1024)

/* The repart.d definitions a caller named, copied into a private
 * directory of ours (definitions-snapshot.h): the directory opened as the
 * caller here, each *.conf in it as the caller there. */
static char *
snapshot_definitions (ImprintdMethodCall *call, const char *dir, GError **error)
{
  g_auto(SafeCreds) creds = { 0 };
  _cleanup_close_ int dfd = -1;
  int r;

  dfd = imprintd_open_as_caller (call, dir, O_RDONLY | O_DIRECTORY, SAFE_TYPE_DIR, FALSE, error);
  if (dfd < 0)
    return NULL;
  r = safe_creds_for_uid (call->uid, &creds);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Cannot read the directory “%s”: %s"), dir, g_strerror (-r));
      return NULL;
    }
  return imprint_definitions_snapshot (dfd, &creds, dir, error);
}

/* What the read-only verbs look at. */
typedef struct {
  ImprintdCallerFile source;
  char *certificate_pem;
  char *definitions;  /* snapshot, removed at the end */
} LookData;

static void
look_data_clear (LookData *l)
{
  imprintd_caller_file_clear (&l->source);
  g_free (l->certificate_pem);
  imprint_definitions_snapshot_remove (g_steal_pointer (&l->definitions));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LookData, look_data_clear)

/* InspectSource and PlanInstall only look, and an active user may call
 * them without a password: a source the caller cannot read itself is
 * refused, disks included (their contents are not the caller's to read).
 * Install is authorised by polkit and may read a disk as the source. */
static ImprintSource *
open_source (ImprintdMethodCall *call, const char *path, const ImprintInstallRequest *req, gboolean admin,
             LookData *look, GError **error)
{
  ImprintSourceOptions sopts = { .trusted_root_hash = req->root_hash };
  const char *cert = req->certificate;

  if (cert != NULL && *cert != '\0')
    {
      look->certificate_pem = imprintd_read_caller_text (call, cert, CERTIFICATE_MAX, error);
      if (look->certificate_pem == NULL)
        return NULL;
      sopts.certificate_path = cert;
      sopts.certificate_pem = look->certificate_pem;
    }

  /* "" is the running system: the disk behind /usr, anchored by the
   * usrhash= the kernel already verified. */
  if (path == NULL || *path == '\0')
    return imprint_source_inspect_running (error);
  if (!imprintd_open_caller_file (call, path, O_RDONLY, admin, TRUE, &look->source, error))
    return NULL;
  return imprint_source_inspect_fd (TAKE_FD (look->source.fd), look->source.io_path,
                                    look->source.display, &sopts, error);
}

static GVariant *
partition_to_variant (const char *what, const ImprintPartition *p)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "role", g_variant_new_string (what));
  g_variant_builder_add (&b, "{sv}", "number", g_variant_new_uint32 (p->partno + 1));
  g_variant_builder_add (&b, "{sv}", "type", g_variant_new_string (p->type ? p->type : ""));
  g_variant_builder_add (&b, "{sv}", "uuid", g_variant_new_string (p->uuid ? p->uuid : ""));
  g_variant_builder_add (&b, "{sv}", "label", g_variant_new_string (p->label ? p->label : ""));
  g_variant_builder_add (&b, "{sv}", "start", g_variant_new_uint64 (p->offset));
  g_variant_builder_add (&b, "{sv}", "size", g_variant_new_uint64 (p->size));
  return g_variant_builder_end (&b);
}

static GVariant *
source_to_variant (const ImprintSource *s)
{
  GVariantBuilder b, parts;
  guint64 size = s->esp.size + s->usr.size + s->usr_verity.size + s->usr_verity_sig.size;

  g_variant_builder_init (&parts, G_VARIANT_TYPE ("aa{sv}"));
  if (s->esp.size > 0)
    g_variant_builder_add_value (&parts, partition_to_variant ("esp", &s->esp));
  g_variant_builder_add_value (&parts, partition_to_variant ("usr", &s->usr));
  g_variant_builder_add_value (&parts, partition_to_variant ("usr-verity", &s->usr_verity));
  g_variant_builder_add_value (&parts, partition_to_variant ("usr-verity-sig", &s->usr_verity_sig));

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "device", g_variant_new_string (s->display ? s->display : s->path));
  g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string (s->name ? s->name : ""));
  g_variant_builder_add (&b, "{sv}", "version", g_variant_new_string (s->version ? s->version : ""));
#if defined(__x86_64__)
  g_variant_builder_add (&b, "{sv}", "architecture", g_variant_new_string ("x86-64"));
#elif defined(__aarch64__)
  g_variant_builder_add (&b, "{sv}", "architecture", g_variant_new_string ("arm64"));
#endif
  g_variant_builder_add (&b, "{sv}", "usr-roothash", g_variant_new_string (s->root_hash));
  g_variant_builder_add (&b, "{sv}", "root-hash-trusted", g_variant_new_boolean (s->root_hash_trusted));
  g_variant_builder_add (&b, "{sv}", "size", g_variant_new_uint64 (size));
  g_variant_builder_add (&b, "{sv}", "partitions", g_variant_builder_end (&parts));
  return g_variant_builder_end (&b);
}

GVariant *
imprintd_method_inspect_source (ImprintdMethodCall *call, GError **error)
{
  const char *path;
  g_auto(ImprintInstallRequest) req;
  g_auto(LookData) look = { .source.fd = -1 };
  g_autoptr(ImprintSource) source = NULL;

  g_variant_get_child (call->parameters, 0, "&s", &path);
  imprint_install_request_init (&req);
  if (!imprint_install_request_from_variant (call->options, &req, error))
    return NULL;
  source = open_source (call, path, &req, FALSE, &look, error);
  if (source == NULL)
    return NULL;
  return g_variant_new ("(@a{sv})", source_to_variant (source));
}

/* The plan part of a PlanInstall or Install request. The strings point
 * into @req. */
static void
plan_options_from_request (const ImprintInstallRequest *req, ImprintPlanOptions *ret)
{
  *ret = (ImprintPlanOptions) {
    .mode = req->mode == IMPRINT_REQUEST_MODE_FREE_SPACE ? IMPRINT_INSTALL_MODE_FREE_SPACE
                                                         : IMPRINT_INSTALL_MODE_ERASE,
    .defer_data_partitions = imprint_opt_bool (req->defer_data_partitions, FALSE),
    .definitions_dir = req->definitions,
    /* A number, looked up in the table of the disk the job locked: the
     * caller never names the partition's device. Range checked there. */
    .shrink_partition = req->shrink_partition <= G_MAXINT32 ? (guint) req->shrink_partition : G_MAXUINT,
    .shrink_size = req->shrink_size,
  };
}

static gboolean
check_target_given (const char *target, GError **error)
{
  if (target == NULL || *target == '\0')
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("No target disk was given."));
      return FALSE;
    }
  return TRUE;
}

/* The plan, and for the running system whether this session could move
 * onto the target after the install (handover.h), or why not. */
static GVariant *
plan_reply (ImprintPlan *plan, ImprintSource *source, const char *target)
{
  g_autoptr(GVariant) v = g_variant_ref_sink (imprint_plan_to_variant (plan, source));
  ImprintHandoverProbe probe = { 0 };
  GVariantBuilder b;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (!source->is_running)
    return g_steal_pointer (&v);
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, v);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_variant_builder_add (&b, "{sv}", key, value);
      g_variant_unref (value);
    }
  if (!plan->target_is_block)
    {
      g_variant_builder_add (&b, "{sv}", "handover-possible", g_variant_new_boolean (FALSE));
      g_variant_builder_add (&b, "{sv}", "handover-reason",
                             g_variant_new_string (_("The target is an image file, not a disk this session could run from.")));
    }
  else if (imprint_handover_probe (target, &probe, NULL))
    {
      g_variant_builder_add (&b, "{sv}", "handover-possible", g_variant_new_boolean (probe.possible));
      if (probe.reason != NULL)
        g_variant_builder_add (&b, "{sv}", "handover-reason", g_variant_new_string (probe.reason));
    }
  imprint_handover_probe_clear (&probe);
  return g_variant_builder_end (&b);
}

GVariant *
imprintd_method_plan_install (ImprintdMethodCall *call, GError **error)
{
  const char *source_path, *target;
  g_auto(ImprintInstallRequest) req;
  ImprintPlanOptions popts;
  g_auto(LookData) look = { .source.fd = -1 };
  g_auto(ImprintdCallerFile) tfile = { .fd = -1 };
  g_autoptr(ImprintSource) source = NULL;
  g_autoptr(ImprintPlan) plan = NULL;

  g_variant_get_child (call->parameters, 0, "&s", &source_path);
  g_variant_get_child (call->parameters, 1, "&s", &target);

  imprint_install_request_init (&req);
  if (!imprint_install_request_from_variant (call->options, &req, error) || !check_target_given (target, error))
    return NULL;
  plan_options_from_request (&req, &popts);
  /* Read-only, as the caller; a disk the caller cannot open itself is
   * looked at by us (size and partition table, which ListDisks shows
   * anyway), never written. An image file stays open: the engine reaches
   * it through /proc/PID/fd/N. */
  if (!imprintd_open_caller_file (call, target, O_RDONLY, TRUE, FALSE, &tfile, error))
    return NULL;
  /* Planning a shrink runs ntfs-3g as root on the partition. PlanInstall
   * needs no password: an image file (its fd stays open; a disk's is
   * closed) would be the caller's own bytes for ntfs-3g to parse, so only
   * root plans shrinks of image files (Install, authorised by an
   * administrator, may). */
  if (popts.shrink_partition != 0 && call->uid != 0 && tfile.fd >= 0)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                           _("Planning to shrink Windows is only offered for disks."));
      return NULL;
    }
  if (popts.definitions_dir != NULL)
    {
      look.definitions = snapshot_definitions (call, popts.definitions_dir, error);
      if (look.definitions == NULL)
        return NULL;
      popts.definitions_display = req.definitions;
      popts.definitions_dir = look.definitions;
    }
  popts.target_display = target;
  source = open_source (call, source_path, &req, FALSE, &look, error);
  if (source == NULL)
    return NULL;
  plan = imprint_plan_compute (source, tfile.io_path, &popts, error);
  if (plan == NULL)
    return NULL;
  return g_variant_new ("(@a{sv})", plan_reply (plan, source, tfile.io_path));
}

/* ---- Install ------------------------------------------------------------ */

/* The work is imprint_install_run() (backend/engine/install.h), the root's
 * encryption imprint_root_encrypt() (install-root.h) inside it; the job
 * owns the request. */
typedef struct {
  char *source;                  /* "" the running system */
  ImprintdCallerFile source_file;        /* else opened as the caller */
  char *target;
  ImprintdCallerFile target_file;
  ImprintPlanOptions plan_options;
  char *definitions_dir;
  char *definitions_display;    /* the caller's name for it */
  char *root_hash;
  char *certificate;
  char *certificate_pem;
  char *locale;
  gboolean no_boot_entry;
  gboolean verify_first;
  gboolean handover;             /* the live session moves onto the disk */
  ImprintReport handover_report; /* the job's, scaled to the handover's share */
  double handover_start;         /* where its share of the bar begins */

  /* Unlock methods. Secrets live in secret memory (secret.h), wiped
   * when the job ends. */
  gboolean encrypt;
  ImprintRootEncryption enc;
  ImprintReport enc_report;      /* the job's, scaled to the encryption's share */

  ImprintTargetLock *lock;       /* the target, for the whole job */
  ImprintdJob *job;              /* not owned: the job owns us */
  double copy_weight;            /* share of the progress bar the copy gets */
} InstallData;

static void
install_data_free (InstallData *d)
{
  imprint_root_encryption_clear (&d->enc);
  imprint_target_lock_free (d->lock);
  g_free (d->source);
  g_free (d->target);
  imprintd_caller_file_clear (&d->source_file);
  imprintd_caller_file_clear (&d->target_file);
  imprint_definitions_snapshot_remove (g_steal_pointer (&d->definitions_dir));
  g_free (d->definitions_display);
  g_free (d->certificate_pem);
  g_free (d->root_hash);
  g_free (d->certificate);
  g_free (d->locale);
  g_free (d);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (InstallData, install_data_free)

static void
on_engine_progress (const char *step, guint64 done, guint64 total, gpointer user_data)
{
  InstallData *d = user_data;

  if (step != NULL)
    imprintd_job_set_step (d->job, step);
  if (total > 0)
    {
      /* Bytes give the rate and time left; the bar also leaves room for
       * the encryption that follows the copy. */
      imprintd_job_set_bytes (d->job, done, total);
      imprintd_job_set_progress (d->job, d->copy_weight * ((double) done / (double) total));
    }
}

static void
on_encryption_progress (double fraction, void *userdata)
{
  InstallData *d = userdata;

  double end = d->handover ? d->handover_start : 1.0;

  imprintd_job_set_progress (d->job, d->copy_weight + (end - d->copy_weight) * CLAMP (fraction, 0.0, 1.0));
}

static void
on_encryption_step (const char *text, void *userdata)
{
  InstallData *d = userdata;

  imprintd_job_set_step (d->job, text);
}

static void
on_encryption_log (const char *text, void *userdata)
{
  InstallData *d = userdata;

  imprintd_job_log (d->job, "%s", text);
}

static void
on_handover_progress (double fraction, void *userdata)
{
  InstallData *d = userdata;

  imprintd_job_set_progress (d->job, d->handover_start + (1.0 - d->handover_start) * CLAMP (fraction, 0.0, 1.0));
}

/* The Install result's "handover" (data/dev.imprint.Imprint1.xml). */
static GVariant *
handover_to_variant (const ImprintInstallRun *run)
{
  const ImprintHandoverResult *r = &run->handover_result;
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "root-moved", g_variant_new_boolean (r->root_moved));
  g_variant_builder_add (&b, "{sv}", "usr-moved", g_variant_new_boolean (r->usr_moved));
  g_variant_builder_add (&b, "{sv}", "boot-moved", g_variant_new_boolean (r->boot_moved));
  g_variant_builder_add (&b, "{sv}", "medium-released", g_variant_new_boolean (r->medium_released));
  g_variant_builder_add (&b, "{sv}", "root-bytes", g_variant_new_uint64 (r->root_bytes));
  g_variant_builder_add (&b, "{sv}", "seconds", g_variant_new_double (r->replace_seconds));
  if (r->root_mapper != NULL)
    g_variant_builder_add (&b, "{sv}", "root-device", g_variant_new_string (r->root_mapper));
  if (r->remaining != NULL)
    g_variant_builder_add (&b, "{sv}", "remaining", g_variant_new_string (r->remaining));
  if (run->handover_error != NULL)
    g_variant_builder_add (&b, "{sv}", "error", g_variant_new_string (run->handover_error));
  return g_variant_builder_end (&b);
}

static GVariant *
install_result (ImprintSource *source, ImprintPlan *plan, const char *luks_uuid, const ImprintInstallRun *run)
{
  GVariantBuilder result;

  g_variant_builder_init (&result, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&result, "{sv}", "plan", imprint_plan_to_variant (plan, source));
  g_variant_builder_add (&result, "{sv}", "source", source_to_variant (source));
  if (luks_uuid != NULL)
    g_variant_builder_add (&result, "{sv}", "luks-uuid", g_variant_new_string (luks_uuid));
  if (run->handover)
    g_variant_builder_add (&result, "{sv}", "handover", handover_to_variant (run));
  return g_variant_builder_end (&result);
}

static gboolean
install_thread (ImprintdJob *job, GCancellable *cancellable, gpointer user_data, GError **error)
{
  InstallData *d = user_data;
  ImprintInstallRun run = {
    .source_fd = -1, .target = d->target_file.io_path, .lock = d->lock,
    .source_options = { .trusted_root_hash = d->root_hash, .certificate_path = d->certificate,
                        .certificate_pem = d->certificate_pem },
    .check_esp_uki = d->certificate != NULL || d->root_hash != NULL,
    .options = { .plan = d->plan_options, .progress = on_engine_progress, .progress_data = d,
                 .cancellable = cancellable, .no_boot_entry = d->no_boot_entry,
                 .verify_source_first = d->verify_first },
    .handover = d->handover,
  };
  g_autoptr(ImprintSource) source = NULL;
  g_autoptr(ImprintPlan) plan = NULL;
  ImprintReport report;
  locale_t locale = (locale_t) 0;
  gboolean ok;

  d->job = job;
  if (d->locale != NULL)
    {
      locale = newlocale (LC_ALL_MASK, d->locale, (locale_t) 0);
      if (locale != (locale_t) 0)
        uselocale (locale);
    }
  if (d->source[0] != '\0')
    {
      run.source_fd = TAKE_FD (d->source_file.fd);
      run.source_io_path = d->source_file.io_path;
      run.source_display = d->source_file.display;
    }
  d->copy_weight = 1.0;
  if (d->encrypt && !d->plan_options.defer_data_partitions)
    {
      /* The handover's replace copies the session's root: about as long
       * as the copy of a small /usr, so it gets a real share. */
      d->copy_weight = d->handover ? 0.6 : 0.85;
      d->enc_report = (ImprintReport) { .step = on_encryption_step, .progress = on_encryption_progress,
                                        .log = on_encryption_log, .userdata = d };
      d->enc.report = &d->enc_report;
      d->enc.fido2_prompt = imprintd_fido2_prompt;
      d->enc.fido2_prompt_data = job;
      run.options.encryption = &d->enc;
    }

  if (d->handover)
    {
      d->handover_start = d->copy_weight + (1.0 - d->copy_weight) / 4;
      d->handover_report = (ImprintReport) { .step = on_encryption_step, .progress = on_handover_progress,
                                             .log = on_encryption_log, .userdata = d };
      run.handover_report = &d->handover_report;
    }

  imprintd_job_report (job, &report);
  ok = imprint_install_run (&run, &report, &source, &plan, error);
  if (ok)
    {
      imprintd_job_set_result (job, install_result (source, plan, d->enc.luks_uuid, &run));
      imprintd_job_set_step (job, run.handover_result.root_moved ? _("The system is installed; this session runs from it")
                                                                 : _("The system is installed"));
    }
  imprint_install_run_clear (&run);
  g_clear_pointer (&d->lock, imprint_target_lock_free);
  if (locale != (locale_t) 0)
    {
      uselocale (LC_GLOBAL_LOCALE);
      freelocale (locale);
    }
  return ok;
}

/* Secrets move from the request (secret memory both) into the job's data. */
static gboolean
parse_encryption (ImprintInstallRequest *req, guint32 uid, InstallData *d, GError **error)
{
  const char *s;

  d->encrypt = imprint_opt_bool (req->encrypt, TRUE);
  d->enc.tpm2 = (req->encryption & IMPRINT_UNLOCK_TPM2) != 0;
  d->enc.fido2 = (req->encryption & IMPRINT_UNLOCK_FIDO2) != 0;
  d->enc.recovery_key = g_steal_pointer (&req->recovery_key);
  d->enc.passphrase = g_steal_pointer (&req->passphrase);
  d->enc.tpm2_pin = g_steal_pointer (&req->tpm2_pin);
  if (req->tpm2_device != NULL && *req->tpm2_device)
    {
      if (!imprintd_check_tpm2_device (req->tpm2_device, uid, error))
        return FALSE;
      d->enc.tpm2_device = g_strdup (req->tpm2_device);
    }
  d->enc.tpm2_device_flags = imprintd_tpm2_device_flags (uid);
  s = req->tpm2_pcrs;
  if (s != NULL && *s && imprint_tpm2_parse_pcr_list (s, &d->enc.tpm2_pcr_mask) < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a list of PCRs."), s);
      return FALSE;
    }
  if (req->fido2_device != NULL && *req->fido2_device &&
      !imprintd_check_fido2_device (req->fido2_device, uid, &d->enc.fido2_device, error))
    return FALSE;
  /* Absent: the key the source's UKI ships; "": none; else a PEM file of
   * the caller's, read when the call came in. */
  d->enc.tpm2_pubkey_auto = req->tpm2_public_key == NULL;

  if (!d->encrypt || d->plan_options.defer_data_partitions)
    return TRUE;

  /* Every encrypted disk gets a recovery key: a lost TPM (new main board,
   * firmware update) must never mean lost data. */
  if (d->enc.recovery_key == NULL || !imprint_recovery_key_is_valid (d->enc.recovery_key))
    {
      _cleanup_secret_ char *normalized = NULL;

      if (d->enc.recovery_key == NULL || imprint_recovery_key_normalize (d->enc.recovery_key, &normalized) < 0)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                               _("A valid recovery key is required (see GenerateRecoveryKey)."));
          return FALSE;
        }
      imprint_secret_free (d->enc.recovery_key);
      d->enc.recovery_key = imprint_secret_strdup (normalized);
      if (d->enc.recovery_key == NULL)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, g_strerror (ENOMEM));
          return FALSE;
        }
    }
  if (!d->enc.tpm2 && !d->enc.fido2 && d->enc.passphrase == NULL)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("Choose how the disk is unlocked at boot: TPM2, a security key or a passphrase."));
      return FALSE;
    }
  return TRUE;
}

/* Every path the caller named is opened now, as the caller, and only the
 * fds (or a disk's /dev node) are used from here on. Install is
 * authorised by polkit: a disk the caller reached but may not open itself
 * is opened by us, as source or target. An image file target is opened
 * read-write as the caller: no file the caller may not write. Files the
 * caller names (certificate, TPM2 public key, definitions) are read now,
 * as the caller. */
static gboolean
open_caller_files (ImprintdMethodCall *call, const ImprintInstallRequest *req, InstallData *d, GError **error)
{
  if (!imprintd_open_caller_file (call, d->target, O_RDWR, TRUE, FALSE, &d->target_file, error) ||
      (*d->source != '\0' &&
       !imprintd_open_caller_file (call, d->source, O_RDONLY, TRUE, TRUE, &d->source_file, error)))
    return FALSE;
  if (req->definitions != NULL)
    {
      d->definitions_dir = snapshot_definitions (call, req->definitions, error);
      if (d->definitions_dir == NULL)
        return FALSE;
      d->definitions_display = g_strdup (req->definitions);
    }
  d->plan_options.definitions_dir = d->definitions_dir;
  d->plan_options.definitions_display = d->definitions_display;
  d->root_hash = g_strdup (req->root_hash);
  if (req->certificate != NULL && *req->certificate != '\0')
    {
      d->certificate = g_strdup (req->certificate);
      d->certificate_pem = imprintd_read_caller_text (call, d->certificate, CERTIFICATE_MAX, error);
      if (d->certificate_pem == NULL)
        return FALSE;
    }
  if (req->tpm2_public_key != NULL && *req->tpm2_public_key != '\0')
    {
      d->enc.tpm2_pubkey_pem = imprintd_read_caller_text (call, req->tpm2_public_key, CERTIFICATE_MAX, error);
      if (d->enc.tpm2_pubkey_pem == NULL)
        return FALSE;
    }
  return TRUE;
}

static InstallData *
install_data_new (ImprintdMethodCall *call, GError **error)
{
  g_auto(ImprintInstallRequest) req;
  g_autoptr(InstallData) d = g_new0 (InstallData, 1);
  const char *source, *target;

  g_variant_get_child (call->parameters, 0, "&s", &source);
  g_variant_get_child (call->parameters, 1, "&s", &target);
  d->source = g_strdup (source);
  d->target = g_strdup (target);
  d->source_file.fd = d->target_file.fd = -1;

  imprint_install_request_init (&req);
  if (!imprint_install_request_from_variant (call->options, &req, error) ||
      !check_target_given (target, error))
    return NULL;
  plan_options_from_request (&req, &d->plan_options);
  /* The plan options must not point into the request. */
  d->plan_options.definitions_dir = NULL;
  d->plan_options.target_display = d->target;
  if (!parse_encryption (&req, call->uid, d, error) || !open_caller_files (call, &req, d, error))
    return NULL;
  if (req.call.locale != NULL && *req.call.locale)
    d->locale = g_strdup (req.call.locale);
  d->no_boot_entry = imprint_opt_bool (req.no_boot_entry, FALSE);
  /* A tampered image is refused before anything is written: the whole
   * system partition is checked against the root hash first. Reading it
   * twice is the price; the second read mostly comes from the cache. */
  d->verify_first = imprint_opt_bool (req.verify_first, TRUE);
  d->handover = imprint_opt_bool (req.handover, FALSE);
  return g_steal_pointer (&d);
}

GVariant *
imprintd_method_install (ImprintdMethodCall *call, GError **error)
{
  g_autoptr(InstallData) d = install_data_new (call, error);
  g_autoptr(ImprintdJob) job = NULL;
  const char *path;

  if (d == NULL)
    return NULL;
  /* A second job on this disk fails here, at once, naming the first. */
  d->lock = imprintd_lock_caller_file (&d->target_file, IMPRINT_TARGET_LOCK_DEVICE, error);
  if (d->lock == NULL)
    return NULL;

  job = imprintd_job_new ("install", call->uid, TRUE);
  path = imprintd_daemon_add_job (call->daemon, job);
  imprintd_target_lock_set_job (d->lock, _("the installation"), path);
  imprintd_job_run (job, install_thread, g_steal_pointer (&d), (GDestroyNotify) install_data_free);
  return g_variant_new ("(o)", path);
}
