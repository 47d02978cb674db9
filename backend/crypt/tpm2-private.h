/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between the files of the TPM2 code (tpm2.c, tpm2-device.c,
 * tpm2-policy.c, tpm2-token.c); not part of its API. */

#include <stdbool.h>
#include <stdint.h>
#include <tss2/tss2_esys.h>

#include "tpm2.h"

struct ImprintTpm2 {
  TSS2_TCTI_CONTEXT *tcti;
  ESYS_CONTEXT *esys;
  char *tcti_conf;
};

/* What a policy consists of, in systemd's order: [PolicyAuthorize over a
 * signed PolicyPCR] -> PolicyPCR(current values) -> [PolicyAuthValue]. */
typedef struct {
  uint32_t pcr_mask;
  uint16_t bank;
  bool pin;
  const char *pubkey_pem;      /* signed PCR policy, or NULL */
  uint32_t pubkey_pcr_mask;
  const char *signature_json;  /* real sessions with a pubkey */
} ImprintTpm2PolicySpec;

/* tpm2.c: a TSS2 response code as a negative errno (logged, decoded);
 * flushing a handle (ESYS_TR_NONE afterwards; failures ignored); a PCR
 * selection of one bank. */
int imprint_tpm2_tss_error (TSS2_RC rc, const char *what);
void imprint_tpm2_flush (ImprintTpm2 *t, ESYS_TR *h);
void imprint_tpm2_pcr_selection (uint32_t mask, uint16_t bank, TPML_PCR_SELECTION *ret);

/* tpm2-policy.c: runs the policy of @spec in @session (a trial one: only
 * the digest), a policy session bound to @tpm_key, and a trial run. */
int imprint_tpm2_apply_policy (ImprintTpm2 *t, ESYS_TR session, bool trial, const ImprintTpm2PolicySpec *spec,
                               uint8_t ret_digest[TPM2_SHA256_DIGEST_SIZE]);
int imprint_tpm2_start_policy_session (ImprintTpm2 *t, ESYS_TR tpm_key, TPM2_SE type, ESYS_TR *ret);
int imprint_tpm2_trial_policy (ImprintTpm2 *t, const ImprintTpm2PolicySpec *spec, uint8_t ret[TPM2_SHA256_DIGEST_SIZE]);
