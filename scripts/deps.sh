#!/usr/bin/env bash
# Install the Debian packages portwall's build, tests and `make deb` need;
# `deps.sh bench` also those `make bench-live` compares portwall with.
# Idempotent: quiet and fast when everything is already present. As a
# non-root user it only lists what is missing and how to install it.
set -euo pipefail

PKGS=(make gcc clang llvm libbpf-dev libelf-dev zlib1g-dev pkg-config bpftool iproute2 valgrind jq man-db
      python3 python3-scapy python3-yaml util-linux dnsmasq-base libsystemd-dev libjansson-dev libsmartcols-dev libmicrohttpd-dev debhelper dpkg-dev fakeroot lintian
      ansible-core)
if [ "${1:-}" = bench ]; then
    PKGS+=(nftables iptables xdp-tools ethtool gnuplot-nox procps util-linux)
fi

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    # Not root: say what is missing and go on. The build fails by itself,
    # naming the tool or header, if one of them is truly needed.
    echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
    echo "deps.sh: to install them: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    echo "deps.sh: (or run make as root); going on without them" >&2
    exit 0
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
