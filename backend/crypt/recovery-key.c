/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "macros.h"
#include "recovery-key.h"
#include "secret.h"
#include "random.h"

static const char modhex_alphabet[16] = "cbdefghijklnrtuv";

static int
modhex_value (char c)
{
  const char *p = memchr (modhex_alphabet, c, sizeof (modhex_alphabet));
  return p ? (int) (p - modhex_alphabet) : -EINVAL;
}

/* Formats 32 bytes: two chars per byte, a dash after each group of 8. */
static char *
format_key (const unsigned char bytes[IMPRINT_RECOVERY_KEY_BYTES])
{
  char *s = imprint_secret_alloc (IMPRINT_RECOVERY_KEY_LENGTH + 1), *p = s;

  if (!s)
    return NULL;

  for (size_t i = 0; i < IMPRINT_RECOVERY_KEY_BYTES; i++)
    {
      *p++ = modhex_alphabet[bytes[i] >> 4];
      *p++ = modhex_alphabet[bytes[i] & 0xf];
      if (i % 4 == 3 && i + 1 < IMPRINT_RECOVERY_KEY_BYTES)
        *p++ = '-';
    }
  *p = '\0';
  return s;
}

int
imprint_recovery_key_generate (char **ret)
{
  unsigned char bytes[IMPRINT_RECOVERY_KEY_BYTES];
  char *s;
  int r;

  r = imprint_random_bytes (bytes, sizeof (bytes));
  if (r < 0)
    return r;

  s = format_key (bytes);
  explicit_bzero (bytes, sizeof (bytes));
  if (!s)
    return -ENOMEM;

  *ret = s;
  return 0;
}

int
imprint_recovery_key_normalize (const char *input, char **ret)
{
  unsigned char bytes[IMPRINT_RECOVERY_KEY_BYTES];
  size_t nibbles = 0;
  bool last_was_dash = true; /* a leading dash is not allowed */
  char *s;

  if (!input)
    return -EINVAL;

  for (const char *p = input; *p; p++)
    {
      char c = *p;
      int v;

      if (isspace ((unsigned char) c))
        continue;

      if (c == '-')
        {
          /* Dashes only between full groups of 8 characters. */
          if (last_was_dash || nibbles % 8 != 0 || nibbles == 0)
            goto invalid;
          last_was_dash = true;
          continue;
        }

      if (nibbles >= IMPRINT_RECOVERY_KEY_BYTES * 2)
        goto invalid;

      v = modhex_value ((char) tolower ((unsigned char) c));
      if (v < 0)
        goto invalid;

      if (nibbles % 2 == 0)
        bytes[nibbles / 2] = (unsigned char) (v << 4);
      else
        bytes[nibbles / 2] |= (unsigned char) v;
      nibbles++;
      last_was_dash = false;
    }

  if (nibbles != IMPRINT_RECOVERY_KEY_BYTES * 2 || last_was_dash)
    goto invalid;

  s = format_key (bytes);
  explicit_bzero (bytes, sizeof (bytes));
  if (!s)
    return -ENOMEM;

  *ret = s;
  return 0;

invalid:
  explicit_bzero (bytes, sizeof (bytes));
  return -EINVAL;
}

bool
imprint_recovery_key_is_valid (const char *s)
{
  if (!s || strlen (s) != IMPRINT_RECOVERY_KEY_LENGTH)
    return false;

  for (size_t i = 0; i < IMPRINT_RECOVERY_KEY_LENGTH; i++)
    {
      if (i % 9 == 8)
        {
          if (s[i] != '-')
            return false;
        }
      else if (modhex_value (s[i]) < 0)
        return false;
    }
  return true;
}
