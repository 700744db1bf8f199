# examples/mla_decode for sm_90a at FlashMLA's shape (b=128, h_q=128, pages
# of 64) and with two speculative tokens: it fits in shared memory (Q, two
# stages of half a page of K, its V half, P), uses bf16 wgmma with the
# 576-wide K (nine 128-byte swizzle atoms), loads K by TMA from a producer
# warpgroup (which reads the page table itself: a page's row comes from
# block_table[b, i // 2]), and ptxas assembles it without spilling; likewise
# the split-KV kernel and the combine kernel.
# REQUIRES: ptxas
# RUN: rm -rf %t && tesselc %S/../../../examples/mla_decode/mla_decode.py --entry mla_decode -D batch=128 -D s_q=1 -D h_q=128 -D num_blocks=16384 -D max_blocks=128 --emit ptx,manifest -o %t
# RUN: FileCheck %s < %t/mla_decode.ptx
# RUN: FileCheck %s --check-prefix=PRODUCER < %t/mla_decode.ptx
# RUN: FileCheck %s --check-prefixes=MANIFEST,BLOCK < %t/mla_decode.json
# RUN: tesselc %S/../../../examples/mla_decode/mla_decode.py --entry mla_decode -D batch=4 -D s_q=2 -D h_q=64 -D num_blocks=64 -D max_blocks=16 --emit manifest -o %t/mtp
# RUN: FileCheck %s --check-prefixes=MANIFEST,BLOCK < %t/mtp/mla_decode.json
# Sixteen heads: a 64-row block with 48 rows of zeros; the first 16 rows
# leave the accumulator directly (a fragment region copy).
# RUN: tesselc %S/../../../examples/mla_decode/mla_decode.py --entry mla_decode -D batch=4 -D s_q=2 -D h_q=16 -D num_blocks=64 -D max_blocks=16 --emit manifest -o %t/small
# RUN: FileCheck %s --check-prefixes=MANIFEST,BLOCK < %t/small/mla_decode.json
# RUN: tesselc %S/../../../examples/mla_decode/mla_decode.py --entry mla_decode_split -D batch=128 -D s_q=1 -D h_q=128 -D num_blocks=65536 -D max_blocks=512 -D num_splits=4 --emit manifest -o %t/split
# RUN: FileCheck %s --check-prefixes=MANIFEST,BLOCK < %t/split/mla_decode_split.json
# RUN: tesselc %S/../../../examples/mla_decode/mla_decode.py --entry mla_combine -D batch=128 -D s_q=1 -D h_q=128 -D num_splits=4 --emit manifest -o %t/combine
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/combine/mla_combine.json
# CHECK: wgmma.mma_async.sync.aligned.m64n{{[0-9]+}}k16.f32.bf16.bf16
# CHECK: lg2.approx.f32
# The producer: the page number from the table, then nine TMA loads of a
# 32-token half page (one per 64-column swizzle atom of K's 576).
# PRODUCER: setmaxnreg.dec.sync.aligned.u32 40;
# PRODUCER: ld.global.{{[bs]}}32
# PRODUCER: mbarrier.try_wait.parity
# PRODUCER-COUNT-9: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
# BLOCK: "threads": 384,
# MANIFEST: "spill_bytes": 0,
# BLOCK: {"name": "block_table", "dtype": "int32", "shape": [{{[0-9]+}}, {{[0-9]+}}], "tensor": true, "written": false}
