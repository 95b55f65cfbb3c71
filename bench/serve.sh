#!/usr/bin/env bash
# Confidential inference (issue #10): tokens/s through `cachet serve`
# against plain llama.cpp (bench_llama_plain: same model, threads, prompt,
# greedy, the same 1024-token context) in the same run, rounds interleaved;
# and start-up split into
# attestation + key release, unseal and model load, with unseal + load
# compared to plain llama.cpp loading the unsealed file (its default, mmap,
# and reading it into memory).  Load times include context creation.
# Targets: steady-state tokens/s >= 0.97 of plain; unseal + load <= 1.15x
# plain load.
#
#   bench/serve.sh BUILD_DIR [ROUNDS] [TOKENS] [THREADS]
set -euo pipefail
build=$(cd "${1:?usage: bench/serve.sh BUILD_DIR [ROUNDS] [TOKENS] [THREADS]}" && pwd)
rounds=${2:-5}
tokens=${3:-128}
threads=${4:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
cachet="$build/src/cli/cachet"
plain="$build/bench/bench_llama_plain"
gen="$build/src/engine/cachet-gen-gguf"
vocab="$root/.cache/llama/share/cachet/ggml-vocab-llama-spm.gguf"
for x in "$cachet" "$plain" "$gen"; do [[ -x "$x" ]] || { echo "serve.sh: $x not built" >&2; exit 1; }; done
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
wait_for() { for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
prompt="The history of confidential computing begins with"

# A model big enough that generation, not HTTP, dominates: about 120 MB.
"$gen" --vocab "$vocab" --out "$work/m.gguf" --seed 11 --embd 512 --layers 8 --heads 8 --ff 1536 --ctx 1024
"$cachet" seal "$work/m.gguf" "$work/m.sealed" --new-key "$work/m.key" --key-id default/model-key/bench >/dev/null
"$cachet" attest --tee sample --sample-key "$work/w.pem" --nonce 00 --out "$work/probe.ev" >/dev/null
head -c 32 /dev/urandom >"$work/kek" && chmod 600 "$work/kek"
cat >"$work/p.json" <<'JSON'
{"rules": [{"name": "bench", "tee": ["sample"], "status": ["affirming", "warning"], "any_workload": true}]}
JSON
echo '{"grants": [{"resources": ["default/model-key/bench"], "rules": ["bench"], "status": ["affirming", "warning"]}]}' >"$work/r.json"
mkdir -p "$work/db"
admin=("$cachet" kbs-admin --db "$work/db/kbs.db" --kek-file "$work/kek")
"${admin[@]}" set-policy attestation "$work/p.json" >/dev/null
"${admin[@]}" set-policy resource "$work/r.json" >/dev/null
"${admin[@]}" set-resource default/model-key/bench "$work/m.key" >/dev/null
"$cachet" kbs --listen 127.0.0.1:0 --http --db "$work/db/kbs.db" --kek-file "$work/kek" \
    --sample-trust-key "$work/w.pem" >"$work/kbs.out" 2>&1 &
pids+=($!)
wait_for "$work/kbs.out" "listening on" || { cat "$work/kbs.out" >&2; exit 1; }
kbs="http://$(grep -oE '127\.0\.0\.1:[0-9]+' "$work/kbs.out" | head -1)"

serve_round() {   # start a server, one completion; prints "attest unseal load tok_s"
  local out="$work/serve.$1.out"
  "$cachet" serve --model "$work/m.sealed" --kbs "$kbs" --tee sample --sample-key "$work/w.pem" \
      --listen 127.0.0.1:0 --threads "$threads" --ctx 1024 >"$out" 2>"$out.err" &
  local pid=$!
  wait_for "$out" "listening on" || { cat "$out.err" >&2; kill $pid; return 1; }
  local url
  url=$(grep -oE 'https://127\.0\.0\.1:[0-9]+' "$out" | head -1)
  local body="{\"model\":\"m\",\"prompt\":\"$prompt\",\"max_tokens\":$tokens,\"temperature\":0}"
  # warm-up, then the measured request (server-side timings, as plain reports them)
  curl -sk "$url/v1/completions" -H 'Content-Type: application/json' -d "$body" >/dev/null
  curl -sk "$url/v1/completions" -H 'Content-Type: application/json' -d "$body" >"$work/resp.json"
  kill $pid; wait $pid 2>/dev/null || true
  python3 - "$out" "$work/resp.json" <<'PY'
import json, re, sys
start = open(sys.argv[1]).read()
m = re.search(r"startup attest\+release ([0-9.]+) unseal ([0-9.]+) load ([0-9.]+)", start)
r = json.load(open(sys.argv[2]))
t = r.get("timings", {})
print(m.group(1), m.group(2), m.group(3), t.get("predicted_per_second", 0), r["usage"]["completion_tokens"])
PY
}

plain_round() {   # plain llama.cpp on the unsealed file (page cache warm): "load tok_s load_read"
  "$plain" "$work/m.gguf" "$threads" "$tokens" "$prompt" 1024 >"$work/plain.out"
  PLAIN_LOAD_MODE=read "$plain" "$work/m.gguf" "$threads" 1 "$prompt" 1024 >"$work/plain-read.out"
  awk '$1 == "load_s" || $1 == "ctx_s" {l += $2} $1 == "gen_tok_s" {t = $2} END {printf "%s %s ", l, t}' "$work/plain.out"
  awk '$1 == "load_s" || $1 == "ctx_s" {l += $2} END {print l}' "$work/plain-read.out"
}

plain_round >/dev/null   # warm the page cache for both sides
for i in $(seq "$rounds"); do
  read -r pl pt pr < <(plain_round)
  read -r sa su sl st sn < <(serve_round "$i")
  printf 'round %d: plain load %.3fs (read mode %.3fs) %.1f tok/s | serve attest+release %.3fs unseal %.3fs load %.3fs %.1f tok/s (%d tokens)\n' \
      "$i" "$pl" "$pr" "$pt" "$sa" "$su" "$sl" "$st" "$sn"
  echo "$pl $pt $sa $su $sl $st $pr" >>"$work/rounds"
done
python3 - "$work/rounds" "$tokens" "$threads" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
tok = [r[5] / r[1] for r in rows if r[1] > 0]
load = [(r[3] + r[4]) / r[0] for r in rows if r[0] > 0]
load_read = [(r[3] + r[4]) / r[6] for r in rows if r[6] > 0]
med = lambda xs: statistics.median(xs) if xs else float("nan")
print(f"model ~120 MB f16, {sys.argv[2]} tokens greedy, {sys.argv[3]} threads, {len(rows)} interleaved rounds")
print(f"startup (median): attest+release {med([r[2] for r in rows]):.3f}s unseal {med([r[3] for r in rows]):.3f}s load {med([r[4] for r in rows]):.3f}s; plain load {med([r[0] for r in rows]):.3f}s (mmap, llama.cpp's default), {med([r[6] for r in rows]):.3f}s (read)")
print(f"tokens/s ratio serve/plain: median {med(tok):.3f} (rounds {', '.join(f'{x:.3f}' for x in tok)}) (target >= 0.97)")
print(f"(unseal+load)/plain load:   median {med(load):.3f} (rounds {', '.join(f'{x:.3f}' for x in load)}) (target <= 1.15; plain = llama.cpp's default mmap load)")
print(f"(unseal+load)/plain read:   median {med(load_read):.3f} (plain reading the file into memory, as a server that must not map files does)")
PY
