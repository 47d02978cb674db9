/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "soft-ctaphid.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define CTAPHID_PING      0x01
#define CTAPHID_MSG       0x03
#define CTAPHID_INIT      0x06
#define CTAPHID_WINK      0x08
#define CTAPHID_CBOR      0x10
#define CTAPHID_CANCEL    0x11
#define CTAPHID_KEEPALIVE 0x3B
#define CTAPHID_ERROR     0x3F

#define ERR_INVALID_CMD     0x01
#define ERR_INVALID_PAR     0x02
#define ERR_INVALID_LEN     0x03
#define ERR_INVALID_SEQ     0x04
#define ERR_CHANNEL_BUSY    0x06
#define ERR_INVALID_CHANNEL 0x0B
#define ERR_OTHER           0x7F

#define CAPABILITY_WINK 0x01
#define CAPABILITY_CBOR 0x04
#define CAPABILITY_NMSG 0x08

#define BROADCAST_CID 0xffffffffU
#define INIT_DATA_LEN (SOFT_CTAPHID_REPORT_LEN - 7)
#define CONT_DATA_LEN (SOFT_CTAPHID_REPORT_LEN - 5)
#define MAX_MSG_LEN (INIT_DATA_LEN + 128 * CONT_DATA_LEN)

struct SoftCtapHid {
  SoftFido2 *sk;
  SoftCtapHidSendFunc send;
  void *userdata;
  uint32_t last_cid;

  /* request being assembled */
  bool assembling;
  uint32_t cid;
  uint8_t cmd;
  size_t len, have;
  uint8_t next_seq;
  uint8_t buf[MAX_MSG_LEN];

  /* request being processed */
  bool busy;
  uint32_t busy_cid;
};

static uint32_t
get_cid (const uint8_t *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static void
put_cid (uint8_t *p, uint32_t cid)
{
  p[0] = (uint8_t) (cid >> 24);
  p[1] = (uint8_t) (cid >> 16);
  p[2] = (uint8_t) (cid >> 8);
  p[3] = (uint8_t) cid;
}

static void
send_message (SoftCtapHid *h, uint32_t cid, uint8_t cmd, const uint8_t *data, size_t len)
{
  uint8_t report[SOFT_CTAPHID_REPORT_LEN];
  size_t off, n;

  memset (report, 0, sizeof (report));
  put_cid (report, cid);
  report[4] = 0x80 | cmd;
  report[5] = (uint8_t) (len >> 8);
  report[6] = (uint8_t) len;
  n = len < INIT_DATA_LEN ? len : INIT_DATA_LEN;
  if (n > 0)
    memcpy (report + 7, data, n);
  h->send (report, h->userdata);
  off = n;

  for (uint8_t seq = 0; off < len; seq++)
    {
      memset (report, 0, sizeof (report));
      put_cid (report, cid);
      report[4] = seq;
      n = len - off < CONT_DATA_LEN ? len - off : CONT_DATA_LEN;
      memcpy (report + 5, data + off, n);
      h->send (report, h->userdata);
      off += n;
    }
  OPENSSL_cleanse (report, sizeof (report));
}

static void
send_error (SoftCtapHid *h, uint32_t cid, uint8_t code)
{
  send_message (h, cid, CTAPHID_ERROR, &code, 1);
}

static bool
cid_valid (SoftCtapHid *h, uint32_t cid)
{
  return cid != 0 && cid != BROADCAST_CID && cid <= h->last_cid;
}

static void
handle_init (SoftCtapHid *h, uint32_t cid, const uint8_t *nonce, size_t len)
{
  uint8_t resp[17];
  uint32_t new_cid;

  if (len != 8)
    {
      send_error (h, cid, ERR_INVALID_LEN);
      return;
    }
  /* On the broadcast channel INIT allocates a channel; on an existing one it
   * resynchronises it. */
  new_cid = cid == BROADCAST_CID ? ++h->last_cid : cid;

  memcpy (resp, nonce, 8);
  put_cid (resp + 8, new_cid);
  resp[12] = 2;       /* CTAPHID protocol version */
  resp[13] = 0;       /* device version major, minor, build */
  resp[14] = 1;
  resp[15] = 0;
  resp[16] = CAPABILITY_WINK | CAPABILITY_CBOR | CAPABILITY_NMSG;
  send_message (h, cid, CTAPHID_INIT, resp, sizeof (resp));
}

static void
process (SoftCtapHid *h)
{
  uint32_t cid = h->cid;
  uint8_t *resp = NULL;
  size_t resp_len = 0;

  h->assembling = false;

  switch (h->cmd)
    {
    case CTAPHID_INIT:
      handle_init (h, cid, h->buf, h->len);
      break;
    case CTAPHID_PING:
      send_message (h, cid, CTAPHID_PING, h->buf, h->len);
      break;
    case CTAPHID_WINK:
      send_message (h, cid, CTAPHID_WINK, NULL, 0);
      break;
    case CTAPHID_CANCEL:
      /* nothing in progress: no response */
      break;
    case CTAPHID_CBOR:
      if (h->len == 0)
        {
          send_error (h, cid, ERR_INVALID_LEN);
          break;
        }
      h->busy = true;
      h->busy_cid = cid;
      if (h->buf[0] == 0x01 || h->buf[0] == 0x02)
        soft_ctaphid_send_keepalive (h, 1);
      if (soft_fido2_handle_cbor (h->sk, h->buf, h->len, &resp, &resp_len) < 0)
        send_error (h, cid, ERR_OTHER);
      else
        send_message (h, cid, CTAPHID_CBOR, resp, resp_len);
      h->busy = false;
      if (resp != NULL)
        OPENSSL_cleanse (resp, resp_len);
      free (resp);
      break;
    default:
      send_error (h, cid, ERR_INVALID_CMD);
      break;
    }
  OPENSSL_cleanse (h->buf, h->len);
}

void
soft_ctaphid_handle_report (SoftCtapHid *h, const uint8_t report[SOFT_CTAPHID_REPORT_LEN])
{
  uint32_t cid = get_cid (report);
  size_t n;

  if (cid == 0)
    return;

  if (report[4] & 0x80)
    {
      uint8_t cmd = report[4] & 0x7f;
      size_t len = (size_t) report[5] << 8 | report[6];

      if (cmd == CTAPHID_INIT)
        {
          /* INIT aborts any transaction on its channel. */
          if (h->assembling && h->cid == cid)
            h->assembling = false;
        }
      else
        {
          if (cid == BROADCAST_CID || !cid_valid (h, cid))
            {
              send_error (h, cid, ERR_INVALID_CHANNEL);
              return;
            }
          if (cmd == CTAPHID_CANCEL)
            {
              if (h->assembling && h->cid == cid)
                h->assembling = false;
              return;
            }
        }

      if (h->assembling && h->cid != cid)
        {
          send_error (h, cid, ERR_CHANNEL_BUSY);
          return;
        }
      if (len > MAX_MSG_LEN)
        {
          send_error (h, cid, ERR_INVALID_LEN);
          return;
        }

      h->assembling = true;
      h->cid = cid;
      h->cmd = cmd;
      h->len = len;
      h->next_seq = 0;
      n = len < INIT_DATA_LEN ? len : INIT_DATA_LEN;
      memcpy (h->buf, report + 7, n);
      h->have = n;
    }
  else
    {
      if (!h->assembling || h->cid != cid)
        return;   /* spurious continuation: ignored */
      if (report[4] != h->next_seq)
        {
          h->assembling = false;
          send_error (h, cid, ERR_INVALID_SEQ);
          return;
        }
      h->next_seq++;
      n = h->len - h->have < CONT_DATA_LEN ? h->len - h->have : CONT_DATA_LEN;
      memcpy (h->buf + h->have, report + 5, n);
      h->have += n;
    }

  if (h->have == h->len)
    process (h);
}

void
soft_ctaphid_handle_report_while_busy (SoftCtapHid *h, const uint8_t report[SOFT_CTAPHID_REPORT_LEN])
{
  uint32_t cid = get_cid (report);

  if (!h->busy)
    {
      soft_ctaphid_handle_report (h, report);
      return;
    }
  if (!(report[4] & 0x80))
    return;
  if (cid == h->busy_cid && (report[4] & 0x7f) == CTAPHID_CANCEL)
    soft_fido2_cancel (h->sk);
  else if (cid != h->busy_cid)
    send_error (h, cid, ERR_CHANNEL_BUSY);
}

void
soft_ctaphid_send_keepalive (SoftCtapHid *h, uint8_t status)
{
  if (h->busy)
    send_message (h, h->busy_cid, CTAPHID_KEEPALIVE, &status, 1);
}

SoftCtapHid *
soft_ctaphid_new (SoftFido2 *sk, SoftCtapHidSendFunc send, void *userdata)
{
  SoftCtapHid *h = calloc (1, sizeof (*h));

  if (h == NULL)
    return NULL;
  h->sk = sk;
  h->send = send;
  h->userdata = userdata;
  return h;
}

void
soft_ctaphid_free (SoftCtapHid *h)
{
  if (h == NULL)
    return;
  OPENSSL_cleanse (h, sizeof (*h));
  free (h);
}

SoftFido2 *
soft_ctaphid_get_authenticator (SoftCtapHid *h)
{
  return h->sk;
}
