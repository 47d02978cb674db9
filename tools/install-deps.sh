#!/bin/sh
# Installs every build and test dependency of Imprint on a fresh Debian 12
# (or newer) machine. Idempotent. Run as root.
set -eu

if [ "$(id -u)" != 0 ]; then
  exec sudo "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive

# Build
PKGS="
  build-essential meson ninja-build pkg-config gettext itstool
  libglib2.0-dev libglib2.0-bin libjson-glib-dev
  libgtk-4-dev libadwaita-1-dev libqrencode-dev
  libcryptsetup-dev libdevmapper-dev libtss2-dev libfido2-dev libcbor-dev libssl-dev
  libblkid-dev libfdisk-dev libmount-dev libudev-dev libsystemd-dev
  libpolkit-gobject-1-dev libpwquality-dev
  scdoc desktop-file-utils appstream
  libcrypt-dev
"
# Tests
PKGS="$PKGS
  dbus dbus-x11 python3-dbusmock python3-gi gir1.2-glib-2.0
  util-linux mount fdisk e2fsprogs dosfstools mtools ntfs-3g cryptsetup-bin
  util-linux fdisk e2fsprogs dosfstools mtools cryptsetup-bin cracklib-runtime
  swtpm swtpm-tools tpm2-tools
  xvfb xauth
  at-spi2-core python3-pyatspi gir1.2-atspi-2.0
  tzdata xkb-data locales
  qemu-system-x86 qemu-utils ovmf mmdebstrap
  fonts-cantarell fonts-noto-core fonts-wqy-microhei adwaita-icon-theme
"
# imprintd at run time: ntfs-3g (ntfsresize, ntfscat) to look at and shrink
# Windows' NTFS for an install beside it; the tests make NTFS with mkntfs.
PKGS="$PKGS ntfs-3g"
# tests/security/test_polkit_rules.py: a JavaScript engine for data/*.rules.
# tools/demo --vm: QEMU's GTK window.
PKGS="$PKGS nodejs qemu-system-gui"
# Install engine tests and tools/bench-copy: source image generator
# (systemd-repart, squashfs, systemd-boot's EFI binary and stub), checks
# (systemd-dissect, veritysetup, sfdisk, blkid), mtools for FAT without
# mounting.
PKGS="$PKGS
  systemd systemd-container systemd-boot-efi squashfs-tools openssl
  binutils python3 bc
"
# tools/screenshots: the heal notification as a notification server draws
# it (dunst on the Xvfb screen, its window saved with xwd and netpbm).
PKGS="$PKGS dunst x11-apps netpbm"
# tools/bench-startup: its watcher sees the window mapped and painted
# (Xlib, the X DAMAGE extension).
PKGS="$PKGS libx11-dev libxdamage-dev"
# tests/integration/test_unlock_status.py writes real journal files (what
# systemd-cryptsetup logged at boot) with systemd-journal-remote.
PKGS="$PKGS
  systemd-journal-remote
"
# tools/run-fuzz: clang with libFuzzer and the sanitizer runtimes (split out
# of clang into libclang-rt-N-dev; which N depends on the release, below).
PKGS="$PKGS
  clang llvm
"

apt-get update -qq

# systemd's LUKS2 token plugins (libcryptsetup-token-systemd-*.so): part of
# "systemd" on Debian 12, split into "systemd-cryptsetup" from Debian 13.
# The crypt tests unlock Imprint's tokens through them.
if apt-cache show systemd-cryptsetup >/dev/null 2>&1; then
  PKGS="$PKGS systemd-cryptsetup"
fi
# The runtime that goes with the default clang: libclang-rt-14-dev on
# Debian 12, the libclang-rt-dev metapackage on newer releases.
if apt-cache show libclang-rt-dev >/dev/null 2>&1; then
  PKGS="$PKGS libclang-rt-dev"
else
  PKGS="$PKGS libclang-rt-14-dev"
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $PKGS

# The UI and integration tests check that imprintd answers in the caller's
# language (its "locale" option), which needs that locale to exist.
if ! locale -a 2>/dev/null | grep -qx 'de_DE.utf8'; then
  localedef -i de_DE -c -f UTF-8 de_DE.UTF-8
fi
