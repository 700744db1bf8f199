#!/usr/bin/env bash
# Compiles the kernels scripts/gpu-check.sh runs, on this (build) machine:
#   scripts/gpu-artifacts.sh OUT_DIR
# Each kernel gives NAME.ptx, NAME.cubin (when ptxas is present) and NAME.json.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:?usage: scripts/gpu-artifacts.sh OUT_DIR}"
TESSELC="${TESSELC:-$ROOT/build/bin/tesselc}"
EMIT=ptx,manifest
if [ -n "$("$TESSELC" --help >/dev/null; command -v ptxas || ls /usr/local/cuda/bin/ptxas 2>/dev/null || true)" ]; then
  EMIT=ptx,cubin,manifest
fi
mkdir -p "$OUT"
compile() { # name file entry defines... (TESSEL_FLAGS: extra tesselc flags)
  local name=$1 file=$2 entry=$3; shift 3
  local defs=()
  for d in "$@"; do defs+=(-D "$d"); done
  local tmp; tmp=$(mktemp -d)
  "$TESSELC" "$ROOT/$file" --entry "$entry" "${defs[@]}" --target sm_90a --emit "$EMIT" ${TESSEL_FLAGS:-} -o "$tmp"
  for f in "$tmp"/*; do mv "$f" "$OUT/$name.${f##*.}"; done
  rmdir "$tmp"
  echo "compiled $name"
}
for n in 4096 8192; do
  for t in float16 bfloat16; do
    compile "gemm_${t}_${n}" examples/gemm/gemm.py matmul M=$n N=$n K=$n dtype=$t
  done
done
compile attention_b4_h16_s4096_d128 examples/flash_attention/flash_attention.py flash_attention \
  batch=4 heads=16 seq_len=4096 dim=128 block_M=64 block_N=64
compile attention_b1_h8_s1024_d128 examples/flash_attention/flash_attention.py flash_attention \
  batch=1 heads=8 seq_len=1024 dim=128
# The defaults are TMA + warp specialization; the same GEMM with one role
# (TMA from thread 0) and with cp.async, to compare.
TESSEL_FLAGS=--warp-specialize=false compile gemm_float16_4096_onerole examples/gemm/gemm.py matmul M=4096 N=4096 K=4096 dtype=float16
TESSEL_FLAGS=--tma=false compile gemm_float16_4096_cpasync examples/gemm/gemm.py matmul M=4096 N=4096 K=4096 dtype=float16
# examples/fp8_gemm: DeepSeek-V3 block-scaled FP8 GEMM on DeepGEMM's shapes.
for m in 128 4096; do
  for nk in 2112x7168 24576x1536 32768x512 7168x16384 4096x7168 7168x2048; do
    compile "fp8_gemm_${m}x${nk}" examples/fp8_gemm/fp8_gemm.py fp8_gemm M=$m N=${nk%x*} K=${nk#*x}
  done
done
# Row reductions combined across warps through shared memory.
compile softmax_m4096_n1024 tests/lit/Frontend/corpus/softmax.py softmax M=4096 N=1024 block_M=8
compile layernorm_m4096_n1024 tests/lit/Frontend/corpus/layernorm.py layernorm M=4096 N=1024
# examples/mla_decode at FlashMLA's benchmark shape (read by its benchmark.py
# from mla/, apart from the generic checks).
mkdir -p "$OUT/mla"
for sk in 4096 8192; do
  blocks=$((sk / 64))
  "$TESSELC" "$ROOT/examples/mla_decode/mla_decode.py" --entry mla_decode -D batch=128 -D s_q=1 \
    -D h_q=128 -D num_blocks=$((128 * blocks)) -D max_blocks=$blocks --target sm_90a \
    --emit "$EMIT" -o "$OUT/mla/tmp"
  for f in "$OUT/mla/tmp"/*; do mv "$f" "$OUT/mla/mla_decode_b128_h128_sk${sk}.${f##*.}"; done
  rmdir "$OUT/mla/tmp"
  echo "compiled mla/mla_decode_b128_h128_sk${sk}"
done
# examples/sparse_attention at FlashMLA's sparse shapes (read by its
# benchmark.py from sparse/).
mkdir -p "$OUT/sparse"
sparse() { # name entry defines...
  local name=$1 entry=$2; shift 2
  local defs=()
  for d in "$@"; do defs+=(-D "$d"); done
  "$TESSELC" "$ROOT/examples/sparse_attention/sparse_attention.py" --entry "$entry" "${defs[@]}" \
    --target sm_90a --emit "$EMIT" -o "$OUT/sparse/tmp"
  for f in "$OUT/sparse/tmp"/*; do mv "$f" "$OUT/sparse/$name.${f##*.}"; done
  rmdir "$OUT/sparse/tmp"
  echo "compiled sparse/$name"
}
sparse sparse_mla_sq4096_h128_topk2048 sparse_mla s_q=4096 h_q=128 s_kv=8192 topk=2048
sparse sparse_decode_fp8_b128_sq2_h128 sparse_mla_decode_fp8 batch=128 s_q=2 h_q=128 \
  num_tokens=1048576 topk=2048
# examples/embed: the launchers (NAME.h, NAME.o) a C++ program links.
mkdir -p "$OUT/embed"
"$TESSELC" "$ROOT/examples/gemm/gemm.py" --entry matmul -D M=256 -D N=256 -D K=256 \
  --emit header,object -o "$OUT/embed"
"$TESSELC" "$ROOT/examples/flash_attention/flash_attention.py" --entry flash_attention \
  -D batch=1 -D heads=2 -D seq_len=128 -D dim=64 --emit header,object -o "$OUT/embed"
echo "compiled embed/ launchers"
du -sh "$OUT"
