#!/usr/bin/env bash
# Intel TDX quotes verified per second on one core, next to
# `openssl speed -seconds 3 ecdsap256` verify/s from the same run.
#
#   bench/tdx.sh BUILD_DIR
#
# With collateral verified once and cached (warm), a quote costs its own
# ECDSA P-256 signature: cachet finds the platform (PCK chain, CRLs, TCB
# info, QE identity, QE report signature and binding) again by the digest
# of the exact bytes.  The issue's floor counts about three P-256 verifies
# per quote (quote, QE report, one more); both ratios are printed.  The
# published figure to compare with is ~0.54 ms per quote (Phala dcap-qvl,
# cached collateral, a faster desktop CPU).  CPU time of one process, as
# openssl speed measures.  Uses the real b0c06f quote and collateral from
# $CACHET_VECTORS (default ../shared/vectors) when present, else generated.
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_start tdx "$@"
dir="$vectors/tdx/b0c06f_v4_dcapqvl_2025-06"

bench_openssl_speed ecdsap256

bench_exec "$dir/quote.bin" 2025-07-19T10:00:34Z "$dir/quote.bin" "$dir/collateral.json"
echo "$out" | grep '^quote'
bench_report 34 '
  printf "tdx cold (collateral every time): %10.1f quotes/s per core (%.3f ms), %d P-256 verifies each; floor %.1f/s; ratio %.2f\n", c, 1000 / c, cv, s / cv, c / (s / cv)
  printf "tdx warm (collateral cached):     %10.1f quotes/s per core (%.3f ms), 1 P-256 verify each\n", w, 1000 / w
  printf "  vs the 3-verify floor (issue):  floor %.1f/s; ratio %.2f (target >= 0.25)\n", s / 3, w / (s / 3)
  printf "  vs its own 1-verify floor:      floor %.1f/s; ratio %.2f\n", s, w / s
' cv="$(bench_get cold_p256_verifies)" c="$(bench_get cold_quotes_per_s)" w="$(bench_get warm_quotes_per_s)"
