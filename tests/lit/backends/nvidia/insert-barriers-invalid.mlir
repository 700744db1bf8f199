// nvidia-insert-barriers refuses a device while loop that needs a barrier
// in its body: threads may leave it at different iterations.
// RUN: tessel-opt %s --tile-infer-layouts --tile-plan-memory --nvidia-insert-barriers -verify-diagnostics -split-input-file

// A loop inside the while body rewrites a tile each iteration: barriers
// would stand inside the while.
func.func @while_inner_barrier(%a: memref<4x256xf32, #tile.scope<global>>, %o: memref<4x256xf32, #tile.scope<global>>, %n: memref<1xi32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %i0 = arith.constant 0 : i32
    %i1 = arith.constant 1 : i32
    %x = tile.alloc : memref<256xf32, #tile.scope<shared>>
    %y = tile.alloc : memref<256xf32, #tile.scope<shared>>
    %cnt = tile.alloc : memref<1xi32, #tile.scope<local>>
    %n0 = memref.load %n[%c0] : memref<1xi32, #tile.scope<global>>
    memref.store %n0, %cnt[%c0] : memref<1xi32, #tile.scope<local>>
    tile.copy %a[%c0, %c0] [1, 256] to %y[%c0] [256] : memref<4x256xf32, #tile.scope<global>> to memref<256xf32, #tile.scope<shared>>
    // expected-error @+1 {{this while loop's body shares memory between threads}}
    scf.while : () -> () {
      %v = memref.load %cnt[%c0] : memref<1xi32, #tile.scope<local>>
      %go = arith.cmpi sgt, %v, %i0 : i32
      scf.condition(%go)
    } do {
      scf.for %k = %c0 to %c4 step %c1 {
        tile.copy %a[%k, %c0] [1, 256] to %x[%c0] [256] : memref<4x256xf32, #tile.scope<global>> to memref<256xf32, #tile.scope<shared>>
        tile.parallel [256] {
        ^bb0(%i: index):
          %c255 = arith.constant 255 : index
          %j = arith.subi %c255, %i : index
          %v = memref.load %x[%j] : memref<256xf32, #tile.scope<shared>>
          memref.store %v, %o[%k, %i] : memref<4x256xf32, #tile.scope<global>>
          tile.yield
        }
      }
      tile.parallel [256] {
      ^bb0(%i: index):
        %v = memref.load %y[%i] : memref<256xf32, #tile.scope<shared>>
        memref.store %v, %o[%c0, %i] : memref<4x256xf32, #tile.scope<global>>
        tile.yield
      }
      %v = memref.load %cnt[%c0] : memref<1xi32, #tile.scope<local>>
      %w = arith.subi %v, %i1 : i32
      memref.store %w, %cnt[%c0] : memref<1xi32, #tile.scope<local>>
      scf.yield
    }
    tile.yield
  }
  return
}
