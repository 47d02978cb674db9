/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Work that may wait until the window is on screen: the window shows
 * first (issue 18, "the window first"), what it does not need for its
 * first frame follows. */
#include "config.h"

#include "imprint-first-frame.h"

typedef enum
{
  WAIT_MAP,
  WAIT_PAINT,
  QUEUED,
} Stage;

typedef struct
{
  GWeakRef               widget;
  ImprintFirstFrameFunc  func;
  Stage                  stage;
} FirstFrame;

static void
first_frame_free (gpointer data)
{
  FirstFrame *ff = data;

  g_weak_ref_clear (&ff->widget);
  g_free (ff);
}

static gboolean
first_frame_idle (gpointer data)
{
  FirstFrame *ff = data;
  g_autoptr(GtkWidget) widget = g_weak_ref_get (&ff->widget);

  /* Gone with its window before it was seen: nothing left to do. */
  if (widget != NULL)
    ff->func (widget);
  return G_SOURCE_REMOVE;
}

/* A handler's data goes with the handler, unless the work moved on to the
 * next stage: a widget or window finalized before its first frame takes
 * its pending work along. */
static void
map_handler_gone (gpointer  data,
                  GClosure *closure)
{
  FirstFrame *ff = data;

  if (ff->stage == WAIT_MAP)
    first_frame_free (ff);
}

static void
paint_handler_gone (gpointer  data,
                    GClosure *closure)
{
  FirstFrame *ff = data;

  if (ff->stage == WAIT_PAINT)
    first_frame_free (ff);
}

static void
queue (FirstFrame *ff)
{
  ff->stage = QUEUED;
  /* Below the priority of the frames that follow: it never holds one
   * back. */
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, first_frame_idle, ff, first_frame_free);
}

static void
after_paint_cb (GdkFrameClock *clock,
                FirstFrame    *ff)
{
  queue (ff);
  g_signal_handlers_disconnect_by_func (clock, after_paint_cb, ff);
}

static void
wait_for_paint (FirstFrame    *ff,
                GdkFrameClock *clock)
{
  ff->stage = WAIT_PAINT;
  g_signal_connect_data (clock, "after-paint", G_CALLBACK (after_paint_cb), ff, paint_handler_gone, 0);
}

static void
map_cb (GtkWidget  *widget,
        FirstFrame *ff)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);

  if (clock != NULL)
    wait_for_paint (ff, clock);
  else
    queue (ff);
  g_signal_handlers_disconnect_by_func (widget, map_cb, ff);
}

/* Calls @func (@widget) from an idle once a frame with @widget mapped has
 * been painted (after the next frame when it is mapped already); not at
 * all when @widget goes before that. Holds no reference on @widget. */
void
imprint_after_first_frame (GtkWidget             *widget,
                           ImprintFirstFrameFunc  func)
{
  FirstFrame *ff;

  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (func != NULL);

  ff = g_new0 (FirstFrame, 1);
  g_weak_ref_init (&ff->widget, widget);
  ff->func = func;
  if (gtk_widget_get_mapped (widget) && gtk_widget_get_frame_clock (widget) != NULL)
    {
      wait_for_paint (ff, gtk_widget_get_frame_clock (widget));
      gtk_widget_queue_draw (widget);
      return;
    }
  ff->stage = WAIT_MAP;
  g_signal_connect_data (widget, "map", G_CALLBACK (map_cb), ff, map_handler_gone, 0);
}
