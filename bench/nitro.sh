#!/usr/bin/env bash
# Nitro attestation documents verified per second on one core, next to
# `openssl speed -seconds 3 ecdsap384` verify/s from the same run.
#
#   bench/nitro.sh BUILD_DIR
#
# A document costs one ECDSA P-384 verify for its COSE signature plus one per
# certificate of its chain below the root (cold), or just the one when the
# chain is cached (warm); the ratios say how close each is to that floor.
# Uses the real document from $CACHET_VECTORS (default ../shared/vectors)
# when present, else a generated one.
set -euo pipefail
build=${1:?usage: bench/nitro.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
exe="$build/bench/bench_nitro"
[[ -x "$exe" ]] || { echo "nitro.sh: $exe not built" >&2; exit 1; }
vectors=${CACHET_VECTORS:-$root/../shared/vectors}
doc="$vectors/nitro/nsm_prod_2025-12-25/attestation_doc.cose"

speed=$(openssl speed -seconds 3 ecdsap384 2>/dev/null | awk '/^ *384 bits ecdsa/ {print $NF}' | tail -1)
[[ -n "$speed" ]] || { echo "nitro.sh: no ecdsap384 figure from openssl speed" >&2; exit 1; }

if [[ -f "$doc" ]]; then
  out=$("$exe" 3 "$doc" 2025-12-25T13:15:37.578Z)
else
  out=$("$exe" 3)
fi
echo "$out" | grep '^document'
depth=$(echo "$out" | awk '$1 == "chain_certs_verified" {print $2}')
cold=$(echo "$out" | awk '$1 == "cold_docs_per_s" {print $2}')
warm=$(echo "$out" | awk '$1 == "warm_docs_per_s" {print $2}')
awk -v s="$speed" -v d="$depth" -v c="$cold" -v w="$warm" 'BEGIN {
  printf "openssl speed ecdsap384:        %10.1f verify/s (one core)\n", s
  printf "nitro cold (chain + COSE):      %10.1f documents/s per core, %d+1 verifies each; floor %.1f/s; ratio %.2f\n", c, d, s / (d + 1), c / (s / (d + 1))
  printf "nitro warm (chain cached):      %10.1f documents/s per core, 1 verify each; floor %.1f/s; ratio %.2f\n", w, s, w / s
}'
