# examples/sparse_attention for sm_90a at DeepSeek V3.2's shapes: the
# lightning indexer (fp8 wgmma over 64 heads x 128) and the top-k selector
# assemble without spills, and so does the FP8-KV sparse decode (tokens
# dequantized to bf16 as they are gathered) and sparse MLA (prefill, bf16
# wgmma with K = 576) at h_q = 128, which fits only because the wgmma
# descriptors are formed per K step inside the asm statement rather than
# hoisted (36 register pairs).
# REQUIRES: ptxas
# RUN: rm -rf %t && tesselc %S/../../../examples/sparse_attention/sparse_attention.py --entry indexer -D seq=2048 -D seq_kv=8192 --emit ptx,manifest -o %t
# RUN: FileCheck %s --check-prefix=INDEXER < %t/indexer.ptx
# RUN: FileCheck %s --check-prefix=NOSPILL < %t/indexer.json
# RUN: tesselc %S/../../../examples/sparse_attention/sparse_attention.py --entry topk -D seq=2048 -D seq_kv=131072 -D k=2048 --emit manifest -o %t
# RUN: FileCheck %s --check-prefix=NOSPILL < %t/topk.json
# RUN: tesselc %S/../../../examples/sparse_attention/sparse_attention.py --entry sparse_mla -D s_q=4096 -D h_q=128 -D s_kv=8192 -D topk=2048 --emit ptx,manifest -o %t
# RUN: FileCheck %s --check-prefix=MLA < %t/sparse_mla.ptx
# RUN: FileCheck %s --check-prefix=NOSPILL < %t/sparse_mla.json
# RUN: tesselc %S/../../../examples/sparse_attention/sparse_attention.py --entry sparse_mla_decode_fp8 -D batch=128 -D s_q=2 -D h_q=128 -D num_tokens=1048576 -D topk=2048 --emit ptx,manifest -o %t
# RUN: FileCheck %s --check-prefix=MLA < %t/sparse_mla_decode_fp8.ptx
# RUN: FileCheck %s --check-prefix=NOSPILL < %t/sparse_mla_decode_fp8.json
# INDEXER: wgmma.mma_async.sync.aligned.m64n{{[0-9]+}}k32.f32.e4m3.e4m3
# NOSPILL: "spill_bytes": 0,
# MLA: wgmma.mma_async.sync.aligned.m64n{{[0-9]+}}k16.f32.bf16.bf16
