/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  IMPRINT_INSTALL_ERASE,
  IMPRINT_INSTALL_FREE_SPACE,
} ImprintInstallMode;

/* What the person chose for the installation, page by page, and what the
 * command line said (source, extra targets, TPM2 device, trust,
 * definitions). Properties: "source", "target" (the disk's a{sv} as
 * ListDisks gave it), "target-device" (read-only), "mode", "use-tpm2",
 * "use-fido2", "use-passphrase" (read-only), "plan" (PlanInstall's answer,
 * dropped whenever a choice it depends on changes), "include-loop".
 *
 * The passphrase and the recovery key are secrets: kept in memory that is
 * wiped when freed (imprint_wipe_free()), set and read through
 * functions, never as properties. Nothing is written to a disk before
 * the summary page's commit. */
#define IMPRINT_TYPE_INSTALL_CHOICES (imprint_install_choices_get_type ())
G_DECLARE_FINAL_TYPE (ImprintInstallChoices, imprint_install_choices, IMPRINT, INSTALL_CHOICES, GObject)

ImprintInstallChoices *imprint_install_choices_new (void);

/* The command line */
const char *imprint_install_choices_get_source        (ImprintInstallChoices *self);
void        imprint_install_choices_set_source        (ImprintInstallChoices *self,
                                                       const char            *source);
void        imprint_install_choices_set_target_images (ImprintInstallChoices *self,
                                                       const char * const    *images);
gboolean    imprint_install_choices_get_include_loop  (ImprintInstallChoices *self);
void        imprint_install_choices_set_include_loop  (ImprintInstallChoices *self,
                                                       gboolean               include_loop);
void        imprint_install_choices_set_tpm2_device   (ImprintInstallChoices *self,
                                                       const char            *device);
void        imprint_install_choices_set_source_trust  (ImprintInstallChoices *self,
                                                       const char            *certificate,
                                                       const char            *root_hash);
void        imprint_install_choices_set_definitions   (ImprintInstallChoices *self,
                                                       const char            *directory);

/* The pages */
GVariant   *imprint_install_choices_get_target        (ImprintInstallChoices *self);
const char *imprint_install_choices_get_target_device (ImprintInstallChoices *self);
void        imprint_install_choices_set_target        (ImprintInstallChoices *self,
                                                       GVariant              *disk);
ImprintInstallMode imprint_install_choices_get_mode   (ImprintInstallChoices *self);
void        imprint_install_choices_set_mode          (ImprintInstallChoices *self,
                                                       ImprintInstallMode     mode);
void        imprint_install_choices_set_shrink        (ImprintInstallChoices *self,
                                                       guint64                partition,
                                                       guint64                size);
guint64     imprint_install_choices_get_shrink_partition (ImprintInstallChoices *self);
guint64     imprint_install_choices_get_shrink_size   (ImprintInstallChoices *self);
void        imprint_install_choices_set_encryption    (ImprintInstallChoices *self,
                                                       gboolean               tpm2,
                                                       gboolean               fido2,
                                                       const char            *passphrase);
gboolean    imprint_install_choices_get_use_tpm2      (ImprintInstallChoices *self);
gboolean    imprint_install_choices_get_use_fido2     (ImprintInstallChoices *self);
gboolean    imprint_install_choices_get_use_passphrase (ImprintInstallChoices *self);
const char *imprint_install_choices_get_passphrase    (ImprintInstallChoices *self);
const char *imprint_install_choices_get_recovery_key  (ImprintInstallChoices *self);
void        imprint_install_choices_set_recovery_key  (ImprintInstallChoices *self,
                                                       const char            *key);
GVariant   *imprint_install_choices_get_plan          (ImprintInstallChoices *self);
/* The plan's "handover-possible": this live session can move onto the
 * installed disk (data/dev.imprint.Imprint1.xml); @ret_reason: why not,
 * when the plan says (points into the plan). FALSE without a plan. */
gboolean    imprint_install_choices_get_handover_possible (ImprintInstallChoices *self,
                                                           const char           **ret_reason);
void        imprint_install_choices_set_plan          (ImprintInstallChoices *self,
                                                       GVariant              *plan);

/* The options of ListDisks, GetSecurityCapabilities, PlanInstall and
 * Install (floating a{sv}). Install's is NULL while a choice it needs is
 * missing (no disk, no recovery key). */
GVariant   *imprint_install_choices_build_list_options     (ImprintInstallChoices *self);
GVariant   *imprint_install_choices_build_security_options (ImprintInstallChoices *self);
GVariant   *imprint_install_choices_build_plan_options     (ImprintInstallChoices *self);
GVariant   *imprint_install_choices_build_install_options  (ImprintInstallChoices *self);

G_END_DECLS
