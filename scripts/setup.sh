#!/usr/bin/env bash
# Installs the system libraries Tessera links (hwloc for the host topology and thread pinning,
# libnuma for NUMA-local tile arenas, zlib for PNG input images) on a Debian machine. Idempotent; needs root.
set -euo pipefail
packages=(libhwloc-dev libnuma-dev zlib1g-dev pkg-config)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift is not on PATH (Swift 6.1 or newer is needed)" >&2; exit 1; }
