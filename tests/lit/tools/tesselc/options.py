# The tesselc driver: --help, artifacts, debugging flags and bad options.
# RUN: tesselc --help | FileCheck %s --check-prefix=HELP
# RUN: tesselc %s --entry add -D N=8 --emit tile,cpu-llvm | FileCheck %s --check-prefix=BOTH
# RUN: tesselc %s --entry add -D N=8 --emit cpu-llvm --dump-ir-after-all 2>&1 >/dev/null | FileCheck %s --check-prefix=DUMP
# RUN: tesselc %s --entry add -D N=8 --timing 2>&1 >/dev/null | FileCheck %s --check-prefix=TIMING
# RUN: rm -rf %t && tesselc %s --entry add -D N=8 --emit tile,cpu-llvm -o %t && ls %t | FileCheck %s --check-prefix=FILES
# RUN: not tesselc %s --entry add -D N=8 --emit wasm 2>&1 | FileCheck %s --check-prefix=EMIT
# RUN: not tesselc %s --entry add -D N=8 --emit ptx --target sm_75 2>&1 | FileCheck %s --check-prefix=TARGET
# RUN: not tesselc %s --entry add -D 8=N 2>&1 | FileCheck %s --check-prefix=BADNAME
# RUN: not tesselc %s --entry add -D N=8 -D N=9 2>&1 | FileCheck %s --check-prefix=TWICE
# RUN: not tesselc %s --entry add -D "N=(" 2>&1 | FileCheck %s --check-prefix=VALUE
# RUN: not tesselc %s --entry add --no-such-flag 2>&1 | FileCheck %s --check-prefix=UNKNOWN
# RUN: not tesselc %S/no-such-file.py --entry add 2>&1 | FileCheck %s --check-prefix=MISSING
# RUN: not tesselc %s --entry add -D N=8 --emit object 2>&1 | FileCheck %s --check-prefix=NOOUT
# RUN: not tesselc %s --entry add --dispatch N --emit header -o %t 2>&1 | FileCheck %s --check-prefix=NOVARIANT
# RUN: not tesselc %s --entry add -D N=8 --variant N=16 --emit header -o %t 2>&1 | FileCheck %s --check-prefix=TWICEVARIANT
# RUN: not tesselc %s --entry add --variant N=8 --variant X=1 --dispatch N --emit header -o %t 2>&1 | FileCheck %s --check-prefix=NOKEY
# RUN: not tesselc %s --entry add --variant N=8 --emit ptx -o %t 2>&1 | FileCheck %s --check-prefix=VARIANTKIND
# RUN: not tesselc %s --entry add --variant N=8 --variant N=16 --dispatch-bounds 8 --emit header -o %t 2>&1 | FileCheck %s --check-prefix=BOUNDSNOKEY
# RUN: not tesselc %s --entry add --variant N=8 --variant N=16 --dispatch m --dispatch-bounds 8,9 --emit header -o %t 2>&1 | FileCheck %s --check-prefix=BOUNDSCOUNT
# RUN: not tesselc %s --entry add --variant N=8 --variant N=16 --variant N=32 --dispatch m --dispatch-bounds 9,8 --emit header -o %t 2>&1 | FileCheck %s --check-prefix=BOUNDSORDER
# RUN: not tesselc %s --entry add --variant N=8 --variant N=16 --dispatch N --dispatch-bounds 8 --emit header -o %t 2>&1 | FileCheck %s --check-prefix=BOUNDSDIM
import tessel.language as T

# HELP: --dispatch=<NAME>
# HELP: --dispatch-bounds=<B1,B2,...>
# HELP: --dump-ir-after-all
# HELP: --emit=<KINDS>
# HELP-SAME: header and object
# HELP-SAME: static-lib
# HELP: --entry=<NAME>
# HELP: --target=<ARCH>
# HELP: --timing
# HELP: --tma
# HELP: --variant=<NAME=VALUE,...>
# HELP: --warp-specialize
# BOTH: tile.kernel
# BOTH: define void @_mlir_ciface_add
# DUMP: IR Dump After TileLowerToLoopsPass (tile-lower-to-loops)
# DUMP: IR Dump After ReconcileUnrealizedCastsPass
# TIMING: tesselc: frontend {{[0-9.]+}} ms
# FILES: add.cpu.ll
# FILES: add.tile.mlir
# EMIT: unknown --emit kind 'wasm' (known: tile, cpu-llvm, llvm, ptx, cubin, fatbin, manifest, header, object, static-lib)
# TARGET: unknown --target 'sm_75' (known: sm_90a, sm_90)
# BADNAME: bad -D '8=N': expected NAME=VALUE
# TWICE: -D N is given twice
# VALUE: <-D N>:1:1: error: '(' was never closed
# UNKNOWN: Unknown command line argument '--no-such-flag'
# MISSING: cannot read '{{.*}}no-such-file.py'
# NOOUT: --emit object writes a binary file: give -o DIR
# NOVARIANT: --dispatch needs --variant sets to choose from
# TWICEVARIANT: --variant 'N=16' sets N, which -D already sets
# NOKEY: --dispatch N: --variant 'X=1' does not set it to an integer
# VARIANTKIND: --variant works with --emit header, object, static-lib and manifest, not 'ptx'
# BOUNDSNOKEY: --dispatch-bounds needs --dispatch NAME (a T.dynamic dimension)
# BOUNDSCOUNT: --dispatch-bounds gives 2 bound(s) for 2 variant(s); it takes one fewer (the last variant serves the rest)
# BOUNDSORDER: --dispatch-bounds must increase: 9 then 8
# BOUNDSDIM: error: --dispatch N with ranges: 'N' is not a dynamic dimension of 'add'


def add(N):
    @T.prim_func
    def main(X: T.Tensor((N,), "float32")):
        with T.Kernel(1) as bx:
            for i in T.Parallel(N):
                X[i] = X[i] + 1.0
    return main
