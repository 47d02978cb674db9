/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The instance struct of ImprintJobWatch, shared by imprint-job-watch.c
 * and imprint-job-watch-control.c; not part of the API. */

#include "imprint-job-watch.h"

#include "imprint-names.h"

struct _ImprintJobWatch
{
  GObject          parent_instance;

  GDBusConnection *bus;
  char            *bus_name;
  guint            job_subscription;
  guint            owner_subscription;
  gulong           closed_handler;

  /* Job signals seen before the job's proxy is ready (its path or owner
   * not known yet), in the order they came. */
  GPtrArray       *early_events;
  /* Unique names that lost bus_name since we subscribed: a job they ran
   * is dead, whenever we learn that it was theirs. */
  GHashTable      *gone_owners;

  char            *path;
  char            *owner;        /* unique name of the daemon running the job */
  ImprintJob      *job;
  gboolean         following;    /* proxy ready: events go out as they come */

  gboolean         finished;
  gboolean         succeeded;
  gboolean         vanished;
  GError          *error;
};
