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
build=${1:?usage: bench/snp.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
exe="$build/bench/bench_snp"
[[ -x "$exe" ]] || { echo "snp.sh: $exe not built" >&2; exit 1; }
vectors=${CACHET_VECTORS:-$root/../shared/vectors}
dir="$vectors/snp/genoa_v5_oak_2025"

speed=$(openssl speed -seconds 3 ecdsap384 2>/dev/null | awk '/^ *384 bits ecdsa/ {print $NF}' | tail -1)
[[ -n "$speed" ]] || { echo "snp.sh: no ecdsap384 figure from openssl speed" >&2; exit 1; }

if [[ -f "$dir/report.derived.bin" ]]; then
  out=$("$exe" 3 2025-10-01T08:00:00Z "$dir/report.derived.bin" "$dir/vcek.derived.der")
else
  out=$("$exe" 3)
fi
echo "$out" | grep '^report'
cold=$(echo "$out" | awk '$1 == "cold_reports_per_s" {print $2}')
warm=$(echo "$out" | awk '$1 == "warm_reports_per_s" {print $2}')
inproc=$(echo "$out" | awk '$1 == "inprocess_floor_per_s" {print $2}')
inratio=$(echo "$out" | awk '$1 == "interleaved_ratio" {print $2}')
awk -v s="$speed" -v c="$cold" -v w="$warm" -v f="$inproc" -v r="$inratio" 'BEGIN {
  printf "openssl speed ecdsap384:        %10.1f verify/s (one core)\n", s
  printf "snp cold (chain + report):      %10.1f reports/s per core; ratio to floor %.2f\n", c, c / s
  printf "snp warm (chain cached):        %10.1f reports/s per core; floor %.1f/s; ratio %.2f (target >= 0.8)\n", w, s, w / s
  printf "snp warm vs in-process floor:   ratio %.2f (interleaved with bare ECDSA verifies, %.1f/s, same load)\n", r, f
}'
