# tesselc --emit header,object,static-lib,manifest: the C launcher of a
# kernel. The header declares the ABI (handle, load/launch/unload, statuses,
# the tensors in the launch's comment) without needing cuda.h; the object
# defines the three entry points and calls the runtime; the archive holds
# the object; the manifest records the signature and the source's hash.
# RUN: rm -rf %t && tesselc %S/../../../../examples/gemm/gemm.py --entry matmul -D M=256 -D N=512 -D K=128 --emit header,object,static-lib,manifest -o %t
# RUN: FileCheck %s --check-prefix=HEADER < %t/matmul.h
# RUN: %llvm_tools/llvm-nm %t/matmul.o | FileCheck %s --check-prefix=SYMBOLS
# RUN: %llvm_tools/llvm-ar t %t/libmatmul.a | FileCheck %s --check-prefix=ARCHIVE
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/matmul.json
# A scalar the C launcher cannot pass is an error.
# RUN: not tesselc %s --entry halves -D N=64 --emit header -o %t/bad 2>&1 | FileCheck %s --check-prefix=SCALAR
#
# HEADER: #ifndef TESSEL_KERNEL_MATMUL_H
# HEADER: #include <stdint.h>
# HEADER: #ifndef CUDA_VERSION
# HEADER: typedef unsigned long long CUdeviceptr;
# HEADER: #ifndef TESSEL_STATUS_DEFINED
# HEADER: TESSEL_NO_DRIVER = 1,
# HEADER: const char *tessel_status_string(tessel_status status);
# HEADER: typedef struct tessel_matmul_handle tessel_matmul_handle;
# HEADER: tessel_status tessel_matmul_load(CUcontext ctx, tessel_matmul_handle **out);
# HEADER: *   A: float16[256][128], read
# HEADER: *   B: float16[128][512], read
# HEADER: *   C: float16[256][512], written
# HEADER: tessel_status tessel_matmul_launch(tessel_matmul_handle *kernel, CUstream stream,
# HEADER-NEXT: CUdeviceptr A,
# HEADER-NEXT: CUdeviceptr B,
# HEADER-NEXT: CUdeviceptr C);
# HEADER: void tessel_matmul_unload(tessel_matmul_handle *kernel);
# HEADER: #define TESSEL_MATMUL_GRID_X 4
# HEADER: #define TESSEL_MATMUL_GRID_Y 2
# HEADER: #define TESSEL_MATMUL_THREADS 256
# SYMBOLS: U tessel_aot_launch
# SYMBOLS: U tessel_aot_load
# SYMBOLS: U tessel_aot_unload
# SYMBOLS: T tessel_matmul_launch
# SYMBOLS: T tessel_matmul_load
# SYMBOLS: T tessel_matmul_unload
# ARCHIVE: matmul.o
# MANIFEST: "name": "matmul"
# MANIFEST: "grid": [4, 2, 1]
# MANIFEST: {"name": "B", "dtype": "float16", "shape": [128, 512], "tensor": true, "written": false}
# MANIFEST: "source_sha256": "{{[0-9a-f]+}}"
# SCALAR: parameter 'scale' is a float16 scalar, which the C launcher cannot pass yet
import tessel
import tessel.language as T


def halves(N):
    @T.prim_func
    def main(X: T.Tensor((N,), "float16"), scale: T.float16):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(N):
                X[i] = X[i] * scale
    return main
