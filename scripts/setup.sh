#!/usr/bin/env bash
# Installs codehive's build and test dependencies from Debian 12 packages.
# Runs apt-get as root, through sudo otherwise. Installs only what is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libcaf-dev libcurl4-openssl-dev rapidjson-dev librocksdb-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev libcli11-dev libssl-dev
  libgit2-dev   # vcs/: the output folder's git history
  nodejs
  openssl iproute2   # the cluster tests: certificates for TLS, network namespaces (as root)
)
# Optional extras: clang for the fuzzer, chromium for the browser check.
if [[ "${CODEHIVE_WITH_FUZZ:-0}" == 1 ]]; then PACKAGES+=(clang libclang-rt-14-dev python3); fi
if [[ "${CODEHIVE_WITH_BROWSER:-0}" == 1 ]]; then PACKAGES+=(chromium); fi

missing=()
for p in "${PACKAGES[@]}"; do
  # nodejs may come from another repository (e.g. nodesource); any node will do.
  if [[ "$p" == nodejs ]] && command -v node >/dev/null 2>&1; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 2
  fi
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
