/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark helper for tools/bench-startup (not installed, not a test):
 * runs a program and prints how long it took from exec until its first
 * top-level window was viewable, that is mapped AND painted into (the X
 * server's DAMAGE extension reports the first drawing on the mapped
 * window that leaves it no longer of one colour: the X server's own
 * background fill at the map is not the program drawing). Then the program
 * is ended with SIGTERM.
 *
 *   watch-window [--timeout SECONDS] PROGRAM [ARG...]
 *
 * Prints one line "EXEC_TO_MAP EXEC_TO_PAINT CPU" in seconds, CPU being the
 * time the program's threads ran until the paint (Linux schedstat): less
 * at the mercy of a busy machine than the wall-clock times. It observes from
 * outside, so the programs compared need no hook and the same measure holds
 * for any build. Exit 0 on a measurement, 1 on a timeout or when the
 * program exited first, 2 on a usage or X error. */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/Xdamage.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WINDOWS 64

typedef struct
{
  Window id;
  Damage damage;
  int    mapped;
} Watched;

static Watched watched[MAX_WINDOWS];
static int n_watched;

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The program's windows come and go; one BadWindow must not end us. */
static int
ignore_x_error (Display *dpy, XErrorEvent *ev)
{
  (void) dpy;
  (void) ev;
  return 0;
}

static Watched *
find (Window id)
{
  for (int i = 0; i < n_watched; i++)
    if (watched[i].id == id)
      return &watched[i];
  return NULL;
}

/* A new top-level window: follow its drawing from its creation, so the
 * first paint after its map is not missed. Override-redirect windows are
 * popups and tooltips, not the window. */
static void
watch (Display *dpy, const XCreateWindowEvent *ev)
{
  if (ev->override_redirect || n_watched == MAX_WINDOWS || find (ev->window) != NULL)
    return;
  watched[n_watched].id = ev->window;
  watched[n_watched].damage = XDamageCreate (dpy, ev->window, XDamageReportRawRectangles);
  watched[n_watched].mapped = 0;
  n_watched++;
}

/* Mapping a window makes the X server fill it with its background, which
 * DAMAGE reports too; the program's first frame is the first damage after
 * which the window holds more than one colour. One column down the middle
 * is enough (a header bar is never the colour of the page below it) and
 * keeps the check's round trip well under a millisecond. */
static int
painted (Display *dpy, Window id)
{
  XWindowAttributes attrs;
  XImage *image;
  unsigned long first;
  int varied = 0;

  if (!XGetWindowAttributes (dpy, id, &attrs) || attrs.map_state != IsViewable || attrs.width < 1)
    return 0;
  image = XGetImage (dpy, id, attrs.width / 2, 0, 1, attrs.height, AllPlanes, ZPixmap);
  if (image == NULL)
    return 0;
  first = XGetPixel (image, 0, 0);
  for (int y = 1; y < image->height && !varied; y++)
    varied = XGetPixel (image, 0, y) != first;
  XDestroyImage (image);
  return varied;
}

/* The CPU time all of @pid's threads have run, in seconds; -1 when
 * unknown. */
static double
cpu_seconds (pid_t pid)
{
  char path[64];
  unsigned long long total = 0;
  struct dirent *entry;
  DIR *dir;

  snprintf (path, sizeof path, "/proc/%d/task", (int) pid);
  dir = opendir (path);
  if (dir == NULL)
    return -1.0;
  while ((entry = readdir (dir)) != NULL)
    {
      char stat_path[sizeof path + sizeof entry->d_name + 16];
      unsigned long long ns;
      FILE *f;

      if (entry->d_name[0] == '.')
        continue;
      snprintf (stat_path, sizeof stat_path, "%s/%s/schedstat", path, entry->d_name);
      f = fopen (stat_path, "r");
      if (f == NULL)
        continue;
      if (fscanf (f, "%llu", &ns) == 1)
        total += ns;
      fclose (f);
    }
  closedir (dir);
  return total / 1e9;
}

static void
end_child (pid_t pid)
{
  kill (pid, SIGTERM);
  for (int i = 0; i < 50; i++)
    {
      if (waitpid (pid, NULL, WNOHANG) == pid)
        return;
      usleep (100000);
    }
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
}

int
main (int argc, char *argv[])
{
  double timeout = 30.0, start, mapped_at = -1.0;
  int event_base, error_base, argi = 1;
  Display *dpy;
  pid_t pid;

  if (argc > 2 && strcmp (argv[1], "--timeout") == 0)
    {
      timeout = atof (argv[2]);
      argi = 3;
    }
  if (argi >= argc || timeout <= 0)
    {
      fprintf (stderr, "usage: %s [--timeout SECONDS] PROGRAM [ARG...]\n", argv[0]);
      return 2;
    }

  dpy = XOpenDisplay (NULL);
  if (dpy == NULL)
    {
      fprintf (stderr, "watch-window: cannot open display %s\n", getenv ("DISPLAY") ? getenv ("DISPLAY") : "(unset)");
      return 2;
    }
  if (!XDamageQueryExtension (dpy, &event_base, &error_base))
    {
      fprintf (stderr, "watch-window: the X server has no DAMAGE extension\n");
      return 2;
    }
  XSetErrorHandler (ignore_x_error);
  XSelectInput (dpy, DefaultRootWindow (dpy), SubstructureNotifyMask);
  XSync (dpy, False);
  /* The program must not inherit our X connection. */
  fcntl (ConnectionNumber (dpy), F_SETFD, FD_CLOEXEC);

  start = now ();
  pid = fork ();
  if (pid < 0)
    {
      perror ("watch-window: fork");
      return 2;
    }
  if (pid == 0)
    {
      execvp (argv[argi], argv + argi);
      fprintf (stderr, "watch-window: cannot run %s: %s\n", argv[argi], strerror (errno));
      _exit (127);
    }

  for (;;)
    {
      struct pollfd pfd = { .fd = ConnectionNumber (dpy), .events = POLLIN };
      double left = start + timeout - now ();

      if (left <= 0)
        {
          fprintf (stderr, "watch-window: no window was painted within %.0f s\n", timeout);
          end_child (pid);
          return 1;
        }
      if (waitpid (pid, NULL, WNOHANG) == pid)
        {
          fprintf (stderr, "watch-window: %s exited before its window was painted\n", argv[argi]);
          return 1;
        }
      if (XPending (dpy) == 0)
        {
          /* Short polls: the child's exit is noticed between them. */
          poll (&pfd, 1, left > 0.1 ? 100 : (int) (left * 1000) + 1);
          continue;
        }

      XEvent ev;
      XNextEvent (dpy, &ev);
      if (ev.type == CreateNotify)
        watch (dpy, &ev.xcreatewindow);
      else if (ev.type == MapNotify && !ev.xmap.override_redirect)
        {
          Watched *w = find (ev.xmap.window);

          if (w != NULL)
            {
              w->mapped = 1;
              if (mapped_at < 0)
                mapped_at = now ();
            }
        }
      else if (ev.type == UnmapNotify)
        {
          Watched *w = find (ev.xunmap.window);

          if (w != NULL)
            w->mapped = 0;
        }
      else if (ev.type == event_base + XDamageNotify)
        {
          XDamageNotifyEvent *dev = (XDamageNotifyEvent *) &ev;
          Watched *w = find (dev->drawable);

          /* Drawing into an unmapped window shows nothing; the first
           * drawing on a mapped one is the window being seen. The time is
           * the event's arrival, before the check's own round trip. */
          if (w != NULL && w->mapped)
            {
              double painted_at = now ();
              double cpu = cpu_seconds (pid);

              if (!painted (dpy, w->id))
                continue;
              printf ("%.4f %.4f %.4f\n", mapped_at - start, painted_at - start, cpu);
              fflush (stdout);
              end_child (pid);
              XCloseDisplay (dpy);
              return 0;
            }
        }
    }
}
