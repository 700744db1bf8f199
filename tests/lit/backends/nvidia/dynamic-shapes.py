# T.dynamic dimensions on the cuda target: one compile serves every value.
# The kernel takes each dynamic dimension (by name, i64) after its declared
# parameters and before the TMA descriptors; addresses and bounds use it;
# the manifest gives the grid the launcher computes from it; the C
# launcher takes the dimensions as int64_t arguments.
# REQUIRES: ptxas
# RUN: rm -rf %t && tesselc %S/../../Frontend/corpus/gemm_dynamic_m.py --entry gemm_dyn -D N=256 -D K=256 --emit ptx,manifest -o %t
# RUN: FileCheck %s --check-prefix=GEMM < %t/gemm_dyn.ptx
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/gemm_dyn.json
# RUN: tesselc %s --entry scale_rows --emit ptx,manifest -o %t
# RUN: FileCheck %s --check-prefix=ROWS < %t/scale_rows.ptx
# RUN: FileCheck %s --check-prefix=ROWSJSON < %t/scale_rows.json
# RUN: not tesselc %s --entry grid_from_scalar --emit ptx -o %t 2>&1 | FileCheck %s --check-prefix=ERR
# RUN: tesselc %s --entry scale_rows --emit header -o %t
# RUN: FileCheck %s --check-prefix=AOT < %t/scale_rows.h
#
# GEMM-LABEL: .visible .entry gemm_dyn(
# GEMM-NEXT: .param .u64 .ptr .global .align 1 gemm_dyn_param_0,
# GEMM-NEXT: .param .u64 .ptr .global .align 1 gemm_dyn_param_1,
# GEMM-NEXT: .param .u64 .ptr .global .align 1 gemm_dyn_param_2,
# GEMM-NEXT: .param .u64 gemm_dyn_param_3,
# GEMM-NEXT: .param .align 64 .b8 gemm_dyn_param_4[128]
# M is read once; A's tiles still come by TMA (M is its outer dimension).
# GEMM: ld.param.b64 %rd{{[0-9]+}}, [gemm_dyn_param_3];
# GEMM: cp.async.bulk.tensor
# MANIFEST: "grid": [4, 0, 1],
# MANIFEST-NEXT: "grid_expr": ["", "ceildiv(m, 64)", ""],
# MANIFEST-NEXT: "dynamic_dims": ["m"],
# MANIFEST: "spill_bytes": 0,
# MANIFEST: {"name": "A", "dtype": "float16", "shape": [-1, 256], "dynamic_names": ["m", ""], "tensor": true, "written": false},
#
# Both dimensions dynamic: the row stride is the launch's n.
# ROWS-LABEL: .visible .entry scale_rows(
# ROWS: .param .u64 scale_rows_param_2,
# ROWS-NEXT: .param .u64 scale_rows_param_3
# ROWS: ld.param.b64 %rd{{[0-9]+}}, [scale_rows_param_3];
# ROWS: mul.lo.s64
# ROWSJSON: "grid_expr": ["ceildiv(r, 4)", "", ""],
# ROWSJSON-NEXT: "dynamic_dims": ["r", "n"],
#
# ERR: error: the cuda target computes a grid extent at launch only from constants and T.dynamic dimensions
# The C launcher takes the dimensions after the tensors; the grid's x
# extent is computed at launch, so it has no macro.
# AOT: X: float32[r][n], read
# AOT: then each dynamic dimension's value
# AOT: tessel_status tessel_scale_rows_launch(tessel_scale_rows_handle *kernel, CUstream stream,
# AOT-NEXT: CUdeviceptr X,
# AOT-NEXT: CUdeviceptr Y,
# AOT-NEXT: int64_t r,
# AOT-NEXT: int64_t n);
# AOT: /* TESSEL_SCALE_ROWS_GRID_X: ceildiv(r, 4), at launch */
# AOT-NEXT: #define TESSEL_SCALE_ROWS_GRID_Y 1
import tessel
import tessel.language as T


@tessel.jit
def scale_rows(block=4):
    R = T.dynamic("r")
    N = T.dynamic("n")

    @T.prim_func
    def main(X: T.Tensor((R, N), "float32"), Y: T.Tensor((R, N), "float32")):
        with T.Kernel(T.ceildiv(R, block), threads=128) as bx:
            for i in T.serial(block):
                for j in T.serial(N):
                    if (bx * block + i < R) & (j < N):
                        Y[bx * block + i, j] = X[bx * block + i, j] * 2.0

    return main


@tessel.jit
def grid_from_scalar(n=64):
    @T.prim_func
    def main(X: T.Tensor((n,), "float32"), blocks: T.int32):
        with T.Kernel(blocks, threads=128) as bx:
            X[bx] = 0.0

    return main
