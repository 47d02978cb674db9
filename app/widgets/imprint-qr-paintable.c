/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <qrencode.h>

#include "imprint-qr-paintable.h"

#define QUIET_ZONE 4   /* modules of white around the code, as the spec asks */
#define MODULE_PX  4   /* intrinsic size of one module */

struct _ImprintQrPaintable
{
  GObject  parent_instance;

  int      width;      /* modules per side, 0 when encoding failed */
  guint8  *modules;    /* width * width, 1 = dark */
};

static void imprint_qr_paintable_iface_init (GdkPaintableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ImprintQrPaintable, imprint_qr_paintable, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GDK_TYPE_PAINTABLE, imprint_qr_paintable_iface_init))

static void
imprint_qr_paintable_snapshot (GdkPaintable *paintable,
                               GdkSnapshot  *snapshot,
                               double        width,
                               double        height)
{
  ImprintQrPaintable *self = IMPRINT_QR_PAINTABLE (paintable);
  const GdkRGBA white = { 1, 1, 1, 1 };
  const GdkRGBA black = { 0, 0, 0, 1 };
  int total = self->width + 2 * QUIET_ZONE;
  double side = MIN (width, height);
  double module;
  double x0, y0;

  if (self->width == 0)
    return;

  /* Whole pixels per module keep the edges sharp; center what is left. */
  module = MAX (1.0, floor (side / total));
  x0 = floor ((width - module * total) / 2);
  y0 = floor ((height - module * total) / 2);

  gtk_snapshot_append_color (GTK_SNAPSHOT (snapshot), &white,
                             &GRAPHENE_RECT_INIT (x0, y0, module * total, module * total));

  for (int y = 0; y < self->width; y++)
    for (int x = 0; x < self->width; x++)
      {
        int run = 0;

        /* Draw horizontal runs as one rectangle: fewer nodes, no seams. */
        while (x + run < self->width && self->modules[y * self->width + x + run])
          run++;
        if (run == 0)
          continue;
        gtk_snapshot_append_color (GTK_SNAPSHOT (snapshot), &black,
                                   &GRAPHENE_RECT_INIT (x0 + (x + QUIET_ZONE) * module,
                                                        y0 + (y + QUIET_ZONE) * module,
                                                        run * module, module));
        x += run - 1;
      }
}

static int
imprint_qr_paintable_get_intrinsic_width (GdkPaintable *paintable)
{
  ImprintQrPaintable *self = IMPRINT_QR_PAINTABLE (paintable);

  return (self->width + 2 * QUIET_ZONE) * MODULE_PX;
}

static double
imprint_qr_paintable_get_intrinsic_aspect_ratio (GdkPaintable *paintable)
{
  return 1.0;
}

static GdkPaintableFlags
imprint_qr_paintable_get_flags (GdkPaintable *paintable)
{
  return GDK_PAINTABLE_STATIC_CONTENTS | GDK_PAINTABLE_STATIC_SIZE;
}

static void
imprint_qr_paintable_iface_init (GdkPaintableInterface *iface)
{
  iface->snapshot = imprint_qr_paintable_snapshot;
  iface->get_intrinsic_width = imprint_qr_paintable_get_intrinsic_width;
  iface->get_intrinsic_height = imprint_qr_paintable_get_intrinsic_width;
  iface->get_intrinsic_aspect_ratio = imprint_qr_paintable_get_intrinsic_aspect_ratio;
  iface->get_flags = imprint_qr_paintable_get_flags;
}

static void
imprint_qr_paintable_finalize (GObject *object)
{
  ImprintQrPaintable *self = IMPRINT_QR_PAINTABLE (object);

  /* The code encodes a secret. */
  if (self->modules != NULL)
    explicit_bzero (self->modules, (size_t) self->width * self->width);
  g_free (self->modules);

  G_OBJECT_CLASS (imprint_qr_paintable_parent_class)->finalize (object);
}

static void
imprint_qr_paintable_class_init (ImprintQrPaintableClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imprint_qr_paintable_finalize;
}

static void
imprint_qr_paintable_init (ImprintQrPaintable *self)
{
}

ImprintQrPaintable *
imprint_qr_paintable_new (const char *text)
{
  ImprintQrPaintable *self = g_object_new (IMPRINT_TYPE_QR_PAINTABLE, NULL);
  QRcode *code;

  g_return_val_if_fail (text != NULL, self);

  code = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (code == NULL)
    {
      g_warning ("Could not encode a QR code: %s", g_strerror (errno));
      return self;
    }

  self->width = code->width;
  self->modules = g_malloc ((size_t) code->width * code->width);
  for (int i = 0; i < code->width * code->width; i++)
    self->modules[i] = code->data[i] & 1;

  explicit_bzero (code->data, (size_t) code->width * code->width);
  QRcode_free (code);
  return self;
}

int
imprint_qr_paintable_get_size (ImprintQrPaintable *self)
{
  return self->width;
}
