#!/usr/bin/env bash
# NVIDIA GPU reports verified per second on one core, next to
# `openssl speed -seconds 3 ecdsap384` verify/s from the same run.
#
#   bench/nvgpu.sh BUILD_DIR
#
# A report costs one ECDSA P-384 verify once its device chain, the RIMs'
# XML signatures and their chains are verified and cached (warm, the figure
# of merit: target >= 0.7 of the floor); cold pays for all of them every
# time (5-certificate chain, two RIMs with C14N 1.1 + ECDSA-SHA384, their
# chains).  Both figures are CPU time of one process, as `openssl speed`
# measures by default.  Uses the real H100 545.00 report with both RIMs from
# $CACHET_VECTORS (default ../shared/vectors) when present, else a generated
# one (builds with tests only).
set -euo pipefail
build=${1:?usage: bench/nvgpu.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
exe="$build/bench/bench_nvgpu"
[[ -x "$exe" ]] || { echo "nvgpu.sh: $exe not built" >&2; exit 1; }
vectors=${CACHET_VECTORS:-$root/../shared/vectors}
dir="$vectors/nvgpu/h100_545.00_nvtrust_2023_fullrim"

speed=$(openssl speed -seconds 3 ecdsap384 2>/dev/null | awk '/^ *384 bits ecdsa/ {print $NF}' | tail -1)
[[ -n "$speed" ]] || { echo "nvgpu.sh: no ecdsap384 figure from openssl speed" >&2; exit 1; }

if [[ -f "$dir/attestation_report.hex" ]]; then
  out=$("$exe" 3 2024-01-15T00:00:00Z \
        4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e \
        "$dir/attestation_report.hex" "$dir/device_cert_chain.pem" \
        "$dir/driver_rim_545.00_test_no_gpu.swidtag" \
        "$dir/vbios_rim_1010_0200_882_96005E0001_test_no_gpu.swidtag")
else
  out=$("$exe" 3)
fi
echo "$out" | grep '^report'
cold=$(echo "$out" | awk '$1 == "cold_reports_per_s" {print $2}')
warm=$(echo "$out" | awk '$1 == "warm_reports_per_s" {print $2}')
inproc=$(echo "$out" | awk '$1 == "inprocess_floor_per_s" {print $2}')
inratio=$(echo "$out" | awk '$1 == "interleaved_ratio" {print $2}')
awk -v s="$speed" -v c="$cold" -v w="$warm" -v f="$inproc" -v r="$inratio" 'BEGIN {
  printf "openssl speed ecdsap384:          %10.1f verify/s (one core)\n", s
  printf "nvgpu cold (chains + RIMs + report): %7.1f reports/s per core; ratio to floor %.2f\n", c, c / s
  printf "nvgpu warm (chains, RIMs cached):  %8.1f reports/s per core; floor %.1f/s; ratio %.2f (target >= 0.7)\n", w, s, w / s
  printf "nvgpu warm vs in-process floor:     ratio %.2f (interleaved with bare ECDSA verifies, %.1f/s, same load)\n", r, f
}'
