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
source "$(dirname "$0")/common.sh"
bench_start nitro "$@"
doc="$vectors/nitro/nsm_prod_2025-12-25/attestation_doc.cose"

bench_openssl_speed ecdsap384

bench_exec "$doc" "$doc" 2025-12-25T13:15:37.578Z
echo "$out" | grep '^document'
bench_report 32 '
  printf "nitro cold (chain + COSE):      %10.1f documents/s per core, %d+1 verifies each; floor %.1f/s; ratio %.2f\n", c, d, s / (d + 1), c / (s / (d + 1))
  printf "nitro warm (chain cached):      %10.1f documents/s per core, 1 verify each; floor %.1f/s; ratio %.2f\n", w, s, w / s
' d="$(bench_get chain_certs_verified)" c="$(bench_get cold_docs_per_s)" w="$(bench_get warm_docs_per_s)"
