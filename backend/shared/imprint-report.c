/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "imprint-report.h"

void
imprint_report_step (const ImprintReport *report, const char *text)
{
  if (report != NULL && report->step != NULL)
    report->step (text, report->userdata);
}

void
imprint_report_progress (const ImprintReport *report, double fraction)
{
  if (report != NULL && report->progress != NULL)
    report->progress (fraction, report->userdata);
}

void
imprint_report_log (const ImprintReport *report, const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list ap;

  if (report == NULL || report->log == NULL)
    return;
  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  report->log (text, report->userdata);
}
