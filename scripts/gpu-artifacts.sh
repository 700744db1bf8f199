#!/usr/bin/env bash
# Compiles the kernels scripts/gpu-check.sh runs, on this (build) machine:
#   scripts/gpu-artifacts.sh OUT_DIR           the real shapes, to check and time
#   scripts/gpu-artifacts.sh --small OUT_DIR   the small set: every kind of kernel at
#                                              shapes that run in seconds, run on the
#                                              emulator here (its results travel with
#                                              them), the fidelity suite's launches
#                                              and the embedded launchers
# Each kernel gives NAME.ptx, NAME.cubin (when ptxas is present) and NAME.json.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# examples/embed: the launchers (NAME.h, NAME.o) a C++ program links.
compile_embed() {
  mkdir -p "$OUT/embed"
  "$TESSELC" "$ROOT/examples/gemm/gemm.py" --entry matmul -D M=256 -D N=256 -D K=256 \
    --emit header,object -o "$OUT/embed"
  "$TESSELC" "$ROOT/examples/flash_attention/flash_attention.py" --entry flash_attention \
    -D batch=1 -D heads=2 -D seq_len=128 -D dim=64 --emit header,object -o "$OUT/embed"
  echo "compiled embed/ launchers"
}
if [ "${1:-}" = "--small" ]; then
  OUT="${2:?usage: scripts/gpu-artifacts.sh --small OUT_DIR}"
  mkdir -p "$OUT"
  export TESSEL_BUILD_DIR="${TESSEL_BUILD_DIR:-$ROOT/build}"
  TESSEL_CUDA_DRIVER=emu python3 "$ROOT/tests/gpu/small_set.py" prepare "$OUT/small"
  if command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then
    PATH="$PATH:/usr/local/cuda/bin" python3 "$ROOT/tests/emulator/fidelity/bundle.py" export \
      "$OUT/fidelity"
  else
    echo "nvcc not found: the fidelity suite's launches are not exported"
  fi
  TESSELC="${TESSELC:-$TESSEL_BUILD_DIR/bin/tesselc}" compile_embed
  du -sh "$OUT"
  exit 0
fi
OUT="${1:?usage: scripts/gpu-artifacts.sh [--small] OUT_DIR}"
TESSELC="${TESSELC:-$ROOT/build/bin/tesselc}"
EMIT=ptx,manifest
if [ -n "$("$TESSELC" --help >/dev/null; command -v ptxas || ls /usr/local/cuda/bin/ptxas 2>/dev/null || true)" ]; then
  EMIT=ptx,cubin,manifest
fi
EMIT="${TESSEL_ARTIFACTS_EMIT:-$EMIT}" # e.g. ptx,manifest: no cubins (faster)
mkdir -p "$OUT"
compile() { # [SUBDIR/]name file entry defines... (TESSEL_FLAGS: extra tesselc flags)
  local name=$1 file=$2 entry=$3; shift 3
  local defs=()
  for d in "$@"; do defs+=(-D "$d"); done
  local tmp; tmp=$(mktemp -d)
  mkdir -p "$(dirname "$OUT/$name")"
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
for m in 64 128 4096; do
  for nk in 2112x7168 24576x1536 32768x512 7168x16384 4096x7168 7168x2048; do
    compile "fp8_gemm_${m}x${nk}" examples/fp8_gemm/fp8_gemm.py fp8_gemm M=$m N=${nk%x*} K=${nk#*x}
  done
done
# Its MoE kernels (read by its benchmark.py from fp8/): contiguous, 4 experts
# x 8192 rows, and masked, 4 experts x up to 256 rows, on DeepGEMM's grouped
# (N, K) pairs.
for nk in 4096x7168 7168x2048; do
  compile "fp8/fp8_gemm_grouped_4x8192x${nk}" examples/fp8_gemm/fp8_gemm.py fp8_gemm_grouped \
    M=32768 N=${nk%x*} K=${nk#*x} G=4
  compile "fp8/fp8_gemm_masked_4x256x${nk}" examples/fp8_gemm/fp8_gemm.py fp8_gemm_masked \
    G=4 max_m=256 N=${nk%x*} K=${nk#*x}
done
# int8 x int8 -> int32 (s8 wgmma), exact against torch._int_mm.
compile gemm_i8_4096 tests/lit/Frontend/corpus/gemm_int8.py gemm_i8 M=4096 N=4096 K=4096 b=128
# Row reductions combined across warps through shared memory.
compile softmax_m4096_n1024 tests/lit/Frontend/corpus/softmax.py softmax M=4096 N=1024 block_M=8
compile layernorm_m4096_n1024 tests/lit/Frontend/corpus/layernorm.py layernorm M=4096 N=1024
# examples/mla_decode at FlashMLA's benchmark shape (read by its benchmark.py
# from mla/, apart from the generic checks).
for sk in 4096 8192; do
  blocks=$((sk / 64))
  compile "mla/mla_decode_b128_h128_sk${sk}" examples/mla_decode/mla_decode.py mla_decode \
    batch=128 s_q=1 h_q=128 num_blocks=$((128 * blocks)) max_blocks=$blocks
done
# examples/sparse_attention at FlashMLA's sparse shapes (read by its
# benchmark.py from sparse/).
compile sparse/sparse_mla_sq4096_h128_topk2048 examples/sparse_attention/sparse_attention.py \
  sparse_mla s_q=4096 h_q=128 s_kv=8192 topk=2048
compile sparse/sparse_decode_fp8_b128_sq2_h128 examples/sparse_attention/sparse_attention.py \
  sparse_mla_decode_fp8 batch=128 s_q=2 h_q=128 num_tokens=1048576 topk=2048
compile_embed
du -sh "$OUT"
