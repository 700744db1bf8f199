# ptxas -v on the corpus GEMM and flash attention: accepted, no spills.
# REQUIRES: ptxas
# RUN: rm -rf %t && tesselc %S/../../Frontend/corpus/gemm_fp16.py --entry matmul -D M=1024 -D N=1024 -D K=1024 --emit ptx -o %t
# RUN: %ptxas -arch=sm_90a -v %t/matmul.ptx -o %t/matmul.cubin 2>&1 | FileCheck %s
# RUN: tesselc %S/../../../../examples/flash_attention/flash_attention.py --entry flash_attention -D batch=1 -D heads=8 -D seq_len=1024 -D dim=128 --emit ptx -o %t
# RUN: %ptxas -arch=sm_90a -v %t/flash_attention.ptx -o %t/fa.cubin 2>&1 | FileCheck %s
# Row reductions spread over the whole block (combined through shared
# memory): softmax and layernorm.
# RUN: tesselc %S/../../Frontend/corpus/softmax.py --entry softmax -D M=256 -D N=512 --emit ptx -o %t
# RUN: %ptxas -arch=sm_90a -v %t/softmax.ptx -o %t/softmax.cubin 2>&1 | FileCheck %s
# RUN: tesselc %S/../../Frontend/corpus/layernorm.py --entry layernorm -D M=256 -D N=512 --emit ptx -o %t
# RUN: %ptxas -arch=sm_90a -v %t/layernorm.ptx -o %t/layernorm.cubin 2>&1 | FileCheck %s
# And tesselc's own cubin and manifest report the same.
# RUN: tesselc %S/../../Frontend/corpus/gemm_fp16.py --entry matmul -D M=1024 -D N=1024 -D K=1024 --emit cubin,manifest -o %t
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/matmul.json
# CHECK: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
# CHECK: Used {{[0-9]+}} registers
# MANIFEST: "name": "matmul"
# MANIFEST: "arch": "sm_90a"
# MANIFEST: "grid": [8, 8, 1]
# The kernel's 128 threads consume; a producer warpgroup is added.
# MANIFEST: "threads": 256
# A's and B's tiles are staged (nvidia-pipeline-buffers): no planned
# storage of their own, three 32 KB stages (TMA), then a full and an empty
# mbarrier per stage.
# MANIFEST: "shared_bytes": 98352
# MANIFEST: "registers": {{[1-9][0-9]*}}
# MANIFEST: "spill_bytes": 0
# MANIFEST: {"name": "A", "dtype": "float16", "shape": [1024, 1024], "tensor": true, "written": false}
# MANIFEST: "warp_specialized": {"producer_threads": 128, "registers_at_launch": 255, "producer_registers": 40, "consumer_registers": 255}
