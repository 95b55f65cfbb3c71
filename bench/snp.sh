#!/usr/bin/env bash
# SEV-SNP reports verified per second on one core, next to
# `openssl speed -seconds 3 ecdsap384` verify/s from the same run.
#
#   bench/snp.sh BUILD_DIR
#
# A report costs one ECDSA P-384 verify once its chain (VCEK -> ASK -> ARK,
# RSA-PSS) is verified and cached (warm); cold also pays for the chain.  The
# warm ratio to the openssl floor is the figure of merit (target >= 0.8).
# Both figures are CPU time of one process (openssl speed's default), so a
# busy machine does not skew the ratio.
# Uses a real report from $CACHET_VECTORS (default ../shared/vectors) when
# present, else a generated one.
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_start snp "$@"
dir="$vectors/snp/genoa_v5_oak_2025"

bench_openssl_speed ecdsap384

bench_exec "$dir/report.derived.bin" 2025-10-01T08:00:00Z "$dir/report.derived.bin" "$dir/vcek.derived.der"
echo "$out" | grep '^report'
bench_report 32 '
  printf "snp cold (chain + report):      %10.1f reports/s per core; ratio to floor %.2f\n", c, c / s
  printf "snp warm (chain cached):        %10.1f reports/s per core; floor %.1f/s; ratio %.2f (target >= 0.8)\n", w, s, w / s
  printf "snp warm vs in-process floor:   ratio %.2f (interleaved with bare ECDSA verifies, %.1f/s, same load)\n", r, f
' c="$(bench_get cold_reports_per_s)" w="$(bench_get warm_reports_per_s)" \
  f="$(bench_get inprocess_floor_per_s)" r="$(bench_get interleaved_ratio)"
