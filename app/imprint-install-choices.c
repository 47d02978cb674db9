/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "imprint-install-choices.h"
#include "imprint-names.h"
#include "imprint-request.h"
#include "imprint-util.h"
#include "secret.h"

struct _ImprintInstallChoices
{
  GObject             parent_instance;

  /* From the command line */
  char               *source;
  char              **target_images;
  char               *tpm2_device;
  char               *source_certificate;
  char               *source_root_hash;
  char               *definitions;
  gboolean            include_loop;

  /* From the pages */
  GVariant           *target;
  ImprintInstallMode  mode;
  gboolean            use_tpm2;
  gboolean            use_fido2;
  char               *passphrase;     /* secret */
  char               *recovery_key;   /* secret */
  GVariant           *plan;
  guint64             shrink_partition; /* beside Windows: GPT number, 0 none */
  guint64             shrink_size;      /* its new size in bytes */
};

G_DEFINE_FINAL_TYPE (ImprintInstallChoices, imprint_install_choices, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SOURCE,
  PROP_TARGET,
  PROP_TARGET_DEVICE,
  PROP_MODE,
  PROP_USE_TPM2,
  PROP_USE_FIDO2,
  PROP_USE_PASSPHRASE,
  PROP_PLAN,
  PROP_INCLUDE_LOOP,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
imprint_install_choices_finalize (GObject *object)
{
  ImprintInstallChoices *self = IMPRINT_INSTALL_CHOICES (object);

  g_free (self->source);
  g_strfreev (self->target_images);
  g_free (self->tpm2_device);
  g_free (self->source_certificate);
  g_free (self->source_root_hash);
  g_free (self->definitions);
  g_clear_pointer (&self->target, g_variant_unref);
  g_clear_pointer (&self->plan, g_variant_unref);
  imprint_wipe_free (self->passphrase);
  imprint_wipe_free (self->recovery_key);

  G_OBJECT_CLASS (imprint_install_choices_parent_class)->finalize (object);
}

static void
imprint_install_choices_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  ImprintInstallChoices *self = IMPRINT_INSTALL_CHOICES (object);

  switch (prop_id)
    {
    case PROP_SOURCE:         g_value_set_string (value, self->source); break;
    case PROP_TARGET:         g_value_set_variant (value, self->target); break;
    case PROP_TARGET_DEVICE:  g_value_set_string (value, imprint_install_choices_get_target_device (self)); break;
    case PROP_MODE:           g_value_set_int (value, self->mode); break;
    case PROP_USE_TPM2:       g_value_set_boolean (value, self->use_tpm2); break;
    case PROP_USE_FIDO2:      g_value_set_boolean (value, self->use_fido2); break;
    case PROP_USE_PASSPHRASE: g_value_set_boolean (value, self->passphrase != NULL); break;
    case PROP_PLAN:           g_value_set_variant (value, self->plan); break;
    case PROP_INCLUDE_LOOP:   g_value_set_boolean (value, self->include_loop); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imprint_install_choices_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  ImprintInstallChoices *self = IMPRINT_INSTALL_CHOICES (object);

  switch (prop_id)
    {
    case PROP_SOURCE:       imprint_install_choices_set_source (self, g_value_get_string (value)); break;
    case PROP_TARGET:       imprint_install_choices_set_target (self, g_value_get_variant (value)); break;
    case PROP_MODE:         imprint_install_choices_set_mode (self, g_value_get_int (value)); break;
    case PROP_USE_TPM2:
      imprint_install_choices_set_encryption (self, g_value_get_boolean (value), self->use_fido2, self->passphrase);
      break;
    case PROP_USE_FIDO2:
      imprint_install_choices_set_encryption (self, self->use_tpm2, g_value_get_boolean (value), self->passphrase);
      break;
    case PROP_PLAN:         imprint_install_choices_set_plan (self, g_value_get_variant (value)); break;
    case PROP_INCLUDE_LOOP: imprint_install_choices_set_include_loop (self, g_value_get_boolean (value)); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imprint_install_choices_class_init (ImprintInstallChoicesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = imprint_install_choices_finalize;
  object_class->get_property = imprint_install_choices_get_property;
  object_class->set_property = imprint_install_choices_set_property;

  properties[PROP_SOURCE] = g_param_spec_string ("source", NULL, NULL, "", rw);
  properties[PROP_TARGET] = g_param_spec_variant ("target", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL, rw);
  properties[PROP_TARGET_DEVICE] = g_param_spec_string ("target-device", NULL, NULL, NULL, ro);
  properties[PROP_MODE] = g_param_spec_int ("mode", NULL, NULL, IMPRINT_INSTALL_ERASE,
                                            IMPRINT_INSTALL_FREE_SPACE, IMPRINT_INSTALL_ERASE, rw);
  properties[PROP_USE_TPM2] = g_param_spec_boolean ("use-tpm2", NULL, NULL, TRUE, rw);
  properties[PROP_USE_FIDO2] = g_param_spec_boolean ("use-fido2", NULL, NULL, FALSE, rw);
  properties[PROP_USE_PASSPHRASE] = g_param_spec_boolean ("use-passphrase", NULL, NULL, FALSE, ro);
  properties[PROP_PLAN] = g_param_spec_variant ("plan", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL, rw);
  properties[PROP_INCLUDE_LOOP] = g_param_spec_boolean ("include-loop", NULL, NULL, FALSE, rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
imprint_install_choices_init (ImprintInstallChoices *self)
{
  self->source = g_strdup ("");
  /* Where there is a TPM, it is the recommended way in. */
  self->use_tpm2 = TRUE;
}

ImprintInstallChoices *
imprint_install_choices_new (void)
{
  return g_object_new (IMPRINT_TYPE_INSTALL_CHOICES, NULL);
}

/* ---- the command line ------------------------------------------------- */

const char *
imprint_install_choices_get_source (ImprintInstallChoices *self)
{
  return self->source;
}

void
imprint_install_choices_set_source (ImprintInstallChoices *self,
                                    const char            *source)
{
  imprint_str_replace (&self->source, source ? source : "");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOURCE]);
}

void
imprint_install_choices_set_target_images (ImprintInstallChoices *self,
                                           const char * const    *images)
{
  g_strfreev (self->target_images);
  self->target_images = g_strdupv ((char **) images);
}

gboolean
imprint_install_choices_get_include_loop (ImprintInstallChoices *self)
{
  return self->include_loop;
}

void
imprint_install_choices_set_include_loop (ImprintInstallChoices *self,
                                          gboolean               include_loop)
{
  self->include_loop = !!include_loop;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INCLUDE_LOOP]);
}

void
imprint_install_choices_set_tpm2_device (ImprintInstallChoices *self,
                                         const char            *device)
{
  imprint_str_replace (&self->tpm2_device, device);
}

/* How to trust a source image that is not the running system (OEM lines,
 * tests): its signing certificate or its verity root hash. */
void
imprint_install_choices_set_source_trust (ImprintInstallChoices *self,
                                          const char            *certificate,
                                          const char            *root_hash)
{
  imprint_str_replace (&self->source_certificate, certificate);
  imprint_str_replace (&self->source_root_hash, root_hash);
}

/* Partition definitions other than the installed system's own. */
void
imprint_install_choices_set_definitions (ImprintInstallChoices *self,
                                         const char            *directory)
{
  imprint_str_replace (&self->definitions, directory);
}

/* ---- the pages ---------------------------------------------------------- */

GVariant *
imprint_install_choices_get_target (ImprintInstallChoices *self)
{
  return self->target;
}

const char *
imprint_install_choices_get_target_device (ImprintInstallChoices *self)
{
  const char *device = NULL;

  if (self->target == NULL ||
      !g_variant_lookup (self->target, IMPRINT_KEY_DEVICE, "&s", &device))
    return NULL;
  return device;
}

void
imprint_install_choices_set_target (ImprintInstallChoices *self,
                                    GVariant              *disk)
{
  if (disk != NULL)
    g_variant_ref_sink (disk);
  g_clear_pointer (&self->target, g_variant_unref);
  self->target = disk;
  /* A plan and a shrink belong to one disk. */
  self->shrink_partition = self->shrink_size = 0;
  imprint_install_choices_set_plan (self, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TARGET]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TARGET_DEVICE]);
}

ImprintInstallMode
imprint_install_choices_get_mode (ImprintInstallChoices *self)
{
  return self->mode;
}

void
imprint_install_choices_set_mode (ImprintInstallChoices *self,
                                  ImprintInstallMode     mode)
{
  if (self->mode == mode)
    return;
  imprint_install_choices_set_plan (self, NULL);
  self->mode = mode;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODE]);
}

/* Beside Windows: free-space mode after shrinking the target's NTFS
 * partition @partition (GPT number, 0: no shrink) to @size bytes. */
void
imprint_install_choices_set_shrink (ImprintInstallChoices *self,
                                    guint64                partition,
                                    guint64                size)
{
  if (partition == 0)
    size = 0;
  if (self->shrink_partition == partition && self->shrink_size == size)
    return;
  self->shrink_partition = partition;
  self->shrink_size = size;
  imprint_install_choices_set_plan (self, NULL);
}

guint64
imprint_install_choices_get_shrink_partition (ImprintInstallChoices *self)
{
  return self->mode == IMPRINT_INSTALL_FREE_SPACE ? self->shrink_partition : 0;
}

guint64
imprint_install_choices_get_shrink_size (ImprintInstallChoices *self)
{
  return imprint_install_choices_get_shrink_partition (self) != 0 ? self->shrink_size : 0;
}

void
imprint_install_choices_set_encryption (ImprintInstallChoices *self,
                                        gboolean               tpm2,
                                        gboolean               fido2,
                                        const char            *passphrase)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (self->use_tpm2 != !!tpm2)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USE_TPM2]);
  if (self->use_fido2 != !!fido2)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USE_FIDO2]);
  self->use_tpm2 = !!tpm2;
  self->use_fido2 = !!fido2;
  if (passphrase != self->passphrase)
    imprint_secret_replace (&self->passphrase, (passphrase && *passphrase) ? passphrase : NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USE_PASSPHRASE]);
  imprint_install_choices_set_plan (self, NULL);
  g_object_thaw_notify (G_OBJECT (self));
}

gboolean
imprint_install_choices_get_use_tpm2 (ImprintInstallChoices *self)
{
  return self->use_tpm2;
}

gboolean
imprint_install_choices_get_use_fido2 (ImprintInstallChoices *self)
{
  return self->use_fido2;
}

gboolean
imprint_install_choices_get_use_passphrase (ImprintInstallChoices *self)
{
  return self->passphrase != NULL;
}

const char *
imprint_install_choices_get_passphrase (ImprintInstallChoices *self)
{
  return self->passphrase;
}

const char *
imprint_install_choices_get_recovery_key (ImprintInstallChoices *self)
{
  return self->recovery_key;
}

void
imprint_install_choices_set_recovery_key (ImprintInstallChoices *self,
                                          const char            *key)
{
  imprint_secret_replace (&self->recovery_key, key);
}

GVariant *
imprint_install_choices_get_plan (ImprintInstallChoices *self)
{
  return self->plan;
}

void
imprint_install_choices_set_plan (ImprintInstallChoices *self,
                                  GVariant              *plan)
{
  if (plan == NULL && self->plan == NULL)
    return;
  if (plan != NULL)
    g_variant_ref_sink (plan);
  g_clear_pointer (&self->plan, g_variant_unref);
  self->plan = plan;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAN]);
}

/* ---- the options of the calls ------------------------------------------- */

/* Through the typed requests of imprint-request.h: the wire names once. */

GVariant *
imprint_install_choices_build_list_options (ImprintInstallChoices *self)
{
  g_auto(ImprintListDisksRequest) r;

  imprint_list_disks_request_init (&r);
  if (self->include_loop)
    r.include_loop = IMPRINT_OPT_TRUE;
  /* Whether and how far Windows can make room: the disk page offers
   * "Install beside Windows" from these facts. */
  r.probe_shrink = IMPRINT_OPT_TRUE;
  if (self->target_images != NULL && self->target_images[0] != NULL)
    r.include_files = g_strdupv (self->target_images);
  if (self->source[0] != '\0')
    r.source = g_strdup (self->source);
  return imprint_list_disks_request_to_variant (&r);
}

GVariant *
imprint_install_choices_build_security_options (ImprintInstallChoices *self)
{
  g_auto(ImprintSecurityRequest) r;

  imprint_security_request_init (&r);
  r.tpm2_device = g_strdup (self->tpm2_device);
  return imprint_security_request_to_variant (&r);
}

/* What PlanInstall and Install share: the mode, the ways to unlock, how
 * to trust the source and where the definitions are. */
static void
fill_plan (ImprintInstallChoices *self,
           ImprintInstallRequest *r)
{
  r->mode = self->mode == IMPRINT_INSTALL_FREE_SPACE ? IMPRINT_REQUEST_MODE_FREE_SPACE
                                                     : IMPRINT_REQUEST_MODE_ERASE;
  r->has_encryption = TRUE;
  /* The recovery key always: without it a lost TPM or key means lost
   * data. */
  r->encryption = IMPRINT_UNLOCK_RECOVERY_KEY;
  /* Only free-space mode shrinks: erase mode needs no room made. */
  r->shrink_partition = imprint_install_choices_get_shrink_partition (self);
  r->shrink_size = imprint_install_choices_get_shrink_size (self);
  if (self->use_tpm2)
    r->encryption |= IMPRINT_UNLOCK_TPM2;
  if (self->use_fido2)
    r->encryption |= IMPRINT_UNLOCK_FIDO2;
  if (self->passphrase != NULL)
    r->encryption |= IMPRINT_UNLOCK_PASSPHRASE;
  r->certificate = g_strdup (self->source_certificate);
  r->root_hash = g_strdup (self->source_root_hash);
  r->definitions = g_strdup (self->definitions);
}

GVariant *
imprint_install_choices_build_plan_options (ImprintInstallChoices *self)
{
  g_auto(ImprintInstallRequest) r;

  imprint_install_request_init (&r);
  fill_plan (self, &r);
  return imprint_install_request_to_variant (&r);
}

gboolean
imprint_install_choices_get_handover_possible (ImprintInstallChoices *self, const char **ret_reason)
{
  gboolean possible = FALSE;

  if (ret_reason != NULL)
    *ret_reason = NULL;
  if (self->plan == NULL || !g_variant_lookup (self->plan, "handover-possible", "b", &possible))
    return FALSE;
  if (!possible && ret_reason != NULL)
    g_variant_lookup (self->plan, "handover-reason", "&s", ret_reason);
  return possible;
}

GVariant *
imprint_install_choices_build_install_options (ImprintInstallChoices *self)
{
  g_auto(ImprintInstallRequest) r;

  imprint_install_request_init (&r);
  if (imprint_install_choices_get_target_device (self) == NULL || self->recovery_key == NULL)
    return NULL;
  fill_plan (self, &r);
  if (self->use_tpm2)
    r.tpm2_device = g_strdup (self->tpm2_device);
  /* The request's secrets live in basic/secret.h memory. */
  if (self->passphrase != NULL)
    r.passphrase = imprint_secret_strdup (self->passphrase);
  r.recovery_key = imprint_secret_strdup (self->recovery_key);
  /* From a live session whose plan says it can: the session moves onto
   * the installed disk at the end, and setup goes on in it. */
  if (imprint_install_choices_get_handover_possible (self, NULL))
    r.handover = IMPRINT_OPT_TRUE;
  return imprint_install_request_to_variant (&r);
}
