/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parsers of the option dictionaries callers send imprintd
 * (backend/shared/imprint-request.c): the input is taken as the serialized
 * a{sv} of each request (the first byte picks which), as GDBus hands the
 * daemon a caller's message. Whatever parses must also build again and
 * parse to the same. */
#include "config.h"

#include "fuzz.h"
#include "imprint-request.h"

static void
fuzz_install (GVariant *v)
{
  g_auto(ImprintInstallRequest) r = { 0 }, again = { 0 };
  g_autoptr(GVariant) built = NULL;

  imprint_install_request_init (&r);
  imprint_install_request_init (&again);
  if (!imprint_install_request_from_variant (v, &r, NULL))
    return;
  built = g_variant_ref_sink (imprint_install_request_to_variant (&r));
  if (!imprint_install_request_from_variant (built, &again, NULL))
    abort ();
}

static void
fuzz_setup (GVariant *v)
{
  g_auto(ImprintSetupRequest) r = { 0 };
  g_autoptr(GVariant) settings = NULL, options = NULL;
  GVariant *s = NULL, *o = NULL;

  imprint_setup_request_init (&r);
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_VARDICT))
    return;
  /* The same bytes as settings and as options. */
  if (!imprint_setup_request_from_variant (v, v, &r, NULL))
    return;
  imprint_setup_request_to_variant (&r, &s, &o);
  settings = g_variant_ref_sink (s);
  options = g_variant_ref_sink (o);
  imprint_setup_request_clear (&r);
  if (!imprint_setup_request_from_variant (settings, options, &r, NULL))
    abort ();
}

static void
fuzz_enroll (GVariant *v)
{
  g_auto(ImprintEnrollRequest) r = { 0 };
  g_auto(ImprintListDisksRequest) l = { 0 };
  g_auto(ImprintSecurityRequest) s = { 0 };
  g_auto(ImprintFactoryResetRequest) f = { 0 };

  imprint_enroll_request_init (&r);
  imprint_list_disks_request_init (&l);
  imprint_security_request_init (&s);
  imprint_factory_reset_request_init (&f);
  (void) imprint_enroll_request_from_variant (v, &r, NULL);
  (void) imprint_list_disks_request_from_variant (v, &l, NULL);
  (void) imprint_security_request_from_variant (v, &s, NULL);
  (void) imprint_factory_reset_request_from_variant (v, &f, NULL);
}

static void
fuzz_plan (GVariant *v)
{
  g_auto(ImprintPlanInfo) p = { 0 };

  imprint_plan_info_init (&p);
  (void) imprint_plan_info_from_variant (v, &p, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GVariant) v = NULL;

  if (size < 1)
    return 0;
  /* A copy: GVariant may keep pointers into the data, and libFuzzer's
   * buffer is only valid during the call. */
  bytes = g_bytes_new (data + 1, size - 1);
  v = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));
  switch (data[0] % 4)
    {
    case 0: fuzz_install (v); break;
    case 1: fuzz_setup (v); break;
    case 2: fuzz_enroll (v); break;
    default: fuzz_plan (v); break;
    }
  return 0;
}
