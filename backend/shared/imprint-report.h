/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How a long backend operation (install the root, apply setup, change an
 * unlock method) tells whoever runs it what it is doing, without knowing
 * who that is: imprintd passes its job (imprintd_job_report()), a test
 * or another front end its own functions. Every member may be NULL, and
 * so may the whole report. The texts are translated sentences for a
 * person; called from the operation's (worker) thread. */

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  void (*step)     (const char *text, void *userdata);   /* what happens now */
  void (*progress) (double fraction, void *userdata);    /* 0..1 of the operation */
  void (*log)      (const char *text, void *userdata);   /* one line for the log */
  void *userdata;
} ImprintReport;

void imprint_report_step     (const ImprintReport *report, const char *text);
void imprint_report_progress (const ImprintReport *report, double fraction);
void imprint_report_log      (const ImprintReport *report, const char *format, ...) G_GNUC_PRINTF (2, 3);

G_END_DECLS
