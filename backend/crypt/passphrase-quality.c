/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <glib.h>
#include <glib/gi18n.h>
#include <pwquality.h>
#include <string.h>

#include "macros.h"
#include "passphrase-quality.h"

static void
pwquality_settings_freep (pwquality_settings_t **p)
{
  if (*p)
    pwquality_free_settings (*p);
}

int
imprint_passphrase_quality (const char *passphrase, int *ret_score, char **ret_message)
{
  _cleanup_ (pwquality_settings_freep) pwquality_settings_t *settings = NULL;
  char buf[PWQ_MAX_ERROR_MESSAGE_LEN];
  const char *msg;
  void *auxerror = NULL;
  char *m;
  int r;

  if (!passphrase || !ret_score || !ret_message)
    return -EINVAL;

  settings = pwquality_default_settings ();
  if (!settings)
    return -ENOMEM;

  /* A missing or broken pwquality.conf is not fatal: the defaults apply. */
  (void) pwquality_read_config (settings, NULL, NULL);

  r = pwquality_check (settings, passphrase, NULL, NULL, &auxerror);
  if (r == PWQ_ERROR_MEM_ALLOC)
    return -ENOMEM;

  /* A missing cracklib dictionary makes every passphrase fail the
   * dictionary check. Tell that apart from a real dictionary hit with a
   * random canary that no dictionary holds; if the canary fails too, rate
   * without the dictionary rather than refuse everything. */
  if (r == PWQ_ERROR_CRACKLIB_CHECK)
    {
      void *aux2 = NULL;
      char canary[] = "Qz7#vK2m!Rt9xLp4&Wn";
      int c = pwquality_check (settings, canary, NULL, NULL, &aux2);

      pwquality_strerror (buf, sizeof (buf), c, aux2); /* frees aux2 */
      if (c == PWQ_ERROR_CRACKLIB_CHECK)
        {
          g_info ("cracklib dictionary unusable, rating passphrases without it");
          pwquality_strerror (buf, sizeof (buf), r, auxerror); /* frees auxerror */
          auxerror = NULL;
          (void) pwquality_set_int_value (settings, PWQ_SETTING_DICT_CHECK, 0);
          r = pwquality_check (settings, passphrase, NULL, NULL, &auxerror);
          if (r == PWQ_ERROR_MEM_ALLOC)
            return -ENOMEM;
        }
    }

  if (r >= 0)
    msg = "";
  else
    /* pwquality_strerror() frees auxerror and translates through its own
     * gettext domain, so the message follows the caller's locale. */
    msg = pwquality_strerror (buf, sizeof (buf), r, auxerror);

  m = strdup (msg ? msg : "");
  explicit_bzero (buf, sizeof (buf));
  if (!m)
    return -ENOMEM;

  *ret_score = r >= 0 ? r : -1;
  *ret_message = m;
  return 0;
}

const char *
imprint_passphrase_keyboard_warning (const char *passphrase)
{
  bool layout_dependent = false;

  if (!passphrase)
    return NULL;

  for (const unsigned char *p = (const unsigned char *) passphrase; *p; p++)
    {
      if (*p >= 0x80 || *p < 0x20)
        return _("This passphrase has characters that may be impossible to type when the computer "
                 "starts: the boot prompt uses the US keyboard layout unless your keymap is in the "
                 "initrd.");
      /* Digits and space are where they are on every common layout. */
      if (!g_ascii_isdigit (*p) && *p != ' ')
        layout_dependent = true;
    }

  if (layout_dependent)
    return _("When the computer starts, the passphrase is typed with the US keyboard layout unless "
             "your keymap is in the initrd. Make sure you can type it that way.");
  return NULL;
}
