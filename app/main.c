/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "imprint-application.h"
#include "imprint-util.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(ImprintApplication) app = NULL;

  setlocale (LC_ALL, "");
  imprint_i18n_init (LOCALEDIR);

  app = imprint_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
