/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "imprint-page.h"

typedef struct
{
  ImprintClient         *client;
  ImprintInstallChoices *install;
  ImprintSetupChoices   *setup;
  char                  *title;
  GCancellable          *cancellable;        /* the page's loads */
  GCancellable          *apply_cancellable;  /* the apply under way */
  guint                  complete : 1;
  guint                  has_forward : 1;
  guint                  can_go_back : 1;
  guint                  applying : 1;
} ImprintPagePrivate;

G_DEFINE_TYPE_WITH_PRIVATE (ImprintPage, imprint_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_INSTALL_CHOICES,
  PROP_SETUP_CHOICES,
  PROP_TITLE,
  PROP_COMPLETE,
  PROP_HAS_FORWARD,
  PROP_CAN_GO_BACK,
  PROP_APPLYING,
  N_PROPS
};

enum {
  APPLY_DONE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
imprint_page_dispose (GObject *object)
{
  ImprintPage *self = IMPRINT_PAGE (object);
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  g_cancellable_cancel (priv->cancellable);
  g_clear_object (&priv->cancellable);
  g_cancellable_cancel (priv->apply_cancellable);
  g_clear_object (&priv->apply_cancellable);
  g_clear_object (&priv->client);
  g_clear_object (&priv->install);
  g_clear_object (&priv->setup);

  G_OBJECT_CLASS (imprint_page_parent_class)->dispose (object);
}

static void
imprint_page_finalize (GObject *object)
{
  ImprintPage *self = IMPRINT_PAGE (object);
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  g_free (priv->title);

  G_OBJECT_CLASS (imprint_page_parent_class)->finalize (object);
}

static void
imprint_page_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  ImprintPage *self = IMPRINT_PAGE (object);
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, priv->client);
      break;
    case PROP_INSTALL_CHOICES:
      g_value_set_object (value, priv->install);
      break;
    case PROP_SETUP_CHOICES:
      g_value_set_object (value, priv->setup);
      break;
    case PROP_TITLE:
      g_value_set_string (value, priv->title);
      break;
    case PROP_COMPLETE:
      g_value_set_boolean (value, priv->complete);
      break;
    case PROP_HAS_FORWARD:
      g_value_set_boolean (value, priv->has_forward);
      break;
    case PROP_CAN_GO_BACK:
      g_value_set_boolean (value, priv->can_go_back);
      break;
    case PROP_APPLYING:
      g_value_set_boolean (value, priv->applying);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imprint_page_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  ImprintPage *self = IMPRINT_PAGE (object);
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_CLIENT:
      priv->client = g_value_dup_object (value);
      break;
    case PROP_INSTALL_CHOICES:
      priv->install = g_value_dup_object (value);
      break;
    case PROP_SETUP_CHOICES:
      priv->setup = g_value_dup_object (value);
      break;
    case PROP_TITLE:
      imprint_page_set_title (self, g_value_get_string (value));
      break;
    case PROP_COMPLETE:
      imprint_page_set_complete (self, g_value_get_boolean (value));
      break;
    case PROP_HAS_FORWARD:
      imprint_page_set_has_forward (self, g_value_get_boolean (value));
      break;
    case PROP_CAN_GO_BACK:
      imprint_page_set_can_go_back (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imprint_page_class_init (ImprintPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = imprint_page_dispose;
  object_class->finalize = imprint_page_finalize;
  object_class->get_property = imprint_page_get_property;
  object_class->set_property = imprint_page_set_property;

  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, IMPRINT_TYPE_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_INSTALL_CHOICES] =
    g_param_spec_object ("install-choices", NULL, NULL, IMPRINT_TYPE_INSTALL_CHOICES,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SETUP_CHOICES] =
    g_param_spec_object ("setup-choices", NULL, NULL, IMPRINT_TYPE_SETUP_CHOICES,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_COMPLETE] =
    g_param_spec_boolean ("complete", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HAS_FORWARD] =
    g_param_spec_boolean ("has-forward", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CAN_GO_BACK] =
    g_param_spec_boolean ("can-go-back", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_APPLYING] =
    g_param_spec_boolean ("applying", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[APPLY_DONE] =
    g_signal_new ("apply-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void
imprint_page_init (ImprintPage *self)
{
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  priv->has_forward = TRUE;
  priv->can_go_back = TRUE;
  priv->cancellable = g_cancellable_new ();
}

ImprintClient *
imprint_page_get_client (ImprintPage *self)
{
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  g_return_val_if_fail (IMPRINT_IS_PAGE (self), NULL);
  return priv->client;
}

ImprintInstallChoices *
imprint_page_get_install_choices (ImprintPage *self)
{
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  g_return_val_if_fail (IMPRINT_IS_PAGE (self), NULL);
  return priv->install;
}

ImprintSetupChoices *
imprint_page_get_setup_choices (ImprintPage *self)
{
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  g_return_val_if_fail (IMPRINT_IS_PAGE (self), NULL);
  return priv->setup;
}

/* First-boot setup's pages rather than the installer's (the recovery and
 * progress pages serve both). */
gboolean
imprint_page_get_setup_mode (ImprintPage *self)
{
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  g_return_val_if_fail (IMPRINT_IS_PAGE (self), FALSE);
  return priv->setup != NULL && imprint_setup_choices_get_setup_mode (priv->setup);
}

GCancellable *
imprint_page_get_cancellable (ImprintPage *self)
{
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  g_return_val_if_fail (IMPRINT_IS_PAGE (self), NULL);
  return priv->cancellable;
}

GCancellable *
imprint_page_renew_cancellable (ImprintPage *self)
{
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  g_return_val_if_fail (IMPRINT_IS_PAGE (self), NULL);
  g_cancellable_cancel (priv->cancellable);
  g_clear_object (&priv->cancellable);
  priv->cancellable = g_cancellable_new ();
  return priv->cancellable;
}

const char *
imprint_page_get_title (ImprintPage *self)
{
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  g_return_val_if_fail (IMPRINT_IS_PAGE (self), NULL);
  return priv->title;
}

void
imprint_page_set_title (ImprintPage *self,
                        const char  *title)
{
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  g_return_if_fail (IMPRINT_IS_PAGE (self));
  if (g_strcmp0 (priv->title, title) == 0)
    return;
  g_free (priv->title);
  priv->title = g_strdup (title);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
}

#define BOOL_ACCESSORS(name, PROP)                                          \
  gboolean                                                                  \
  imprint_page_get_##name (ImprintPage *self)                               \
  {                                                                         \
    ImprintPagePrivate *priv = imprint_page_get_instance_private (self);    \
    g_return_val_if_fail (IMPRINT_IS_PAGE (self), FALSE);                   \
    return priv->name;                                                      \
  }                                                                         \
  void                                                                      \
  imprint_page_set_##name (ImprintPage *self, gboolean value)               \
  {                                                                         \
    ImprintPagePrivate *priv = imprint_page_get_instance_private (self);    \
    g_return_if_fail (IMPRINT_IS_PAGE (self));                              \
    value = !!value;                                                        \
    if (priv->name == (guint) value)                                        \
      return;                                                               \
    priv->name = value;                                                     \
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP]);           \
  }

BOOL_ACCESSORS (complete, PROP_COMPLETE)
BOOL_ACCESSORS (has_forward, PROP_HAS_FORWARD)
BOOL_ACCESSORS (can_go_back, PROP_CAN_GO_BACK)

void
imprint_page_shown (ImprintPage *self)
{
  g_return_if_fail (IMPRINT_IS_PAGE (self));
  if (IMPRINT_PAGE_GET_CLASS (self)->shown)
    IMPRINT_PAGE_GET_CLASS (self)->shown (self);
}

static void
set_applying (ImprintPage *self,
              gboolean     applying)
{
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  if (priv->applying == !!applying)
    return;
  priv->applying = !!applying;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_APPLYING]);
}

/* Returns TRUE while the page applies asynchronously ("apply-done" comes
 * later), FALSE when it is done already. */
gboolean
imprint_page_apply (ImprintPage *self)
{
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);
  ImprintPageClass *klass;

  g_return_val_if_fail (IMPRINT_IS_PAGE (self), FALSE);

  klass = IMPRINT_PAGE_GET_CLASS (self);
  if (priv->applying)
    return TRUE;
  if (klass->apply == NULL)
    return FALSE;

  g_cancellable_cancel (priv->apply_cancellable);
  g_clear_object (&priv->apply_cancellable);
  priv->apply_cancellable = g_cancellable_new ();
  /* Set first: a page may finish at once, from inside apply. */
  priv->applying = TRUE;
  if (!klass->apply (self, priv->apply_cancellable))
    {
      priv->applying = FALSE;
      return FALSE;
    }
  if (priv->applying)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_APPLYING]);
  return TRUE;
}

/* The person went elsewhere: the apply's result no longer moves on. */
void
imprint_page_cancel_apply (ImprintPage *self)
{
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  g_return_if_fail (IMPRINT_IS_PAGE (self));
  g_cancellable_cancel (priv->apply_cancellable);
  set_applying (self, FALSE);
}

gboolean
imprint_page_get_applying (ImprintPage *self)
{
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  g_return_val_if_fail (IMPRINT_IS_PAGE (self), FALSE);
  return priv->applying;
}

void
imprint_page_apply_done (ImprintPage *self,
                         gboolean     valid)
{
  ImprintPagePrivate *priv = imprint_page_get_instance_private (self);

  g_return_if_fail (IMPRINT_IS_PAGE (self));
  /* An apply that was cancelled (Back) ends unheard. */
  if (!priv->applying)
    return;
  set_applying (self, FALSE);
  g_signal_emit (self, signals[APPLY_DONE], 0, valid);
}

void
imprint_page_locale_changed (ImprintPage *self)
{
  g_return_if_fail (IMPRINT_IS_PAGE (self));
  if (IMPRINT_PAGE_GET_CLASS (self)->locale_changed)
    IMPRINT_PAGE_GET_CLASS (self)->locale_changed (self);
}

/* For pages that move on by themselves (a finished job) or through a
 * button of their own (Install). */
void
imprint_page_go_forward (ImprintPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.next", NULL);
}
