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
#include "imprintd-methods.h"
#include "install.h"
#include "install-root.h"
#include "recovery-key.h"
#include "macros.h"
#include "safe-open.h"

/* InspectSource, PlanInstall and Install: the engine (backend/engine) does
 * the partitioning and the verified copy (install.h) and the LUKS2 root
 * with its unlock methods (install-root.h); this file checks what the
 * caller asked for and opens what it named, as the caller. */

/* Caps for what a caller's files may make us read. */
#define CERTIFICATE_MAX   (64 * 1024)
#define DEFINITION_MAX    (64 * 1024)
#define DEFINITIONS_MAX_N 256

static void
remove_snapshot (char *dir)
{
  g_autoptr(GDir) d = NULL;
  const char *name;

  if (dir == NULL)
    return;
  d = g_dir_open (dir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      (void) g_unlink (p);
    }
  (void) g_rmdir (dir);
  g_free (dir);
}

/* The repart.d definitions a caller named, copied into a private directory
 * of ours: the directory and each *.conf opened as the caller (no
 * symlinks, regular files, bounded size and number), so the engine and
 * systemd-repart never read the caller's tree by name. */
static char *
snapshot_definitions (ImprintdMethodCall *call, const char *dir, GError **error)
{
  g_auto(SafeCreds) creds = { 0 };
  _cleanup_close_ int dfd = -1;
  g_autofree char *snap = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  DIR *d;
  struct dirent *de;
  int r;

  dfd = imprintd_open_as_caller (call, dir, O_RDONLY | O_DIRECTORY, SAFE_TYPE_DIR, FALSE, error);
  if (dfd < 0)
    return NULL;
  r = safe_creds_for_uid (call->uid, &creds);
  if (r >= 0)
    {
      int dup_fd = fcntl (dfd, F_DUPFD_CLOEXEC, 3);
      d = dup_fd >= 0 ? fdopendir (dup_fd) : NULL;
      if (d == NULL)
        {
          r = -errno;
          if (dup_fd >= 0)
            close (dup_fd);
        }
      else
        {
          while ((de = readdir (d)) != NULL)
            if (de->d_name[0] != '.' && g_str_has_suffix (de->d_name, ".conf"))
              g_ptr_array_add (names, g_strdup (de->d_name));
          closedir (d);
        }
    }
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Cannot read the directory “%s”: %s"), dir, g_strerror (-r));
      return NULL;
    }
  if (names->len > DEFINITIONS_MAX_N)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” holds more than %d partition definitions."), dir, DEFINITIONS_MAX_N);
      return NULL;
    }

  snap = g_dir_make_tmp ("imprint-defs-XXXXXX", error);
  if (snap == NULL)
    return NULL;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      _cleanup_close_ int fd = -1;
      g_autofree char *text = NULL;
      g_autofree char *out = NULL;
      gboolean ok;

      fd = safe_open_as (dfd, name, &creds, O_RDONLY, SAFE_OPEN_TIMEOUT_MS, NULL);
      r = fd < 0 ? fd : safe_fd_check (fd, SAFE_TYPE_REG, NULL);
      if (r >= 0)
        r = safe_read_fd (fd, DEFINITION_MAX, &text, NULL);
      if (r < 0)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                       r == -ELOOP ? _("The partition definition %s/%s is a symbolic link.")
                       : r == -EFBIG ? _("The partition definition %s/%s is too large.")
                       : r == -EINVAL || r == -ENOTBLK || r == -EISDIR || r == -EPERM
                         ? _("The partition definition %s/%s is not a regular file.")
                       : _("Cannot read the partition definition %s/%s."), dir, name);
          remove_snapshot (g_steal_pointer (&snap));
          return NULL;
        }
      out = g_build_filename (snap, name, NULL);
      ok = g_file_set_contents (out, text, -1, error);
      if (!ok)
        {
          remove_snapshot (g_steal_pointer (&snap));
          return NULL;
        }
    }
  return g_steal_pointer (&snap);
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
  remove_snapshot (g_steal_pointer (&l->definitions));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LookData, look_data_clear)

/* InspectSource and PlanInstall only look, and an active user may call
 * them without a password: a source the caller cannot read itself is
 * refused, disks included (their contents are not the caller's to read).
 * Install is authorised by polkit and may read a disk as the source. */
static ImprintSource *
open_source (ImprintdMethodCall *call, const char *path, GVariant *options, gboolean admin,
             LookData *look, GError **error)
{
  ImprintSourceOptions sopts = { 0 };
  const char *cert = NULL;

  g_variant_lookup (options, "root-hash", "&s", &sopts.trusted_root_hash);
  if (g_variant_lookup (options, "certificate", "&s", &cert) && *cert != '\0')
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
  g_auto(LookData) look = { .source.fd = -1 };
  g_autoptr(ImprintSource) source = NULL;

  g_variant_get_child (call->parameters, 0, "&s", &path);
  source = open_source (call, path, call->options, FALSE, &look, error);
  if (source == NULL)
    return NULL;
  return g_variant_new ("(@a{sv})", source_to_variant (source));
}

static gboolean
parse_plan_options (GVariant *options, ImprintPlanOptions *ret, GError **error)
{
  const char *mode = "erase";
  ImprintPlanOptions o = { 0 };

  g_variant_lookup (options, "mode", "&s", &mode);
  if (g_str_equal (mode, "erase"))
    o.mode = IMPRINT_INSTALL_MODE_ERASE;
  else if (g_str_equal (mode, "free-space"))
    o.mode = IMPRINT_INSTALL_MODE_FREE_SPACE;
  else
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Unknown install mode “%s”: use “erase” or “free-space”."), mode);
      return FALSE;
    }
  g_variant_lookup (options, "defer-data-partitions", "b", &o.defer_data_partitions);
  g_variant_lookup (options, "definitions", "&s", &o.definitions_dir);
  *ret = o;
  return TRUE;
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

GVariant *
imprintd_method_plan_install (ImprintdMethodCall *call, GError **error)
{
  const char *source_path, *target;
  ImprintPlanOptions popts;
  g_auto(LookData) look = { .source.fd = -1 };
  g_auto(ImprintdCallerFile) tfile = { .fd = -1 };
  g_autoptr(ImprintSource) source = NULL;
  g_autoptr(ImprintPlan) plan = NULL;

  g_variant_get_child (call->parameters, 0, "&s", &source_path);
  g_variant_get_child (call->parameters, 1, "&s", &target);

  if (!parse_plan_options (call->options, &popts, error) || !check_target_given (target, error))
    return NULL;
  /* Read-only, as the caller; a disk the caller cannot open itself is
   * looked at by us (size and partition table, which ListDisks shows
   * anyway), never written. An image file stays open: the engine reaches
   * it through /proc/PID/fd/N. */
  if (!imprintd_open_caller_file (call, target, O_RDONLY, TRUE, FALSE, &tfile, error))
    return NULL;
  if (popts.definitions_dir != NULL)
    {
      look.definitions = snapshot_definitions (call, popts.definitions_dir, error);
      if (look.definitions == NULL)
        return NULL;
      popts.definitions_dir = look.definitions;
    }
  popts.target_display = target;
  source = open_source (call, source_path, call->options, FALSE, &look, error);
  if (source == NULL)
    return NULL;
  plan = imprint_plan_compute (source, tfile.io_path, &popts, error);
  if (plan == NULL)
    return NULL;
  return g_variant_new ("(@a{sv})", imprint_plan_to_variant (plan, source));
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
  char *root_hash;
  char *certificate;
  char *certificate_pem;
  char *locale;
  gboolean no_boot_entry;
  gboolean verify_first;

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
  remove_snapshot (g_steal_pointer (&d->definitions_dir));
  g_free (d->certificate_pem);
  g_free (d->root_hash);
  g_free (d->certificate);
  g_free (d->locale);
  g_free (d);
}

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

  imprintd_job_set_progress (d->job, d->copy_weight + (1.0 - d->copy_weight) * CLAMP (fraction, 0.0, 1.0));
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

static GVariant *
install_result (ImprintSource *source, ImprintPlan *plan, const char *luks_uuid)
{
  GVariantBuilder result;

  g_variant_builder_init (&result, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&result, "{sv}", "plan", imprint_plan_to_variant (plan, source));
  g_variant_builder_add (&result, "{sv}", "source", source_to_variant (source));
  if (luks_uuid != NULL)
    g_variant_builder_add (&result, "{sv}", "luks-uuid", g_variant_new_string (luks_uuid));
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
      d->copy_weight = 0.85;
      d->enc_report = (ImprintReport) { .step = on_encryption_step, .progress = on_encryption_progress,
                                        .log = on_encryption_log, .userdata = d };
      d->enc.report = &d->enc_report;
      d->enc.fido2_prompt = imprintd_fido2_prompt;
      d->enc.fido2_prompt_data = job;
      run.options.encryption = &d->enc;
    }

  imprintd_job_report (job, &report);
  ok = imprint_install_run (&run, &report, &source, &plan, error);
  if (ok)
    {
      imprintd_job_set_result (job, install_result (source, plan, d->enc.luks_uuid));
      imprintd_job_set_step (job, _("The system is installed"));
    }
  g_clear_pointer (&d->lock, imprint_target_lock_free);
  if (locale != (locale_t) 0)
    {
      uselocale (LC_GLOBAL_LOCALE);
      freelocale (locale);
    }
  return ok;
}

static gboolean
parse_encryption (GVariant *options, guint32 uid, InstallData *d, GError **error)
{
  g_autofree const char **methods = NULL;
  const char *s;

  d->encrypt = TRUE;
  g_variant_lookup (options, "encrypt", "b", &d->encrypt);
  if (g_variant_lookup (options, "encryption", "^a&s", &methods))
    for (gsize i = 0; methods[i] != NULL; i++)
      {
        if (g_str_equal (methods[i], "tpm2"))
          d->enc.tpm2 = TRUE;
        else if (g_str_equal (methods[i], "fido2"))
          d->enc.fido2 = TRUE;
        else if (g_str_equal (methods[i], "recovery-key") || g_str_equal (methods[i], "passphrase"))
          ;
        else
          {
            g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                         _("Unknown unlock method “%s”."), methods[i]);
            return FALSE;
          }
      }

  if (!imprintd_lookup_secret (options, "recovery-key", &d->enc.recovery_key, error) ||
      !imprintd_lookup_secret (options, "passphrase", &d->enc.passphrase, error) ||
      !imprintd_lookup_secret (options, "tpm2-pin", &d->enc.tpm2_pin, error))
    return FALSE;
  if (g_variant_lookup (options, "tpm2-device", "&s", &s) && *s)
    {
      if (!imprintd_check_tpm2_device (s, uid, error))
        return FALSE;
      d->enc.tpm2_device = g_strdup (s);
    }
  d->enc.tpm2_device_flags = imprintd_tpm2_device_flags (uid);
  if (g_variant_lookup (options, "tpm2-pcrs", "&s", &s) && *s)
    {
      int r = imprint_tpm2_parse_pcr_list (s, &d->enc.tpm2_pcr_mask);
      if (r < 0)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not a list of PCRs."), s);
          return FALSE;
        }
    }
  if (g_variant_lookup (options, "fido2-device", "&s", &s) && *s &&
      !imprintd_check_fido2_device (s, uid, &d->enc.fido2_device, error))
    return FALSE;
  /* Absent: the key the source's UKI ships; "": none; else a PEM file of
   * the caller's, read when the call came in. */
  d->enc.tpm2_pubkey_auto = !g_variant_lookup (options, "tpm2-public-key", "&s", &s);

  if (!d->encrypt || d->plan_options.defer_data_partitions)
    return TRUE;

  /* Every encrypted disk gets a recovery key: a lost TPM (new main board,
   * firmware update) must never mean lost data. */
  if (d->enc.recovery_key == NULL || !imprint_recovery_key_is_valid (d->enc.recovery_key))
    {
      _cleanup_erase_free_ char *normalized = NULL;

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

GVariant *
imprintd_method_install (ImprintdMethodCall *call, GError **error)
{
  const char *source, *target, *s;
  InstallData *d = g_new0 (InstallData, 1);
  g_autoptr(ImprintdJob) job = NULL;
  const char *path;

  g_variant_get_child (call->parameters, 0, "&s", &source);
  g_variant_get_child (call->parameters, 1, "&s", &target);

  d->source = g_strdup (source);
  d->target = g_strdup (target);
  d->source_file.fd = d->target_file.fd = -1;
  if (!parse_plan_options (call->options, &d->plan_options, error) ||
      !check_target_given (target, error) ||
      !parse_encryption (call->options, call->uid, d, error))
    {
      install_data_free (d);
      return NULL;
    }
  /* The plan options point into the call's options: keep our own copy. */
  d->plan_options.target_display = d->target;

  /* Every path the caller named is opened now, as the caller, and only the
   * fds (or a disk's /dev node) are used from here on. Install is
   * authorised by polkit: a disk the caller reached but may not open
   * itself is opened by us, as source or target. An image file target is
   * opened read-write as the caller: no file the caller may not write. */
  if (!imprintd_open_caller_file (call, target, O_RDWR, TRUE, FALSE, &d->target_file, error) ||
      (*source != '\0' && !imprintd_open_caller_file (call, source, O_RDONLY, TRUE, TRUE, &d->source_file, error)))
    {
      install_data_free (d);
      return NULL;
    }
  if (d->plan_options.definitions_dir != NULL)
    {
      d->definitions_dir = snapshot_definitions (call, d->plan_options.definitions_dir, error);
      if (d->definitions_dir == NULL)
        {
          install_data_free (d);
          return NULL;
        }
    }
  d->plan_options.definitions_dir = d->definitions_dir;
  if (g_variant_lookup (call->options, "root-hash", "&s", &s))
    d->root_hash = g_strdup (s);
  if (g_variant_lookup (call->options, "certificate", "&s", &s) && *s != '\0')
    {
      d->certificate = g_strdup (s);
      d->certificate_pem = imprintd_read_caller_text (call, s, CERTIFICATE_MAX, error);
      if (d->certificate_pem == NULL)
        {
          install_data_free (d);
          return NULL;
        }
    }
  if (g_variant_lookup (call->options, "tpm2-public-key", "&s", &s) && *s != '\0')
    {
      d->enc.tpm2_pubkey_pem = imprintd_read_caller_text (call, s, CERTIFICATE_MAX, error);
      if (d->enc.tpm2_pubkey_pem == NULL)
        {
          install_data_free (d);
          return NULL;
        }
    }
  if (g_variant_lookup (call->options, "locale", "&s", &s) && *s)
    d->locale = g_strdup (s);
  g_variant_lookup (call->options, "no-boot-entry", "b", &d->no_boot_entry);
  /* A tampered image is refused before anything is written: the whole
   * system partition is checked against the root hash first. Reading it
   * twice is the price; the second read mostly comes from the cache. */
  d->verify_first = TRUE;
  g_variant_lookup (call->options, "verify-first", "b", &d->verify_first);

  /* A second job on this disk fails here, at once, naming the first. */
  d->lock = imprintd_lock_caller_file (&d->target_file, IMPRINT_TARGET_LOCK_DEVICE, error);
  if (d->lock == NULL)
    {
      install_data_free (d);
      return NULL;
    }

  job = imprintd_job_new ("install", call->uid, TRUE);
  path = imprintd_daemon_add_job (call->daemon, job);
  imprintd_target_lock_set_job (d->lock, _("the installation"), path);
  imprintd_job_run (job, install_thread, d, (GDestroyNotify) install_data_free);
  return g_variant_new ("(o)", path);
}
