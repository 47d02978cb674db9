/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A QR code (libqrencode) drawn as crisp squares at any size, always dark
 * on white with a quiet zone, so phones read it in dark mode too. */
#define IMPRINT_TYPE_QR_PAINTABLE (imprint_qr_paintable_get_type ())
G_DECLARE_FINAL_TYPE (ImprintQrPaintable, imprint_qr_paintable, IMPRINT, QR_PAINTABLE, GObject)

ImprintQrPaintable *imprint_qr_paintable_new      (const char         *text);
int                 imprint_qr_paintable_get_size (ImprintQrPaintable *self);

G_END_DECLS
