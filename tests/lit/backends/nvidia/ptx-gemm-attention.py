# The corpus GEMM (on the cp.async path: --tma=false) and flash attention
# compile for sm_90a; the PTX uses
# wgmma, and ptxas accepts it without spilling.
# RUN: rm -rf %t && tesselc %S/../../Frontend/corpus/gemm_fp16.py --entry matmul -D M=1024 -D N=1024 -D K=1024 --target sm_90a --tma=false --emit ptx -o %t
# RUN: FileCheck %s --check-prefix=GEMM < %t/matmul.ptx
# RUN: tesselc %S/../../../../examples/flash_attention/flash_attention.py --entry flash_attention -D batch=1 -D heads=8 -D seq_len=1024 -D dim=128 --emit ptx -o %t
# RUN: FileCheck %s --check-prefix=ATTN < %t/flash_attention.ptx
# RUN: FileCheck %s --check-prefix=ATTNRS < %t/flash_attention.ptx
# RUN: FileCheck %s --check-prefix=VECTOR < %t/flash_attention.ptx
# GEMM: .target sm_90a
# GEMM: .extern .shared .align 1024 .b8 __tessel_smem[];
# GEMM: .visible .entry matmul(
# GEMM: .maxntid 128, 1, 1
# A's and B's tiles run ahead with cp.async (three stages, as the kernel
# asks): B of A @ B is read MN-major in place, so its copy is plain too.
# GEMM: cp.async.cg.shared.global [{{.+}}], [{{.+}}], 16;
# GEMM: cp.async.commit_group;
# GEMM: cp.async.wait_group 2;
# GEMM: fence.proxy.async.shared::cta;
# GEMM: bar.sync 0;
# GEMM: wgmma.fence.sync.aligned;
# The four K steps of a 64-row slab run back to back on the same registers,
# shared x shared (two descriptors, each its tile's base plus the step's
# offset), accumulating (scale-d true). B's transpose bit is set (MN-major)
# and its K step is 16 rows of 128 bytes (128 units of the start address).
# GEMM: setp.ne.b32 rest,
# GEMM: add.s64 db, %rd{{[0-9]+}}, 128;
# GEMM-COUNT-3: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {{.*}}}, da, db, {{first|rest}}, 1, 1, 0, 1;
# GEMM: wgmma.commit_group.sync.aligned;
# GEMM: wgmma.wait_group.sync.aligned 0;
# Tiles move in 16-byte vectors (attention's Q tile, before the loop).
# VECTOR-DAG: ld.global.v4
# VECTOR-DAG: st.shared.v4
# ATTN: .visible .entry flash_attention(
# ATTN: wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16
# ATTN: shfl.sync.bfly.b32
# ATTN: ex2.approx
# ATTNRS: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {{.*}}}, {%r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}}, db, {{first|rest}}, 1, 1, 1;
