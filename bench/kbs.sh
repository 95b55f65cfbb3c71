#!/usr/bin/env bash
# Key broker: full auth -> attest -> resource flows per second on loopback
# with sample evidence (bench_kbs, bounded threads and seconds), p50/p99
# latency, next to the crypto floor of one flow from `openssl speed` in the
# same run.  A flow cannot avoid: 2 P-256 signatures (the sample report, the
# EAR), 2 P-256 verifications (the report, the EAR at release) and 2 ECDH
# (server and client side of the JWE; key generation not counted).  The floor
# across both cores is 2 / (2/sign + 2/verify + 2/ecdh).  Target: >= 0.25.
#
#   bench/kbs.sh BUILD_DIR [THREADS] [SECONDS]
set -euo pipefail
build=${1:?usage: bench/kbs.sh BUILD_DIR [THREADS] [SECONDS]}
threads=${2:-4}
seconds=${3:-5}
exe="$build/bench/bench_kbs"
[[ -x "$exe" ]] || { echo "kbs.sh: $exe not built" >&2; exit 1; }
line=$(openssl speed -seconds 2 ecdsap256 2>/dev/null | awk '/^ *256 bits ecdsa/ {print $(NF-1), $NF}' | tail -1)
ecdh=$(openssl speed -seconds 2 ecdhp256 2>/dev/null | awk '/^ *256 bits ecdh/ {print $NF}' | tail -1)
[[ -n "$line" && -n "$ecdh" ]] || { echo "kbs.sh: no P-256 figures from openssl speed" >&2; exit 1; }
sign=${line% *}
verify=${line#* }
out=$("$exe" "$threads" "$seconds")
echo "$out"
flows=$(echo "$out" | awk '$1 == "flows_per_s" {print $2}')
awk -v s="$sign" -v v="$verify" -v e="$ecdh" -v f="$flows" 'BEGIN {
  floor = 2 / (2 / s + 2 / v + 2 / e)
  printf "openssl speed p256: sign %.0f/s verify %.0f/s ecdh %.0f/s (one core)\n", s, v, e
  printf "kbs flows:          %10.1f flows/s; crypto floor (2 cores) %.1f/s; ratio %.3f (target >= 0.25)\n", f, floor, f / floor
}'
