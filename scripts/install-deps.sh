#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Shadowless needs to build, run its demo and run its
# tests. Idempotent: packages already present are not touched, so a warm machine pays only
# for one dpkg query. Runs apt-get through sudo when not root.
set -euo pipefail

packages=(
  # build: cgo codecs and libusb
  gcc pkg-config libvpx-dev libopenh264-dev libusb-1.0-0-dev
  # X11: the desktop we stream and the applications on it
  xvfb xauth x11-utils xterm fonts-dejavu-core
  # shadowless demo: a clock and eyes on the demo desktop, xsetroot for its background
  x11-apps x11-xserver-utils
  # asp/input tests type into a real GTK3 entry (python3 GTK3 bindings)
  python3-gi gir1.2-gtk-3.0
  # asp/clipboard tests exchange text with a real clipboard client
  xclip
  # real peers for the tests
  chromium qemu-system-x86 qemu-utils usbip litmus
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
