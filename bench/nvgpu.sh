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
source "$(dirname "$0")/common.sh"
bench_start nvgpu "$@"
dir="$vectors/nvgpu/h100_545.00_nvtrust_2023_fullrim"

bench_openssl_speed ecdsap384

bench_exec "$dir/attestation_report.hex" 2024-01-15T00:00:00Z \
  4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e \
  "$dir/attestation_report.hex" "$dir/device_cert_chain.pem" \
  "$dir/driver_rim_545.00_test_no_gpu.swidtag" \
  "$dir/vbios_rim_1010_0200_882_96005E0001_test_no_gpu.swidtag"
echo "$out" | grep '^report'
bench_report 34 '
  printf "nvgpu cold (chains + RIMs + report): %7.1f reports/s per core; ratio to floor %.2f\n", c, c / s
  printf "nvgpu warm (chains, RIMs cached):  %8.1f reports/s per core; floor %.1f/s; ratio %.2f (target >= 0.7)\n", w, s, w / s
  printf "nvgpu warm vs in-process floor:     ratio %.2f (interleaved with bare ECDSA verifies, %.1f/s, same load)\n", r, f
' c="$(bench_get cold_reports_per_s)" w="$(bench_get warm_reports_per_s)" \
  f="$(bench_get inprocess_floor_per_s)" r="$(bench_get interleaved_ratio)"
