#!/usr/bin/env bash
# Installs the Debian 12 packages skillstore builds, tests and benchmarks with.
#
# Idempotent and quick when everything is present: dpkg is asked first, and
# apt-get (update + install) runs only for the packages that are missing.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  # RPC and storage
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libsqlite3-dev sqlite3 libabsl-dev
  # skillctl: SHA-256 (libcrypto) for idempotency keys
  libssl-dev
  # logging, command lines, tests
  libspdlog-dev libcli11-dev libgtest-dev libgmock-dev
  # the skill engine
  libcmark-gfm-dev libcmark-gfm-extensions-dev libyaml-cpp-dev
  nlohmann-json3-dev libvalijson-dev libre2-dev
  # test tools: systemd-analyze for unit checks, python3-yaml for manifests,
  # iproute2 for network namespaces, curl for /metrics, npm for the buf CLI
  systemd python3 python3-yaml iproute2 curl openssl
)
# Node.js images often ship npm inside their own nodejs package, which conflicts
# with Debian's npm: ask for Debian's only when no npm is on the PATH.
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${#missing[@]} missing Debian packages: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else
    echo "install-deps: not root and no sudo; install these packages first: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
