/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>

#include "unlock-log.h"

#define UNIT_PREFIX "systemd-cryptsetup@"
#define UNIT_SUFFIX ".service"

void
imprint_unlock_log_init (ImprintUnlockLog *l, const char *volume)
{
  *l = (ImprintUnlockLog) { .volume = g_strdup (volume) };
}

void
imprint_unlock_log_clear (ImprintUnlockLog *l)
{
  g_free (l->volume);
  g_free (l->detail);
  *l = (ImprintUnlockLog) { 0 };
}

const char *
imprint_unlock_reason_to_string (ImprintUnlockReason reason)
{
  switch (reason)
    {
    case IMPRINT_UNLOCK_REASON_NONE: return "";
    case IMPRINT_UNLOCK_REASON_UNKNOWN: return "unknown";
    case IMPRINT_UNLOCK_REASON_TPM_ERROR: return "tpm-error";
    case IMPRINT_UNLOCK_REASON_PCR_MISMATCH: return "pcr-mismatch";
    case IMPRINT_UNLOCK_REASON_SIGNATURE: return "signature";
    case IMPRINT_UNLOCK_REASON_NO_TPM: return "no-tpm";
    case IMPRINT_UNLOCK_REASON_PIN: return "pin";
    case IMPRINT_UNLOCK_REASON_LOCKOUT: return "lockout";
    }
  return "unknown";
}

static int
hexval (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

char *
imprint_unlock_unit_volume (const char *unit, size_t unit_len)
{
  const size_t pre = strlen (UNIT_PREFIX), suf = strlen (UNIT_SUFFIX);
  g_autoptr(GString) name = NULL;
  const char *p, *end;

  if (unit == NULL || unit_len <= pre + suf || unit_len > 512 ||
      memcmp (unit, UNIT_PREFIX, pre) != 0 || memcmp (unit + unit_len - suf, UNIT_SUFFIX, suf) != 0)
    return NULL;
  name = g_string_new (NULL);
  end = unit + unit_len - suf;
  /* unit_name_escape(): "\xNN" for a byte, "-" for "/". */
  for (p = unit + pre; p < end; p++)
    {
      int c = (unsigned char) *p;

      if (c == '\\')
        {
          int hi, lo;

          if (end - p < 4 || p[1] != 'x' || (hi = hexval (p[2])) < 0 || (lo = hexval (p[3])) < 0)
            return NULL;
          c = hi * 16 + lo;
          p += 3;
        }
      else if (c == '-')
        c = '/';
      if (c < 0x21 || c > 0x7e)
        return NULL;
      g_string_append_c (name, (char) c);
    }
  return g_string_free (g_steal_pointer (&name), FALSE);
}

static bool
has (const char *message, size_t len, const char *needle)
{
  return memmem (message, len, needle, strlen (needle)) != NULL;
}

/* The reason a message gives, NONE when it gives none. */
static ImprintUnlockReason
classify (const char *m, size_t n)
{
  if (has (m, n, "dictionary attack lock") || has (m, n, "lockout") || has (m, n, "lock-out"))
    return IMPRINT_UNLOCK_REASON_LOCKOUT;
  if (has (m, n, "TPM2 PIN unlock failed") || has (m, n, "Bad PIN") || has (m, n, "PIN is incorrect"))
    return IMPRINT_UNLOCK_REASON_PIN;
  if (has (m, n, "No TPM2 hardware discovered") || has (m, n, "TPM2 support not available") ||
      has (m, n, "TPM2 device not present"))
    return IMPRINT_UNLOCK_REASON_NO_TPM;
  /* v257 logs the signature lookup itself at debug level only; what the
   * journal gets is its ENXIO ("No such device or address") from the
   * unseal: seen in the VM with a UKI whose PCR 11 policy another key
   * signed (tests/vm/test_secure_boot.py). */
  if (has (m, n, "find signature for this PCR") || has (m, n, "No signature for current PCR policy") ||
      has (m, n, "Failed to load PCR signature") || has (m, n, "signature is not valid") ||
      has (m, n, "Failed to unseal secret using TPM2: No such device or address"))
    return IMPRINT_UNLOCK_REASON_SIGNATURE;
  if (has (m, n, "policy check failed") || has (m, n, "policy does not match current system state") ||
      has (m, n, "PCR values changed") || has (m, n, "PCR policy mismatch"))
    return IMPRINT_UNLOCK_REASON_PCR_MISMATCH;
  /* The fallbacks themselves: vaguer than the TPM library's reason that
   * comes before them. ENXIO from the token plugin: no token's policy
   * fits this boot. */
  if (has (m, n, "No TPM2 metadata matching the current system state"))
    return IMPRINT_UNLOCK_REASON_PCR_MISMATCH;
  if (has (m, n, "TPM2 operation failed") || has (m, n, "Failed to unseal"))
    return IMPRINT_UNLOCK_REASON_TPM_ERROR;
  return IMPRINT_UNLOCK_REASON_NONE;
}

static bool
is_fallback (const char *m, size_t n)
{
  /* "No TPM2 metadata enrolled": the volume has no TPM2 token at all; a
   * passphrase prompt is then what the person set up, not a failure. */
  return has (m, n, "falling back to traditional unlocking") && !has (m, n, "No TPM2 metadata enrolled");
}

/* Valid UTF-8, no control characters, at most IMPRINT_UNLOCK_DETAIL_MAX bytes. */
static char *
sanitise (const char *m, size_t n)
{
  g_autofree char *valid = g_utf8_make_valid (m, (gssize) MIN (n, (size_t) IMPRINT_UNLOCK_MAX_FIELD));
  GString *s = g_string_new (NULL);

  for (const char *p = valid; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      char buf[6];
      int len;

      if (g_unichar_iscntrl (c) || c == 0xFFFD)
        c = ' ';
      len = g_unichar_to_utf8 (c, buf);
      if (s->len + (size_t) len > IMPRINT_UNLOCK_DETAIL_MAX)
        break;
      g_string_append_len (s, buf, len);
    }
  return g_strstrip (g_string_free (s, FALSE));
}

void
imprint_unlock_log_add (ImprintUnlockLog *l, const char *unit, size_t unit_len,
                        const char *message, size_t message_len)
{
  g_autofree char *volume = NULL;
  ImprintUnlockReason reason;

  l->n_entries++;
  if (message == NULL || message_len == 0)
    return;
  volume = imprint_unlock_unit_volume (unit, unit_len);
  if (volume == NULL || l->volume == NULL || !g_str_equal (volume, l->volume))
    return;

  if (is_fallback (message, message_len))
    l->fallback = true;
  reason = classify (message, message_len);
  if (reason == IMPRINT_UNLOCK_REASON_NONE && is_fallback (message, message_len))
    reason = IMPRINT_UNLOCK_REASON_UNKNOWN;
  /* A later message keeps the reason only when it is more specific. */
  if (reason > l->reason)
    {
      l->reason = reason;
      g_free (l->detail);
      l->detail = sanitise (message, message_len);
    }
}

/* "FIELD=value" -> value; NULL when the entry lacks the field. */
static const char *
get_field (sd_journal *j, const char *field, size_t *ret_len)
{
  const void *data;
  size_t len, flen = strlen (field);

  if (sd_journal_get_data (j, field, &data, &len) < 0 || len <= flen || ((const char *) data)[flen] != '=')
    return NULL;
  *ret_len = MIN (len - flen - 1, (size_t) IMPRINT_UNLOCK_MAX_FIELD);
  return (const char *) data + flen + 1;
}

int
imprint_unlock_log_read_journal (ImprintUnlockLog *l, const char *directory)
{
  sd_journal *j = NULL;
  sd_id128_t boot;
  char match[64];
  int r;

  r = sd_id128_get_boot (&boot);
  if (r < 0)
    return r;
  if (directory != NULL)
    r = sd_journal_open_directory (&j, directory, 0);
  else
    r = sd_journal_open (&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
  if (r < 0)
    return r;
  (void) sd_journal_set_data_threshold (j, IMPRINT_UNLOCK_MAX_FIELD);
  g_snprintf (match, sizeof match, "_BOOT_ID=" SD_ID128_FORMAT_STR, SD_ID128_FORMAT_VAL (boot));
  r = sd_journal_add_match (j, match, 0);
  if (r >= 0)
    r = sd_journal_add_match (j, "SYSLOG_IDENTIFIER=systemd-cryptsetup", 0);
  if (r >= 0)
    r = sd_journal_seek_head (j);
  while (r >= 0 && l->n_entries < IMPRINT_UNLOCK_MAX_ENTRIES)
    {
      const char *unit, *message;
      size_t unit_len = 0, message_len = 0;

      r = sd_journal_next (j);
      if (r <= 0)
        break;
      unit = get_field (j, "_SYSTEMD_UNIT", &unit_len);
      message = get_field (j, "MESSAGE", &message_len);
      imprint_unlock_log_add (l, unit, unit_len, message, message_len);
    }
  sd_journal_close (j);
  return r < 0 ? r : 0;
}
