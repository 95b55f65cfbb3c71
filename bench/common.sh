# Shared by bench/snp.sh, tdx.sh, nvgpu.sh and nitro.sh (sourced, not run):
# the prologue, the `openssl speed` floor measured in the same run, running
# the benchmark binary and reading its "key value" lines.
#
#   source "$(dirname "$0")/common.sh"
#   bench_start NAME "$@"    # sets build, root, exe (bench_NAME), vectors
#   bench_openssl_speed ALG  # sets speed (verify/s, one core) for ecdsapBITS
#   bench_exec FILE ARGS...  # out=: bench_NAME 3 ARGS when FILE exists, else bench_NAME 3
#   bench_get KEY            # the value of the line "KEY value" of $out
#   bench_report WIDTH AWK var=value...
#                            # "openssl speed ALG:" line (label padded to WIDTH),
#                            # then AWK's BEGIN block, run with s=$speed and the vars

bench_fail() {
  echo "$bench.sh: $*" >&2
  exit 1
}

bench_start() {
  bench=$1
  build=${2:-}
  [[ -n "$build" ]] || { echo "usage: bench/$bench.sh BUILD_DIR" >&2; exit 1; }
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  exe="$build/bench/bench_$bench"
  [[ -x "$exe" ]] || bench_fail "$exe not built"
  vectors=${CACHET_VECTORS:-$root/../shared/vectors}
}

bench_openssl_speed() {
  alg=$1
  local bits=${alg#ecdsap}
  speed=$(openssl speed -seconds 3 "$alg" 2>/dev/null |
          awk -v re="^ *$bits bits ecdsa" '$0 ~ re {print $NF}' | tail -1)
  [[ -n "$speed" ]] || bench_fail "no $alg figure from openssl speed"
}

bench_exec() {
  local file=$1
  shift
  if [[ -f "$file" ]]; then
    out=$("$exe" 3 "$@")
  else
    out=$("$exe" 3)
  fi
}

bench_get() {
  echo "$out" | awk -v k="$1" '$1 == k {print $2}'
}

bench_report() {
  local width=$1 prog=$2
  shift 2
  local vars=(-v s="$speed" -v alg="$alg" -v width="$width")
  for kv in "$@"; do vars+=(-v "$kv"); done
  awk "${vars[@]}" 'BEGIN {
  printf "%-" width "s%10.1f verify/s (one core)\n", "openssl speed " alg ":", s
}'
  awk "${vars[@]}" "BEGIN { $prog }"
}
