# RUN: tesselc %s --entry mla_decode -D batch=4 -D heads=16 -D max_blocks=8 -D num_blocks=64 | FileCheck %s
# MLA decode over a paged KV cache: the block table maps logical to physical
# blocks; the 576-wide head splits into 512 latent + 64 RoPE parts.
import tessel
import tessel.language as T

# CHECK-LABEL: func.func @mla_decode
# CHECK-SAME: memref<4x16x576xbf16, #tile.scope<global>>
# CHECK-SAME: memref<64x64x1x576xbf16, #tile.scope<global>>
# CHECK-SAME: memref<4x8xi32, #tile.scope<global>>
# CHECK: tile.copy {{.+}} [1, 16, 512] to {{.+}} [16, 512]
# CHECK: tile.pipelined
# CHECK: %[[BLK:.+]] = memref.load %arg2
# CHECK: tile.cast %[[BLK]] : i32 to index
# CHECK: tile.copy {{.+}} [1, 64, 1, 512] to {{.+}} [64, 512]
# CHECK: tile.gemm {{.+}} transpose_b
# CHECK: tile.gemm {{.+}} transpose_b
# CHECK: tile.reduce max
# CHECK: math.exp2


@tessel.jit(out_idx=[-1])
def mla_decode(batch, heads, max_blocks, num_blocks, page=64, dv=512, dpe=64):
    scale = (1.0 / (dv + dpe)) ** 0.5 * 1.44269504

    @T.prim_func
    def main(Q: T.Tensor((batch, heads, dv + dpe), "bfloat16"),
             KV: T.Tensor((num_blocks, page, 1, dv + dpe), "bfloat16"),
             block_table: T.Tensor((batch, max_blocks), "int32"),
             cache_seqlens: T.Tensor((batch,), "int32"),
             Out: T.Tensor((batch, heads, dv), "bfloat16")):
        with T.Kernel(batch, threads=256) as b:
            q = T.alloc_shared((heads, dv), "bfloat16")
            q_pe = T.alloc_shared((heads, dpe), "bfloat16")
            kv = T.alloc_shared((page, dv), "bfloat16")
            k_pe = T.alloc_shared((page, dpe), "bfloat16")
            s = T.alloc_fragment((heads, page), "float32")
            p = T.alloc_fragment((heads, page), "bfloat16")
            acc = T.alloc_fragment((heads, dv), "float32")
            m = T.alloc_fragment((heads,), "float32")
            m_prev = T.alloc_fragment((heads,), "float32")
            l = T.alloc_fragment((heads,), "float32")
            alpha = T.alloc_fragment((heads,), "float32")
            T.copy(Q[b, 0:heads, 0:dv], q)
            T.copy(Q[b, 0:heads, dv:dv + dpe], q_pe)
            T.clear(acc)
            T.clear(l)
            T.fill(m, -T.infinity("float32"))
            seqlen = cache_seqlens[b]
            for blk in T.Pipelined(T.ceildiv(seqlen, page), num_stages=2):
                phys = block_table[b, blk]
                T.copy(KV[phys, 0:page, 0, 0:dv], kv)
                T.copy(KV[phys, 0:page, 0, dv:dv + dpe], k_pe)
                T.gemm(q, kv, s, transpose_B=True, clear_accum=True)
                T.gemm(q_pe, k_pe, s, transpose_B=True)
                for i, j in T.Parallel(heads, page):
                    s[i, j] = T.if_then_else(blk * page + j < seqlen, s[i, j], -T.infinity("float32"))
                T.copy(m, m_prev)
                T.reduce_max(s, m, dim=1, clear=False)
                for i in T.Parallel(heads):
                    alpha[i] = T.exp2((m_prev[i] - m[i]) * scale)
                for i, j in T.Parallel(heads, page):
                    s[i, j] = T.exp2((s[i, j] - m[i]) * scale)
                for i in T.Parallel(heads):
                    l[i] *= alpha[i]
                for i, j in T.Parallel(heads, dv):
                    acc[i, j] *= alpha[i]
                T.copy(s, p)
                T.reduce_sum(s, alpha, dim=1)
                for i in T.Parallel(heads):
                    l[i] += alpha[i]
                T.gemm(p, kv, acc)
            for i, j in T.Parallel(heads, dv):
                acc[i, j] = T.if_then_else(l[i] > 0, acc[i, j] / l[i], 0.0)
            T.copy(acc, Out[b, 0:heads, :])
    return main
