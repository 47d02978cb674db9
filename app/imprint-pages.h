/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>

#include "imprint-setup-choices.h"

G_BEGIN_DECLS

typedef struct {
  const char *id;
  GType     (*get_type) (void);
  /* Optional: TRUE when the page has nothing to ask (an OEM decided). */
  gboolean  (*skip)     (ImprintSetupChoices *setup);
} ImprintPageEntry;

/* The installer's pages, in order. First-boot setup gets its own table. */
const ImprintPageEntry *imprint_pages_installer (guint *n_pages);

/* First-boot setup's pages, in order. */
const ImprintPageEntry *imprint_pages_setup     (guint *n_pages);

G_END_DECLS
