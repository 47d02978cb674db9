/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "imprint-client.h"
#include "imprint-job-watch.h"

G_BEGIN_DECLS

struct _ImprintClient
{
  GObject          parent_instance;

  ImprintManager  *manager;
  char            *language;

  /* The job being started or followed, and what it said. */
  ImprintJobWatch *job_watch;
  GString         *log;
};

enum {
  IMPRINT_CLIENT_JOB_LOG,
  IMPRINT_CLIENT_JOB_REQUEST,
  IMPRINT_CLIENT_JOB_COMPLETED,
  IMPRINT_CLIENT_N_SIGNALS
};

extern guint imprint_client_signals[IMPRINT_CLIENT_N_SIGNALS];

/* What one typed call sends: the method's own arguments and its options
 * (with the locale added). */
typedef struct
{
  char     *s1;
  char     *s2;
  gboolean  b;
  GVariant *settings;
  GVariant *options;
} ImprintCallArgs;

/* What it answered; which field is set depends on the method. */
typedef struct
{
  GVariant *value;
  char     *text;
  int       number;
} ImprintCallReply;

/* One method: how to call it through the generated proxy, and how to
 * read its answer with the generated finish function. */
typedef struct
{
  void     (*start)  (ImprintManager       *manager,
                      ImprintCallArgs      *args,
                      GCancellable         *cancellable,
                      GAsyncReadyCallback   callback,
                      gpointer              user_data);
  gboolean (*finish) (ImprintManager       *manager,
                      GAsyncResult         *result,
                      ImprintCallReply     *reply,
                      GError              **error);
} ImprintMethod;

ImprintCallArgs *imprint_call_args_new     (const char          *s1,
                                            const char          *s2,
                                            GVariant            *options);
void             imprint_call_args_free    (ImprintCallArgs     *args);
void             imprint_client_call       (ImprintClient       *self,
                                            const ImprintMethod *method,
                                            ImprintCallArgs     *args,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean         imprint_client_call_finish (ImprintClient      *self,
                                             GAsyncResult       *result,
                                             ImprintCallReply   *ret_reply,
                                             GError            **error);
/* The job's methods: the watch must exist before the call. */
void             imprint_client_start_job  (ImprintClient       *self,
                                            const ImprintMethod *method,
                                            ImprintCallArgs     *args,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);

G_END_DECLS
