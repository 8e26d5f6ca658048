#!/usr/bin/env bash
# Installs the Debian packages given after the label that are not installed
# yet (nothing when all are), with sudo when not root; the package lists are
# refreshed only when a first install from the current lists fails.
# Usage: bash scripts/apt-install-missing.sh LABEL PACKAGE...
# Run by scripts/deps.sh and bench/deps.sh.
set -euo pipefail

label=$1
shift
missing=()
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "$label: installing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
