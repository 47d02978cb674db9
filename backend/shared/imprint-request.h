/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The a{sv} options and replies of imprintd's D-Bus API as plain C structs,
 * converted to and from GVariant in one place (imprint-request.c), so that
 * the daemon, imprintctl and the app write the wire format once. The key
 * names are in imprint-names.h, their meaning in data/dev.imprint.Imprint1.xml.
 *
 * Every struct has:
 *   _init (x)              zero it and set what "absent" means (keyslot -1);
 *   _clear (x)             free what it holds, wiping the secrets; it is
 *                          _init()ed again afterwards (g_auto() works);
 *   _to_variant (x)        a new floating a{sv} (ApplySetup: two of them);
 *   _from_variant (v, x, error)
 *                          fills an _init()ed x from a dictionary. It
 *                          parses caller bytes inside root imprintd, so it
 *                          is strict: @v must be an a{sv} (NULL counts as
 *                          empty) of at most IMPRINT_REQUEST_ENTRIES_MAX
 *                          entries; a known key with the wrong type, a
 *                          string longer than IMPRINT_REQUEST_STRING_MAX,
 *                          a list longer than IMPRINT_REQUEST_STRV_MAX, a
 *                          secret longer than IMPRINT_SECRET_MAX, an
 *                          unknown mode or unlock method is an
 *                          IMPRINT_ERROR_INVALID_ARGUMENT error (x is then
 *                          cleared). Unknown keys are ignored, as the API
 *                          promises. When a key repeats, the first counts
 *                          (as g_variant_lookup()).
 *
 * Conventions of the fields:
 *   - A string is NULL when the key is absent, else what was sent ("" too:
 *     where the daemon reads "" as "absent", it says so itself).
 *   - A secret (passphrase, PIN, recovery key, password) lives in
 *     imprint_secret memory (basic/secret.h); "" counts as absent (NULL),
 *     as imprintd always did. Assign only imprint_secret memory to one
 *     (imprint_secret_strdup(), imprintctl's ctl_read_secret_file()).
 *     _to_variant() puts secrets into GVariants whose bytes are in secret
 *     memory and are wiped when the last reference goes.
 *   - A boolean option is an ImprintOptBool: unset, false or true, so what
 *     a client did not send stays unsent; imprint_opt_bool() reads it with
 *     the API's default.
 *   - What needs the caller (uid-dependent device checks, files opened as
 *     the caller), a crypt library (PCR lists, recovery key form) or the
 *     disk stays with imprintd: these structs only carry the values.
 */

#include <gio/gio.h>

#include "imprint-names.h"

G_BEGIN_DECLS

/* Bounds of what _from_variant() accepts. No client comes near them; they
 * bound what a hostile caller can make imprintd do. */
#define IMPRINT_REQUEST_ENTRIES_MAX 256u   /* entries of one dictionary */
#define IMPRINT_REQUEST_STRING_MAX  4096u  /* bytes of a string (PATH_MAX) */
#define IMPRINT_REQUEST_STRV_MAX    256u   /* strings of an "as" */
/* Longest passphrase, PIN or recovery key taken over D-Bus, in bytes:
 * libpwquality and the KDFs take time in proportion to the length, and
 * nobody types more than this. */
#define IMPRINT_SECRET_MAX          1024u

typedef enum {
  IMPRINT_OPT_UNSET = 0,
  IMPRINT_OPT_FALSE,
  IMPRINT_OPT_TRUE,
} ImprintOptBool;

static inline gboolean
imprint_opt_bool (ImprintOptBool value, gboolean default_value)
{
  return value == IMPRINT_OPT_UNSET ? default_value : value == IMPRINT_OPT_TRUE;
}

static inline ImprintOptBool
imprint_opt_bool_from (gboolean value)
{
  return value ? IMPRINT_OPT_TRUE : IMPRINT_OPT_FALSE;
}

/* A string GVariant whose bytes are a copy of @secret in secret memory,
 * wiped when the last reference goes. Floating. */
GVariant *imprint_request_secret_variant_new (const char *secret);

/* The options every method takes. */
typedef struct {
  ImprintOptBool no_user_interaction;  /* "auth.no_user_interaction" */
  char *locale;                        /* "locale" */
} ImprintCallOptions;

void      imprint_call_options_init         (ImprintCallOptions *o);
void      imprint_call_options_clear        (ImprintCallOptions *o);
GVariant *imprint_call_options_to_variant   (const ImprintCallOptions *o);
gboolean  imprint_call_options_from_variant (GVariant *v, ImprintCallOptions *o, GError **error);

/* ListDisks options. */
typedef struct {
  ImprintCallOptions call;
  ImprintOptBool include_loop;
  char **include_files;          /* NULL-terminated, NULL when absent */
  char *source;
  guint64 min_size;              /* 0: absent */
  ImprintOptBool probe_shrink;   /* NTFS shrink facts (runs ntfsresize: slow) */
} ImprintListDisksRequest;

void      imprint_list_disks_request_init         (ImprintListDisksRequest *r);
void      imprint_list_disks_request_clear        (ImprintListDisksRequest *r);
GVariant *imprint_list_disks_request_to_variant   (const ImprintListDisksRequest *r);
gboolean  imprint_list_disks_request_from_variant (GVariant *v, ImprintListDisksRequest *r, GError **error);

/* GetSecurityCapabilities options. */
typedef struct {
  ImprintCallOptions call;
  char *tpm2_device;
} ImprintSecurityRequest;

void      imprint_security_request_init         (ImprintSecurityRequest *r);
void      imprint_security_request_clear        (ImprintSecurityRequest *r);
GVariant *imprint_security_request_to_variant   (const ImprintSecurityRequest *r);
gboolean  imprint_security_request_from_variant (GVariant *v, ImprintSecurityRequest *r, GError **error);

/* RequestFactoryReset options. */
typedef struct {
  ImprintCallOptions call;
  ImprintOptBool clear_tpm;
} ImprintFactoryResetRequest;

void      imprint_factory_reset_request_init         (ImprintFactoryResetRequest *r);
void      imprint_factory_reset_request_clear        (ImprintFactoryResetRequest *r);
GVariant *imprint_factory_reset_request_to_variant   (const ImprintFactoryResetRequest *r);
gboolean  imprint_factory_reset_request_from_variant (GVariant *v, ImprintFactoryResetRequest *r, GError **error);

/* PlanInstall's and Install's "mode". */
typedef enum {
  IMPRINT_REQUEST_MODE_UNSET = 0,  /* the daemon's default: erase */
  IMPRINT_REQUEST_MODE_ERASE,
  IMPRINT_REQUEST_MODE_FREE_SPACE,
} ImprintRequestMode;

/* "encryption": the unlock methods chosen (flags). */
typedef enum {
  IMPRINT_UNLOCK_TPM2         = 1 << 0,
  IMPRINT_UNLOCK_FIDO2        = 1 << 1,
  IMPRINT_UNLOCK_PASSPHRASE   = 1 << 2,
  IMPRINT_UNLOCK_RECOVERY_KEY = 1 << 3,
} ImprintUnlockMethods;

/* PlanInstall and Install options (PlanInstall reads the plan part:
 * mode, defer_data_partitions, definitions, root_hash, certificate). */
typedef struct {
  ImprintCallOptions call;
  ImprintRequestMode mode;
  ImprintOptBool defer_data_partitions;
  char *definitions;
  guint64 shrink_partition;               /* GPT number, 0 absent */
  guint64 shrink_size;                    /* bytes, 0 absent */
  char *root_hash;
  char *certificate;
  ImprintOptBool no_boot_entry;
  ImprintOptBool encrypt;                 /* default true */
  ImprintOptBool verify_first;            /* default true */
  ImprintOptBool handover;                /* default false (handover.h) */
  gboolean has_encryption;                /* "encryption" was sent */
  ImprintUnlockMethods encryption;
  char *tpm2_device;
  char *tpm2_pcrs;                        /* unparsed: the daemon's crypt code parses it */
  char *tpm2_public_key;                  /* "" none, NULL the UKI's */
  char *fido2_device;
  char *tpm2_pin;                         /* secret */
  char *passphrase;                       /* secret */
  char *recovery_key;                     /* secret, as sent (typed form too) */
} ImprintInstallRequest;

void      imprint_install_request_init         (ImprintInstallRequest *r);
void      imprint_install_request_clear        (ImprintInstallRequest *r);
GVariant *imprint_install_request_to_variant   (const ImprintInstallRequest *r);
gboolean  imprint_install_request_from_variant (GVariant *v, ImprintInstallRequest *r, GError **error);

/* ApplySetup's "user". */
typedef struct {
  char *user_name;
  char *real_name;
  char *password;                /* secret */
  char *recovery_key;            /* secret */
  ImprintOptBool fido2;
  char *fido2_device;
  guint64 disk_size;             /* 0: from the free space (absent) */
  ImprintOptBool auto_login;
  ImprintOptBool administrator;  /* default true */
} ImprintSetupUser;

/* ApplySetup: @settings and @options. */
typedef struct {
  ImprintCallOptions call;       /* in @options */
  /* @settings */
  char *locale;
  char *keymap;
  char *timezone;
  char *hostname;
  char *pretty_hostname;
  gboolean has_user;
  ImprintSetupUser user;
  char *disk_recovery_key;       /* secret */
  ImprintOptBool disk_fido2;
  char *disk_fido2_device;
  char *disk_device;
  char *disk_tpm2_device;
  /* @options */
  char *unlock_passphrase;       /* secret */
  ImprintOptBool unlock_tpm2;
  char *tpm2_device;
} ImprintSetupRequest;

void     imprint_setup_request_init         (ImprintSetupRequest *r);
void     imprint_setup_request_clear        (ImprintSetupRequest *r);
/* Both floating. */
void     imprint_setup_request_to_variant   (const ImprintSetupRequest *r,
                                             GVariant **ret_settings, GVariant **ret_options);
gboolean imprint_setup_request_from_variant (GVariant *settings, GVariant *options,
                                             ImprintSetupRequest *r, GError **error);

/* Enroll and Unenroll options (the device and method are arguments of
 * their own). Unenroll reads the unlock part and keyslot. */
typedef struct {
  ImprintCallOptions call;
  gint32 keyslot;                        /* -1: absent */
  /* How the caller proves a way in. */
  char *unlock_passphrase;               /* secret */
  ImprintOptBool unlock_tpm2;
  char *unlock_tpm2_pin;                 /* secret */
  ImprintOptBool unlock_fido2;
  char *tpm2_device;
  char *fido2_device;
  char *tpm2_signature;
  /* The new method. */
  char *passphrase;                      /* secret */
  char *recovery_key;                    /* secret */
  char *tpm2_pin;                        /* secret */
  char *tpm2_pcrs;
  char *tpm2_public_key;                 /* "" none */
  char *tpm2_public_key_pcrs;
  ImprintOptBool fido2_with_client_pin;         /* default true */
  ImprintOptBool fido2_with_user_presence;      /* default true */
  ImprintOptBool fido2_with_user_verification;  /* default false */
} ImprintEnrollRequest;

void      imprint_enroll_request_init         (ImprintEnrollRequest *r);
void      imprint_enroll_request_clear        (ImprintEnrollRequest *r);
GVariant *imprint_enroll_request_to_variant   (const ImprintEnrollRequest *r);
gboolean  imprint_enroll_request_from_variant (GVariant *v, ImprintEnrollRequest *r, GError **error);

/* One partition of the plan. Strings are never NULL after _from_variant(). */
typedef struct {
  guint32 number;
  char *type;          /* GUID */
  char *type_name;
  char *label;
  char *uuid;
  guint64 start;
  guint64 size;
  char *source;        /* where the contents come from, in words (imprint-plan-words.h) */
  char *action;        /* IMPRINT_ACTION_* */
  /* The facts the words come from. */
  char *content;       /* IMPRINT_CONTENT_NAME_* */
  char *definition;    /* repart.d file name, for content "repart" */
  gboolean adds_boot_loader;
  gboolean adds_kernels;
  gboolean leftover;
  guint64 shrink_from;  /* kept, shrunk first from this size to size (0: not) */
} ImprintPlanPartitionInfo;

/* The PlanInstall reply (and Install's result "plan"), as the engine's
 * imprint_plan_to_variant() builds it. Strings are never NULL after
 * _from_variant() except name and version, which are absent when the
 * plan was made without a source. Missing keys read as empty. */
typedef struct {
  GPtrArray *partitions;     /* of ImprintPlanPartitionInfo */
  char **erased;             /* what will be destroyed, in words */
  char *summary;
  ImprintRequestMode mode;
  char *target;
  guint64 target_size;
  gboolean defer_data_partitions;
  char *name;
  char *version;
  /* Facts: what the erase destroys (number, label, type_name, size of the
   * partitions there; erase mode also all of the target), and whose
   * partition definitions the data partitions come from. */
  GPtrArray *erased_partitions;  /* of ImprintPlanPartitionInfo */
  char *definitions_source;      /* IMPRINT_DEFINITIONS_FROM_* */
  char *definitions_directory;
  /* The install reads the source twice (IMPRINT_KEY_SOURCE_READ_TWICE). */
  gboolean source_read_twice;
} ImprintPlanInfo;

void      imprint_plan_info_init         (ImprintPlanInfo *p);
void      imprint_plan_info_clear        (ImprintPlanInfo *p);
/* Appends a partition (owned by @p) and returns it, zeroed. */
ImprintPlanPartitionInfo *imprint_plan_info_add_partition (ImprintPlanInfo *p);
/* The same for erased_partitions. */
ImprintPlanPartitionInfo *imprint_plan_info_add_erased   (ImprintPlanInfo *p);
GVariant *imprint_plan_info_to_variant   (const ImprintPlanInfo *p);
gboolean  imprint_plan_info_from_variant (GVariant *v, ImprintPlanInfo *p, GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ImprintCallOptions, imprint_call_options_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ImprintListDisksRequest, imprint_list_disks_request_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ImprintSecurityRequest, imprint_security_request_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ImprintFactoryResetRequest, imprint_factory_reset_request_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ImprintInstallRequest, imprint_install_request_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ImprintSetupRequest, imprint_setup_request_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ImprintEnrollRequest, imprint_enroll_request_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ImprintPlanInfo, imprint_plan_info_clear)

G_END_DECLS
