// RUN: tessel-opt %s -split-input-file -verify-diagnostics
// One case per verifier branch of the tile dialect.

// kernel: grid rank
func.func @kernel_no_grid() {
  // expected-error @+1 {{'tile.kernel' op needs 1 to 3 grid extents, got 0}}
  tile.kernel grid() threads(128) {
  ^bb0:
  }
  return
}

// -----

// kernel: four grid extents
func.func @kernel_four_dims(%n: index) {
  // expected-error @+1 {{needs 1 to 3 grid extents, got 4}}
  tile.kernel grid(%n, %n, %n, %n) threads(128) {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
  }
  return
}

// -----

// kernel: thread count
func.func @kernel_threads(%n: index) {
  // expected-error @+1 {{threads must be in [1, 1024], got 2048}}
  tile.kernel grid(%n) threads(2048) {
  ^bb0(%bx: index):
  }
  return
}

// -----

// kernel: cluster rank
func.func @kernel_cluster_rank(%n: index) {
  // expected-error @+1 {{cluster needs 1 to 3 extents, got 4}}
  tile.kernel grid(%n) threads(128) cluster [1, 1, 1, 1] {
  ^bb0(%bx: index):
  }
  return
}

// -----

// kernel: cluster extents positive
func.func @kernel_cluster_zero(%n: index) {
  // expected-error @+1 {{cluster extents must be positive}}
  tile.kernel grid(%n) threads(128) cluster [2, 0] {
  ^bb0(%bx: index):
  }
  return
}

// -----

// kernel: nesting
func.func @kernel_nested(%n: index) {
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{cannot be nested inside another tile.kernel}}
    tile.kernel grid(%n) threads(128) {
    ^bb0(%by: index):
    }
  }
  return
}

// -----

// kernel: one block index per grid extent
func.func @kernel_args(%n: index) {
  // expected-error @+1 {{body must take one block index per grid extent (2), got 1}}
  tile.kernel grid(%n, %n) threads(128) {
  ^bb0(%bx: index):
  }
  return
}

// -----

// kernel: block indices are index
func.func @kernel_arg_type(%n: index) {
  // expected-error @+1 {{block indices must have type index}}
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: i32):
  }
  return
}

// -----

// barrier: outside a kernel
func.func @barrier_outside() {
  // expected-error @+1 {{'tile.barrier' op must be inside a tile.kernel}}
  tile.barrier
  return
}

// -----

// alloc: global scope
func.func @alloc_global(%n: index) {
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{result must be in shared, fragment or local memory, not global}}
    %a = tile.alloc : memref<16xf32, #tile.scope<global>>
  }
  return
}

// -----

// alloc: memory space that is not a tile scope
func.func @alloc_foreign_space(%n: index) {
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{result has memory space 3 : i64, which is not a #tile.scope}}
    %a = tile.alloc : memref<16xf32, 3>
  }
  return
}

// -----

// alloc: element type
func.func @alloc_vector_elements(%n: index) {
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{element type must be a scalar, got 'vector<4xf32>'}}
    %a = tile.alloc : memref<16xvector<4xf32>, #tile.scope<shared>>
  }
  return
}

// -----

// alloc: outside a kernel
func.func @alloc_outside() {
  // expected-error @+1 {{'tile.alloc' op must be inside a tile.kernel}}
  %a = tile.alloc : memref<16xf32, #tile.scope<shared>>
  return
}

// -----

// alloc: layout on a shared buffer
func.func @alloc_layout_shared(%n: index) {
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{only fragments take a layout}}
    %a = tile.alloc {layout = #tile.fragment<map = (i) -> (i, 0), threads = 128>} : memref<16xf32, #tile.scope<shared>>
  }
  return
}

// -----

// alloc: layout rank
func.func @alloc_layout_rank(%n: index) {
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{layout map takes 1 indices but the fragment has rank 2}}
    %a = tile.alloc {layout = #tile.fragment<map = (i) -> (i, 0), threads = 128>} : memref<16x4xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// fragment layout: two results
// expected-error @+1 {{fragment layout map must have 2 results (thread, register index), got 1}}
#bad_results = #tile.fragment<map = (i) -> (i), threads = 32>

// -----

// fragment layout: no symbols
// expected-error @+1 {{fragment layout map must not have symbols}}
#bad_symbols = #tile.fragment<map = (i)[s] -> (i, s), threads = 32>

// -----

// fragment layout: thread count
// expected-error @+1 {{fragment layout needs a positive thread count, got 0}}
#bad_threads = #tile.fragment<map = (i) -> (i, 0), threads = 0>

// -----

// fragment layout: replication
// expected-error @+1 {{fragment layout needs a positive replication, got 0}}
#bad_replicate = #tile.fragment<map = (i) -> (i, 0), threads = 32, replicate = 0>

// -----

// copy: offsets per dimension
func.func @copy_offsets(%A: memref<64x64xf16>, %i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<16x16xf16, #tile.scope<shared>>
    // expected-error @+1 {{source takes 2 offsets, got 1}}
    tile.copy %A[%i] [16, 16] to %s[%i, %i] [16, 16] : memref<64x64xf16> to memref<16x16xf16, #tile.scope<shared>>
  }
  return
}

// -----

// copy: sizes per dimension
func.func @copy_sizes(%A: memref<64x64xf16>, %i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<16x16xf16, #tile.scope<shared>>
    // expected-error @+1 {{destination takes 2 sizes, got 1}}
    tile.copy %A[%i, %i] [16, 16] to %s[%i, %i] [256] : memref<64x64xf16> to memref<16x16xf16, #tile.scope<shared>>
  }
  return
}

// -----

// copy: positive sizes
func.func @copy_zero_size(%A: memref<64x64xf16>, %i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<16x16xf16, #tile.scope<shared>>
    // expected-error @+1 {{source size 1 must be positive, got 0}}
    tile.copy %A[%i, %i] [16, 0] to %s[%i, %i] [16, 16] : memref<64x64xf16> to memref<16x16xf16, #tile.scope<shared>>
  }
  return
}

// -----

// copy: region larger than an on-chip tile
func.func @copy_too_big(%A: memref<64x64xf16>, %i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<16x16xf16, #tile.scope<shared>>
    // expected-error @+1 {{destination region [32, 16] does not fit in its buffer [16, 16]}}
    tile.copy %A[%i, %i] [32, 16] to %s[%i, %i] [32, 16] : memref<64x64xf16> to memref<16x16xf16, #tile.scope<shared>>
  }
  return
}

// -----

// copy: shapes disagree
func.func @copy_shapes(%A: memref<64x64xf16>, %i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<16x16xf16, #tile.scope<shared>>
    // expected-error @+1 {{source region [16, 8] and destination region [16, 16] differ in shape}}
    tile.copy %A[%i, %i] [16, 8] to %s[%i, %i] [16, 16] : memref<64x64xf16> to memref<16x16xf16, #tile.scope<shared>>
  }
  return
}

// -----

// copy: foreign memory space
func.func @copy_foreign_space(%A: memref<64x64xf16, 1>, %i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<16x16xf16, #tile.scope<shared>>
    // expected-error @+1 {{source has memory space 1 : i64, which is not a #tile.scope}}
    tile.copy %A[%i, %i] [16, 16] to %s[%i, %i] [16, 16] : memref<64x64xf16, 1> to memref<16x16xf16, #tile.scope<shared>>
  }
  return
}

// -----

// copy: non-scalar elements
func.func @copy_vectors(%A: memref<64xvector<2xf16>>, %B: memref<64xvector<2xf16>>, %i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{copies scalar elements only}}
    tile.copy %A[%i] [16] to %B[%i] [16] : memref<64xvector<2xf16>> to memref<64xvector<2xf16>>
  }
  return
}

// -----

// fill: global destination
func.func @fill_global(%A: memref<64xf32, #tile.scope<global>>, %i: index) {
  %z = arith.constant 0.0 : f32
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{destination must be in shared, fragment or local memory, not global}}
    tile.fill %A, %z : memref<64xf32, #tile.scope<global>>
  }
  return
}

// -----

// gemm: ranks
func.func @gemm_rank(%i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<16xf16, #tile.scope<shared>>
    %b = tile.alloc : memref<16x16xf16, #tile.scope<shared>>
    %c = tile.alloc : memref<16x16xf32, #tile.scope<fragment>>
    // expected-error @+1 {{operands must be 2-d tiles, got ranks 1, 2, 2}}
    tile.gemm %a, %b, %c : memref<16xf16, #tile.scope<shared>>, memref<16x16xf16, #tile.scope<shared>>, memref<16x16xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// gemm: A in global memory
func.func @gemm_a_global(%a: memref<16x16xf16>, %i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %b = tile.alloc : memref<16x16xf16, #tile.scope<shared>>
    %c = tile.alloc : memref<16x16xf32, #tile.scope<fragment>>
    // expected-error @+1 {{A must be in shared, fragment or local memory, not global}}
    tile.gemm %a, %b, %c : memref<16x16xf16>, memref<16x16xf16, #tile.scope<shared>>, memref<16x16xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// gemm: accumulator in shared memory
func.func @gemm_c_shared(%i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<16x16xf16, #tile.scope<shared>>
    %b = tile.alloc : memref<16x16xf16, #tile.scope<shared>>
    %c = tile.alloc : memref<16x16xf32, #tile.scope<shared>>
    // expected-error @+1 {{C must be in fragment or local memory, not shared}}
    tile.gemm %a, %b, %c : memref<16x16xf16, #tile.scope<shared>>, memref<16x16xf16, #tile.scope<shared>>, memref<16x16xf32, #tile.scope<shared>>
  }
  return
}

// -----

// gemm: K extents
func.func @gemm_k(%i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %b = tile.alloc : memref<64x16xf16, #tile.scope<shared>>
    %c = tile.alloc : memref<64x16xf32, #tile.scope<fragment>>
    // expected-error @+1 {{K extents differ: A gives 32, B gives 64}}
    tile.gemm %a, %b, %c : memref<64x32xf16, #tile.scope<shared>>, memref<64x16xf16, #tile.scope<shared>>, memref<64x16xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// gemm: C shape
func.func @gemm_c_shape(%i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %b = tile.alloc : memref<16x32xf16, #tile.scope<shared>>
    %c = tile.alloc : memref<64x32xf32, #tile.scope<fragment>>
    // expected-error @+1 {{C must be 64x16 for these operands, got [64, 32]}}
    tile.gemm %a, %b, %c transpose_b : memref<64x32xf16, #tile.scope<shared>>, memref<16x32xf16, #tile.scope<shared>>, memref<64x32xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// gemm: input element types
func.func @gemm_f64(%i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<16x16xf64, #tile.scope<shared>>
    %b = tile.alloc : memref<16x16xf64, #tile.scope<shared>>
    %c = tile.alloc : memref<16x16xf64, #tile.scope<fragment>>
    // expected-error @+1 {{inputs must be f16, bf16, f32, f8E4M3FN, f8E5M2 or i8, got 'f64' and 'f64'}}
    tile.gemm %a, %b, %c : memref<16x16xf64, #tile.scope<shared>>, memref<16x16xf64, #tile.scope<shared>>, memref<16x16xf64, #tile.scope<fragment>>
  }
  return
}

// -----

// gemm: A and B types differ
func.func @gemm_mixed(%i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<16x16xf16, #tile.scope<shared>>
    %b = tile.alloc : memref<16x16xbf16, #tile.scope<shared>>
    %c = tile.alloc : memref<16x16xf32, #tile.scope<fragment>>
    // expected-error @+1 {{A and B element types differ: 'f16' and 'bf16'}}
    tile.gemm %a, %b, %c : memref<16x16xf16, #tile.scope<shared>>, memref<16x16xbf16, #tile.scope<shared>>, memref<16x16xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// gemm: accumulator type
func.func @gemm_accum(%i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<16x16xbf16, #tile.scope<shared>>
    %b = tile.alloc : memref<16x16xbf16, #tile.scope<shared>>
    %c = tile.alloc : memref<16x16xbf16, #tile.scope<fragment>>
    // expected-error @+1 {{accumulator type 'bf16' cannot hold products of 'bf16'}}
    tile.gemm %a, %b, %c : memref<16x16xbf16, #tile.scope<shared>>, memref<16x16xbf16, #tile.scope<shared>>, memref<16x16xbf16, #tile.scope<fragment>>
  }
  return
}

// -----

// reduce: global source
func.func @reduce_global(%A: memref<16x16xf32>, %i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %m = tile.alloc : memref<16xf32, #tile.scope<fragment>>
    // expected-error @+1 {{source must be in shared, fragment or local memory, not global}}
    tile.reduce max %A, %m dim 1 : memref<16x16xf32> to memref<16xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// reduce: dim in range
func.func @reduce_dim(%i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<16x16xf32, #tile.scope<fragment>>
    %m = tile.alloc : memref<16xf32, #tile.scope<fragment>>
    // expected-error @+1 {{dim 2 is out of range for a rank-2 source}}
    tile.reduce sum %s, %m dim 2 : memref<16x16xf32, #tile.scope<fragment>> to memref<16xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// reduce: destination shape
func.func @reduce_shape(%i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<16x8xf32, #tile.scope<fragment>>
    %m = tile.alloc : memref<8xf32, #tile.scope<fragment>>
    // expected-error @+1 {{destination must have shape [16], got [8]}}
    tile.reduce sum %s, %m dim 1 : memref<16x8xf32, #tile.scope<fragment>> to memref<8xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// reduce: element types
func.func @reduce_types(%i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<16x8xf32, #tile.scope<fragment>>
    %m = tile.alloc : memref<16xf16, #tile.scope<fragment>>
    // expected-error @+1 {{source and destination element types differ: 'f32' and 'f16'}}
    tile.reduce max %s, %m dim 1 : memref<16x8xf32, #tile.scope<fragment>> to memref<16xf16, #tile.scope<fragment>>
  }
  return
}

// -----

// parallel: no extents
func.func @parallel_empty(%i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{needs at least one extent}}
    tile.parallel [] {
    ^bb0:
    }
  }
  return
}

// -----

// parallel: negative extent
func.func @parallel_negative(%i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{extents must not be negative}}
    tile.parallel [4, -1] {
    ^bb0(%a: index, %b: index):
    }
  }
  return
}

// -----

// parallel: outside a kernel
func.func @parallel_outside() {
  // expected-error @+1 {{'tile.parallel' op must be inside a tile.kernel}}
  tile.parallel [4] {
  ^bb0(%a: index):
  }
  return
}

// -----

// parallel: one index per extent
func.func @parallel_args(%i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{body must take one index per extent (2), got 1}}
    tile.parallel [4, 4] {
    ^bb0(%a: index):
    }
  }
  return
}

// -----

// parallel: index types
func.func @parallel_arg_type(%i: index) {
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{loop indices must have type index}}
    tile.parallel [4] {
    ^bb0(%a: i64):
    }
  }
  return
}

// -----

// pipelined: negative stages
func.func @pipelined_stages(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{num_stages must not be negative, got -1}}
  tile.pipelined %c0 to %n step %c1 stages -1 {
  ^bb0(%k: index):
  }
  return
}

// -----

// pipelined: step
func.func @pipelined_step(%n: index) {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{step must be positive, got 0}}
  tile.pipelined %c0 to %n step %c0 stages 2 {
  ^bb0(%k: index):
  }
  return
}

// -----

// pipelined: order is a permutation
func.func @pipelined_order(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{order must be a permutation of 0..1}}
  tile.pipelined %c0 to %n step %c1 stages 2 order [1, 1] {
  ^bb0(%k: index):
    %x = arith.constant 0 : index
    %y = arith.constant 1 : index
  }
  return
}

// -----

// pipelined: stage range
func.func @pipelined_stage_range(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{stage 3 is out of range [0, 1] for 2 stages}}
  tile.pipelined %c0 to %n step %c1 stages 2 stage [0, 3] {
  ^bb0(%k: index):
    %x = arith.constant 0 : index
    %y = arith.constant 1 : index
  }
  return
}

// -----

// pipelined: one index argument
func.func @pipelined_args(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{body must take exactly one index argument}}
  tile.pipelined %c0 to %n step %c1 stages 2 {
  ^bb0(%k: index, %j: index):
  }
  return
}

// -----

// pipelined: order covers every statement (pure arithmetic does not count)
func.func @pipelined_order_length(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tile.kernel grid(%n) threads(32) {
  ^bb0(%bx: index):
    // expected-error @+1 {{order has 1 entries but the body has 2 statements}}
    tile.pipelined %c0 to %n step %c1 stages 2 order [0] {
    ^bb0(%k: index):
      %x = arith.addi %k, %c1 : index
      tile.barrier
      tile.barrier
    }
  }
  return
}

// -----

// atomic_add: fragment destination
func.func @atomic_fragment(%i: index) {
  %one = arith.constant 1.0 : f32
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %f = tile.alloc : memref<16xf32, #tile.scope<fragment>>
    // expected-error @+1 {{destination must be in global or shared memory, not fragment}}
    tile.atomic_add %one, %f[%bx] : memref<16xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// atomic_add: index count
func.func @atomic_indices(%A: memref<16x16xf32>, %i: index) {
  %one = arith.constant 1.0 : f32
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{takes 2 indices, got 1}}
    tile.atomic_add %one, %A[%bx] : memref<16x16xf32>
  }
  return
}

// -----

// atomic_add: element type
func.func @atomic_i8(%A: memref<16xi8>, %i: index) {
  %one = arith.constant 1 : i8
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{cannot add atomically to 'i8' elements}}
    tile.atomic_add %one, %A[%bx] : memref<16xi8>
  }
  return
}

// -----

// print: value types
func.func @print_tensor(%t: tensor<4xf32>) {
  // expected-error @+1 {{prints scalars and buffers, not 'tensor<4xf32>'}}
  tile.print "t" %t : tensor<4xf32>
  return
}

// -----

// atomic_add: previous value of another type
func.func @atomic_prev_type(%A: memref<16xi32>, %i: index) {
  %one = arith.constant 1 : i32
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{yields the previous element, of type 'i32', not 'i64'}}
    %old = tile.atomic_add %one, %A[%bx] : memref<16xi32> -> i64
  }
  return
}

// -----

// atomic_add: unknown memory order
func.func @atomic_order(%A: memref<16xi32>, %i: index) {
  %one = arith.constant 1 : i32
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    // expected-error @+1 {{has memory_order 'consume'; expected relaxed, acquire, release, acq_rel or seq_cst}}
    tile.atomic_add %one, %A[%bx] {memory_order = "consume"} : memref<16xi32>
  }
  return
}
