// tile-check-register-budget: a fragment (what its layout gives a thread)
// or a local buffer (all of it, per thread) past 255 registers per thread,
// or past 64K over the block, is refused at its allocation; the largest
// that fit pass.
// RUN: tessel-opt %s -split-input-file -tile-infer-layouts -tile-check-register-budget -verify-diagnostics

// 128x4096 f32 over 128 threads: 4096 registers per thread.
func.func @big_fragment(%A: memref<128x4096xf32, #tile.scope<global>>, %n: index) {
  %c0 = arith.constant 0 : index
  %z = arith.constant 0.0 : f32
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{the fragment (128x4096xf32) needs 4096 registers per thread (4096 elements of 'f32' per thread over 128 threads); a thread has at most 255}}
    %acc = tile.alloc : memref<128x4096xf32, #tile.scope<fragment>>
    tile.fill %acc, %z : memref<128x4096xf32, #tile.scope<fragment>>
    tile.copy %acc[%c0, %c0] [128, 4096] to %A[%c0, %c0] [128, 4096] : memref<128x4096xf32, #tile.scope<fragment>> to memref<128x4096xf32, #tile.scope<global>>
  }
  return
}

// -----

// A local buffer is whole in every thread; 300 f16 pack into 150 registers.
func.func @locals(%n: index) {
  %z = arith.constant 0.0 : f32
  %h = arith.constant 0.0 : f16
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{the local buffer (256xf32) needs 256 registers per thread}}
    %big = tile.alloc : memref<256xf32, #tile.scope<local>>
    %half = tile.alloc : memref<300xf16, #tile.scope<local>>
    %edge = tile.alloc : memref<255xf32, #tile.scope<local>>
    tile.fill %big, %z : memref<256xf32, #tile.scope<local>>
    tile.fill %half, %h : memref<300xf16, #tile.scope<local>>
    tile.fill %edge, %z : memref<255xf32, #tile.scope<local>>
  }
  return
}

// -----

// 1024 threads share 64K registers: 64 each for one buffer, not 65.
func.func @block_budget(%n: index) {
  %z = arith.constant 0.0 : f32
  tile.kernel grid(%n) threads(1024) {
  ^bb0(%bx: index):
    // expected-error @+1 {{the local buffer (65xf32) needs 65 registers per thread, 66560 over the 1024 threads of the block; a block has at most 65536: use a smaller tile}}
    %over = tile.alloc : memref<65xf32, #tile.scope<local>>
    %fits = tile.alloc : memref<64xf32, #tile.scope<local>>
    tile.fill %over, %z : memref<65xf32, #tile.scope<local>>
    tile.fill %fits, %z : memref<64xf32, #tile.scope<local>>
  }
  return
}

// -----

// A 128x128 f32 accumulator over 128 threads (a GEMM's): 128 registers, fine.
func.func @gemm_sized(%A: memref<128x128xf32, #tile.scope<global>>, %n: index) {
  %c0 = arith.constant 0 : index
  %z = arith.constant 0.0 : f32
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    %acc = tile.alloc : memref<128x128xf32, #tile.scope<fragment>>
    tile.fill %acc, %z : memref<128x128xf32, #tile.scope<fragment>>
    tile.copy %acc[%c0, %c0] [128, 128] to %A[%c0, %c0] [128, 128] : memref<128x128xf32, #tile.scope<fragment>> to memref<128x128xf32, #tile.scope<global>>
  }
  return
}
