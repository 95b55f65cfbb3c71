#!/usr/bin/env bash
# Seal/unseal throughput on a 1 GiB file in tmpfs, next to the AES-256-GCM
# floor from `openssl speed` measured in the same run.
#
#   bench/seal.sh BUILD_DIR [SIZE_MIB]
#
# Targets: single-thread unseal >= 0.85 of openssl's single-core
# aes-256-gcm figure (16 KiB blocks); two threads >= 1.7x one thread.
# openssl speed measures *encryption*; unseal is decryption plus
# authentication of the header and digest, so the comparison is slightly
# unfavourable to us.  Wall-clock ratios use `openssl speed -elapsed`; the
# bracketed CPU-time ratios use openssl's default (CPU time) and hold up
# better on a busy machine.  The load average is printed for that reason.
set -euo pipefail
build=${1:?usage: bench/seal.sh BUILD_DIR [SIZE_MIB]}
size_mib=${2:-1024}
exe="$build/bench/bench_seal"
[[ -x "$exe" ]] || { echo "seal.sh: $exe not built" >&2; exit 1; }

# tmpfs keeps the disk out of the measurement; fall back to $TMPDIR.
dir=""
if [[ -d /dev/shm && -w /dev/shm ]]; then
  dir=$(mktemp -d /dev/shm/cachet-bench-XXXXXX)
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/cachet-bench-XXXXXX")
fi
trap 'rm -rf "$dir"' EXIT

# 16384-byte column, in 1000s of bytes per second -> GB/s.
gcm_speed() {
  openssl speed "$@" -seconds 3 -bytes 16384 -evp aes-256-gcm 2>/dev/null |
    awk '/^AES-256-GCM/ {v = $NF; sub(/k$/, "", v); printf "%.3f\n", v * 1000 / 1e9}'
}
floor_wall=$(gcm_speed -elapsed)
floor_cpu=$(gcm_speed)
[[ -n "$floor_wall" && -n "$floor_cpu" ]] || { echo "seal.sh: no aes-256-gcm figure from openssl speed" >&2; exit 1; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
echo "openssl speed -elapsed -seconds 3 -bytes 16384 -evp aes-256-gcm: $floor_wall GB/s (wall), $floor_cpu GB/s (CPU time)"
"$exe" -f "$floor_wall" -F "$floor_cpu" -r 3 "$dir" "$size_mib"
