/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The one error domain of Imprint. The daemon raises these, GDBus carries
 * them as "dev.imprint.Imprint1.Error.*" names, and clients get the same
 * GError back, so the app can tell "denied" from "dismissed" by code. */
#define IMPRINT_ERROR (imprint_error_quark ())

typedef enum {
  IMPRINT_ERROR_FAILED,
  IMPRINT_ERROR_NOT_AUTHORIZED,
  IMPRINT_ERROR_AUTH_DISMISSED,
  IMPRINT_ERROR_INVALID_ARGUMENT,
  IMPRINT_ERROR_NOT_FOUND,
  IMPRINT_ERROR_BUSY,
  IMPRINT_ERROR_NOT_SUPPORTED,
  IMPRINT_ERROR_CANCELLED,
  IMPRINT_ERROR_SOURCE_INVALID,
  IMPRINT_ERROR_NO_SPACE,
  IMPRINT_ERROR_UNAVAILABLE,
} ImprintError;

#define IMPRINT_ERROR_N_ERRORS (IMPRINT_ERROR_UNAVAILABLE + 1)

GQuark       imprint_error_quark            (void);
const char  *imprint_error_to_dbus_name     (ImprintError code);
ImprintError imprint_error_from_errno       (int err);
void         imprint_error_strip_remote     (GError *error);

G_END_DECLS
