# tesselc --emit fatbin packages the sm_90a cubin and the PTX with the CUDA
# toolkit's fatbinary: the file starts with the fatbin magic (0xBA55ED50,
# little-endian) and holds both images (the PTX is compressed text, so the
# entry's name is looked for in the cubin part: ELF symbol names).
# REQUIRES: ptxas, fatbinary
# RUN: rm -rf %t && tesselc %S/../../Frontend/corpus/gemm_fp16.py --entry matmul -D M=256 -D N=256 -D K=256 --emit fatbin,ptx -o %t
# RUN: od -A n -t x1 -N 4 %t/matmul.fatbin | FileCheck %s --check-prefix=MAGIC
# RUN: strings %t/matmul.fatbin | FileCheck %s --check-prefix=IMAGES
# MAGIC: 50 ed 55 ba
# IMAGES: matmul
# Without fatbinary next to ptxas (nor on PATH) the error says what to do.
# RUN: rm -rf %t.bin && mkdir -p %t.bin && ln -s %ptxas %t.bin/ptxas
# RUN: env PATH=%t.bin:%tessel_tools:%llvm_tools not tesselc %S/../../Frontend/corpus/gemm_fp16.py --entry matmul -D M=256 -D N=256 -D K=256 --emit fatbin --ptxas %t.bin/ptxas -o %t 2>&1 | FileCheck %s --check-prefix=MISSING
# MISSING: error: no fatbinary found beside {{.*}}ptxas or on PATH; emit cubin and ptx instead
