/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef struct {
  const char *id;
  GType     (*get_type) (void);
} ImprintPageEntry;

/* The installer's pages, in order. First-boot setup gets its own table. */
const ImprintPageEntry *imprint_pages_installer (guint *n_pages);

G_END_DECLS
