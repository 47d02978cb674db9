/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between sysupdate.c (choosing the way, listing versions) and
 * sysupdate-update.c (running an update); not part of the API. */

#include <gio/gio.h>

#include "update.h"

#define SYSUPDATE1_NAME    "org.freedesktop.sysupdate1"
#define SYSUPDATE1_PATH    "/org/freedesktop/sysupdate1"
#define SYSUPDATE1_MANAGER "org.freedesktop.sysupdate1.Manager"
#define SYSUPDATE1_TARGET  "org.freedesktop.sysupdate1.Target"
#define SYSUPDATE1_JOB     "org.freedesktop.sysupdate1.Job"
#define MIN_JSON_VERSION   257

struct _ImprintSysupdate {
  char **argv;               /* the CLI: binary and fixed arguments */
  int systemd_version;
  GDBusConnection *bus;      /* set when sysupdated is used */
  char *target_path;
};
