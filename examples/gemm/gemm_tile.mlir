// A 256x256x256 fp16 GEMM in the tile dialect, as the frontend emits it for the
// matmul factory in README.md with 128x128x64 tiles and 3 pipeline stages.
func.func @matmul(%A: memref<256x256xf16, #tile.scope<global>>,
                  %B: memref<256x256xf16, #tile.scope<global>>,
                  %C: memref<256x256xf16, #tile.scope<global>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  tile.kernel grid(%c2, %c2) threads(128) {
  ^bb0(%bx: index, %by: index):
    %As = tile.alloc : memref<128x64xf16, #tile.scope<shared>>
    %Bs = tile.alloc : memref<64x128xf16, #tile.scope<shared>>
    %Cf = tile.alloc : memref<128x128xf32, #tile.scope<fragment>>
    %zero = arith.constant 0.0 : f32
    tile.fill %Cf, %zero : memref<128x128xf32, #tile.scope<fragment>>
    %row = arith.muli %by, %c128 : index
    %col = arith.muli %bx, %c128 : index
    tile.pipelined %c0 to %c4 step %c1 stages 3 {
    ^bb0(%k: index):
      %kk = arith.muli %k, %c64 : index
      tile.copy %A[%row, %kk] [128, 64] to %As[%c0, %c0] [128, 64]
          : memref<256x256xf16, #tile.scope<global>> to memref<128x64xf16, #tile.scope<shared>>
      tile.copy %B[%kk, %col] [64, 128] to %Bs[%c0, %c0] [64, 128]
          : memref<256x256xf16, #tile.scope<global>> to memref<64x128xf16, #tile.scope<shared>>
      tile.gemm %As, %Bs, %Cf
          : memref<128x64xf16, #tile.scope<shared>>, memref<64x128xf16, #tile.scope<shared>>,
            memref<128x128xf32, #tile.scope<fragment>>
    }
    tile.copy %Cf[%c0, %c0] [128, 128] to %C[%row, %col] [128, 128]
        : memref<128x128xf32, #tile.scope<fragment>> to memref<256x256xf16, #tile.scope<global>>
  }
  return
}
