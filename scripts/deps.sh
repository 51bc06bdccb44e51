#!/usr/bin/env bash
# Install the Debian packages gpubridge needs, or say exactly how.
#
#   scripts/deps.sh          packages to build and test (make demo, make check)
#   scripts/deps.sh bench    plus the peer systems the benchmarks race against
#
# As root, missing packages are installed (apt-get update once, then
# apt-get install -y). As another user, the exact command is printed and the
# script exits 1.
set -euo pipefail

core=(cmake make gcc pkg-config libc6-dev
      libcriterion-dev       # tests
      libxxhash-dev          # the hash (used inline, no link dependency)
      ocl-icd-libopencl1     # OpenCL ICD loader, opened with dlopen at run time
      ocl-icd-opencl-dev opencl-headers
      pocl-opencl-icd        # OpenCL on the CPU: how device code runs in tests here
      )
bench=(g++ libck-dev libcaf-dev erlang-base)

wanted=("${core[@]}")
case "${1:-}" in
    "" | core) ;;
    bench) wanted+=("${bench[@]}") ;;
    *) echo "usage: scripts/deps.sh [core|bench]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
    echo "gpubridge needs these Debian packages; run as root:" >&2
    echo "  apt-get update && $cmd" >&2
    exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
