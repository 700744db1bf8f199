# ptxas accepts the TMA path's PTX (descriptor parameters, mbarriers,
# cp.async.bulk.tensor) for the fp8 GEMM and the fp16 GEMM example.
# REQUIRES: ptxas
# RUN: rm -rf %t && tesselc %S/../../Frontend/corpus/gemm_fp8_block_scaled.py --entry fp8_gemm -D M=256 -D N=256 -D K=512 --tma --emit ptx -o %t
# RUN: %ptxas -arch=sm_90a -v %t/fp8_gemm.ptx -o %t/fp8_gemm.cubin 2>&1 | FileCheck %s
# RUN: tesselc %S/../../../../examples/gemm/gemm.py --entry matmul -D M=4096 -D N=4096 -D K=4096 --tma --emit ptx -o %t
# RUN: %ptxas -arch=sm_90a -v %t/matmul.ptx -o %t/matmul.cubin 2>&1 | FileCheck %s --check-prefix=GEMM
# CHECK: Used {{[0-9]+}} registers
# GEMM: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
