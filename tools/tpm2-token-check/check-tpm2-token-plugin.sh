#!/bin/bash
# Checks that the systemd-tpm2 tokens Imprint writes are unlocked by the
# token plugin of ANOTHER systemd version than the host's, e.g. Debian 13's
# systemd 257: the CI unit tests already prove it for the host's (252).
#
#   tools/tpm2-token-check/check-tpm2-token-plugin.sh BUILDDIR [ROOT]
#
# ROOT: a directory holding that distribution's root filesystem with
# systemd-cryptsetup (the plugins), the tpm2-tss libraries systemd dlopens
# (esys, rc, mu, tctildr, the swtpm TCTI), libcryptsetup-dev and gcc; made on the first run with mmdebstrap (Debian 13) when
# missing. Needs root (chroot), swtpm on the host. Not part of "meson test":
# it downloads a distribution.
set -euo pipefail

builddir=$(realpath "$1")
root=${2:-/var/tmp/imprint-trixie-root}
here=$(dirname "$(realpath "$0")")

if [ ! -x "$root/usr/bin/gcc" ]; then
  mkdir -p "$root"
  mmdebstrap --variant=minbase \
    --include=systemd-cryptsetup,libcryptsetup-dev,gcc,libc6-dev,libtss2-esys-3.0.2-0t64,libtss2-rc0t64,libtss2-mu-4.0.1-0t64,libtss2-tcti-swtpm0t64,libtss2-tctildr0t64 \
    trixie "$root" http://deb.debian.org/debian
fi

work=$(mktemp -d /var/tmp/imprint-token-check-XXXXXX)
swtpm_pid=
cleanup() {
  [ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null || true
  rm -rf "$work" "$root/tmp/imprint-token-check"
}
trap cleanup EXIT

# 1. The host's Imprint enrolls five tokens on a fresh swtpm: PCR 7, PCR 7 +
#    PIN "2468", no PCRs, PCRs 0+7 on the SHA-384 bank under the RSA
#    primary, PCR 7 + a signed PCR 11 policy (and its signature file).
IMPRINT_TEST_EXPORT_DIR=$work "$builddir/backend/crypt/test-tpm2-luks" -p /tpm2/luks-token >/dev/null

# 2. Restart swtpm on the same state: same seeds, PCRs back to their
#    values at sealing time (all zero on a fresh swtpm).
port=$((20000 + (RANDOM % 10000) * 2))
mkdir -p "$work/state"
mv "$work/tpm2-00.permall" "$work/state/"
swtpm socket --tpm2 --server type=tcp,port=$port,bindaddr=127.0.0.1 \
  --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
  --flags not-need-init,startup-clear --tpmstate dir="$work/state" &
swtpm_pid=$!
sleep 1

# 3. Inside the other root: build the checker, open both tokens.
mkdir -p "$root/tmp/imprint-token-check"
cp "$here/check-token.c" "$work/disk.img" "$work/tpm2-pcr-signature.json" "$root/tmp/imprint-token-check/"
chroot "$root" gcc -o /tmp/imprint-token-check/check-token /tmp/imprint-token-check/check-token.c -lcryptsetup
tcti="swtpm:host=127.0.0.1,port=$port"
echo "systemd in $root: $(chroot "$root" dpkg-query -W -f='${Version}' systemd-cryptsetup 2>/dev/null || echo '?')"

run() { chroot "$root" /tmp/imprint-token-check/check-token /tmp/imprint-token-check/disk.img "$tcti" "$@" 2>/dev/null; }

fail=0
r=$(run 0 -) && echo "token 0 (no PIN): opened keyslot $r" || { echo "token 0 (no PIN): FAILED ($r)"; fail=1; }
r=$(run 1 -) || true; [ "$r" = "-$(( 55 ))" ] && echo "token 1 without PIN: asks for it (-ENOANO)" || { echo "token 1 without PIN: unexpected $r"; fail=1; }
r=$(run 1 2468) && echo "token 1 (PIN): opened keyslot $r" || { echo "token 1 (PIN): FAILED ($r)"; fail=1; }
r=$(run 2 -) && echo "token 2 (no PCRs): opened keyslot $r" || { echo "token 2 (no PCRs): FAILED ($r)"; fail=1; }
r=$(run 3 -) && echo "token 3 (PCRs 0+7, sha384, RSA primary): opened keyslot $r" || { echo "token 3 (sha384): FAILED ($r)"; fail=1; }
r=$(run 4 - /tmp/imprint-token-check/tpm2-pcr-signature.json) && echo "token 4 (PCR 7 + signed PCR 11 policy): opened keyslot $r" || { echo "token 4 (signed policy): FAILED ($r)"; fail=1; }
r=$(run 4 -) || true; [ "$r" -lt 0 ] && echo "token 4 without the signature: refused ($r)" || { echo "token 4 without signature: unexpected $r"; fail=1; }
exit $fail
