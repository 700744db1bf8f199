//===- LowerGemm.cpp - T.gemm as warpgroup MMA ----------------------------===//
//
// Part of the tile-lower-to-nvvm pass (LowerTileToNVVM.cpp); KernelEmitter.h
// declares the emitter these methods belong to.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/KernelEmitter.h"
#include "backends/nvidia/Target.h"

#define DEBUG_TYPE "tile-lower-to-nvvm"

namespace tessel::nvidia::lowering {

//===----------------------------------------------------------------------===//
// Gemm
//===----------------------------------------------------------------------===//

/// The PTX name of a wgmma operand type.
static std::optional<NVVM::WGMMATypes> wgmmaType(Type t) {
  if (t.isF16())
    return NVVM::WGMMATypes::f16;
  if (t.isBF16())
    return NVVM::WGMMATypes::bf16;
  if (isa<Float8E4M3FNType>(t))
    return NVVM::WGMMATypes::e4m3;
  if (isa<Float8E5M2Type>(t))
    return NVVM::WGMMATypes::e5m2;
  if (t.isInteger(8)) // T.int8 is signed
    return NVVM::WGMMATypes::s8;
  return std::nullopt;
}

LogicalResult KernelEmitter::emitGemm(GemmOp op) {
  const Buffer *a = bufferOf(op.getA(), op), *bb = bufferOf(op.getB(), op),
               *c = bufferOf(op.getC(), op);
  if (!a || !bb || !c)
    return failure();
  const Buffer &A = *a, &B = *bb, &C = *c;
  Type eltA = A.elementType(), eltB = B.elementType();
  // int8 x int8 accumulates exactly in s32; floats in f32.
  bool integer = eltA.isInteger(8) && eltB.isInteger(8);
  Type accType = integer ? Type(b.getI32Type()) : Type(b.getF32Type());
  if (C.space != Space::Fragment || C.elementType() != accType)
    return op.emitError("on the cuda target the gemm accumulator must be ")
           << (integer ? "an int32" : "an f32") << " fragment";
  if (B.space != Space::Shared)
    return op.emitError("on the cuda target gemm's B operand must be in "
                        "shared memory (T.alloc_shared)");
  if (A.space != Space::Shared && A.space != Space::Fragment)
    return op.emitError("on the cuda target gemm's A operand must be in "
                        "shared memory or a fragment");
  auto typeA = wgmmaType(eltA), typeB = wgmmaType(eltB);
  if (eltA.isF32() || eltB.isF32())
    return op.emitError("float32 gemms are not supported on the cuda target "
                        "(wgmma's tf32 would round the operands to 10 mantissa "
                        "bits); T.copy the tiles to bfloat16 or float16 ones");
  if (!typeA || !typeB)
    return op.emitError("wgmma takes f16, bf16, float8_e4m3, float8_e5m2 or "
                        "int8 operands, not ")
           << eltA << " and " << eltB;
  // 8-bit operands (fp8, int8): K steps of 32, K-major only, no transpose
  // flags; int8 has no operand scales either.
  bool fp8 = byteWidth(eltA) == 1;
  if (fp8 != (byteWidth(eltB) == 1) || (!fp8 && eltA != eltB) ||
      eltA.isInteger(8) != eltB.isInteger(8))
    return op.emitError("gemm operands must have the same type (or both be "
                        "fp8)");
  int64_t m = C.shape()[0], n = C.shape()[1];
  int64_t k = A.shape()[op.getTransposeA() ? 0 : 1];
  int64_t kStep = fp8 ? 32 : 16;
  if (k % kStep)
    return op.emitError("the gemm's K extent (")
           << k << ") must be a multiple of " << kStep << " for wgmma";
  MmaAttr mma = op.getMmaAttr();
  if (!mma)
    return op.emitError("internal error: tile-infer-layouts chose no MMA for "
                        "this gemm");
  WarpgroupGrid grid = mmaGrid(mma);
  if (grid.alongM * grid.alongN * grid.unitThreads != threads)
    return op.emitError("internal error: the gemm's MMA grid does not cover "
                        "the block's threads");
  if (FragmentLayoutAttr want = accumulatorLayout(ctx, grid, m, n);
      !sameLayout(cast<AllocOp>(C.def).getLayoutAttr(), want, C.shape()))
    return op.emitError("the accumulator's layout is not the ")
           << stringifyMmaKind(mma.getKind()) << " layout this gemm needs";
  if (mma.getKind() == MmaKind::MmaSync)
    return emitMmaSync(op, grid);
  int64_t mw = m / grid.alongM, nw = n / grid.alongN;
  bool registerA = A.space == Space::Fragment;
  if (registerA) {
    if (fp8)
      return op.emitError("8-bit gemms read A from shared memory on the cuda "
                          "target; T.copy the fragment to a shared tile");
    if (op.getTransposeA())
      return op.emitError("a register A operand cannot be transposed");
    FragmentLayoutAttr want =
        accumulatorLayout(ctx, WarpgroupGrid{grid.alongM, 1}, m, k);
    if (grid.alongN != 1 || !sameLayout(cast<AllocOp>(A.def).getLayoutAttr(), want, A.shape()))
      return op.emitError("a register A operand needs the wgmma accumulator "
                          "layout and a gemm split along M only "
                          "(policy=T.GemmWarpPolicy.FullRow)");
  }

  // wgmmas on the same accumulator are ordered by the hardware; anything
  // else this gemm shares with one in flight waits for it.
  if (wgmma.touches(op.getA()) || wgmma.touches(op.getB()) ||
      llvm::is_contained(wgmma.registerOperands, op.getC()))
    statementWait();
  SmallVector<const Buffer *> asyncReads{&B};
  if (A.space == Space::Shared)
    asyncReads.push_back(&A);
  beforeSharedAccess({}, {}, asyncReads);
  Value wg = udiv(tid, 128);
  Value wgM = udiv(wg, grid.alongN), wgN = urem(wg, grid.alongN);
  auto sharedBase = [&]() -> Value {
    return LLVM::PtrToIntOp::create(b, loc, b.getI64Type(), smemBase);
  };
  // An operand read MN-major in place (16-bit, stored as written; the
  // instruction's transpose bit set): K along the tile's rows.
  bool mnA = !registerA && op.getTransposeA() && !A.shared.transposed;
  bool mnB = !op.getTransposeB() && !B.shared.transposed;
  // The descriptor of tile `buf` where its M/N index `mn` starts, K index 0;
  // K index k's is it plus `stepDelta(buf, k)`. Only the bases are values:
  // the per-step descriptors are formed inside the asm statement, so no
  // more than two 64-bit values per chunk stay live (hoisting one per K step
  // out of a loop cost a register pair each: 72 of them for K = 576).
  // K-major: 8-row core matrices SBO = 8 rows of the swizzle apart (LBO
  // unused). MN-major: the swizzle atoms along M/N LBO apart (a column
  // block of all K rows), groups of 8 K rows SBO apart.
  auto descriptor = [&](const Buffer &buf, Value mn, bool mnMajor) -> Value {
    const SharedPlacement &p = buf.shared;
    Value off = mnMajor ? mul(udiv(mul(mn, byteWidth(buf.elementType())), p.swizzle),
                              p.rows * p.swizzle)
                        : mul(mn, p.swizzle);
    off = add(buf.stageOffset ? buf.stageOffset : cst(p.offset), off);
    Value addr = arith::AddIOp::create(b, loc, sharedBase(), toI64(off));
    auto c64 = [&](int64_t v) {
      return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v);
    };
    Value start = arith::ShRUIOp::create(
        b, loc, arith::AndIOp::create(b, loc, addr, c64(0x3FFFF)), c64(4));
    int64_t mode = p.swizzle == 128 ? 1 : p.swizzle == 64 ? 2 : 3;
    int64_t lbo = mnMajor ? (p.rows * p.swizzle) >> 4 : 1;
    int64_t fixed = (lbo << 16) | ((8 * p.swizzle >> 4) << 32) | (mode << 62);
    return arith::OrIOp::create(b, loc, start, c64(fixed));
  };
  // What K index `kElem` adds to the descriptor's start address (in 16-byte
  // units, the field's unit). Shared memory ends below 256 KiB, so the sum
  // stays inside the 14-bit field.
  auto stepDelta = [&](const Buffer &buf, int64_t kElem, bool mnMajor) -> int64_t {
    const SharedPlacement &p = buf.shared;
    if (mnMajor)
      return (kElem * p.swizzle) >> 4;
    int64_t kb = kElem * byteWidth(buf.elementType());
    return ((kb / p.swizzle) * p.rows * p.swizzle + kb % p.swizzle) >> 4;
  };

  // The wgmma.fence that orders earlier accesses to the accumulator and A
  // registers before the wgmmas opens each asm statement: as a statement of
  // its own, LLVM placed the copies that set up the tied accumulator
  // operands between it and the wgmmas (accesses the fence must precede;
  // ptxas warned C7515 and the emulator's wgmma register check fails them).
  for (int64_t slab = 0; slab < mw / 64; ++slab) {
    for (int64_t n0 = 0; n0 < nw; n0 += 256) {
      int64_t nc = std::min<int64_t>(256, nw - n0);
      int64_t regs = nc / 2;
      int64_t firstSlot = slab * (nw / 2) + n0 / 2;
      auto structType =
          LLVM::LLVMStructType::getLiteral(ctx, SmallVector<Type>(regs, accType));
      Value acc = LLVM::UndefOp::create(b, loc, structType);
      for (int64_t r = 0; r < regs; ++r)
        acc = LLVM::InsertValueOp::create(
            b, loc, acc, load(slotAddress(C, cst(firstSlot + r)), accType), r);
      Value rowA = add(mul(wgM, mw), cst(slab * 64));
      Value rowB = add(mul(wgN, nw), cst(n0));
      // All K steps of this accumulator chunk are one asm statement: the
      // accumulator registers are tied through it and the per-step
      // operands follow (upstream's wgmma op would re-split the 64-register
      // struct at every step, which costs compile time for nothing).
      // Operands: $0..$(regs-1) the accumulators, then B's base descriptor,
      // then A's base descriptor or, per step, four A registers, then two
      // flags for scale-d (the first step's, zero when clearing; then one).
      SmallVector<Value> operands;
      for (int64_t r = 0; r < regs; ++r)
        operands.push_back(LLVM::ExtractValueOp::create(b, loc, acc, r));
      std::string constraints;
      for (int64_t r = 0; r < regs; ++r)
        constraints += integer ? "=r," : "=f,";
      for (int64_t r = 0; r < regs; ++r)
        constraints += std::to_string(r) + ",";
      int64_t steps = k / kStep;
      std::string shape = "m64n" + std::to_string(nc) + "k" + std::to_string(kStep);
      std::string types = std::string(integer ? ".s32." : ".f32.") +
                          NVVM::stringifyWGMMATypes(*typeA).str() + "." +
                          NVVM::stringifyWGMMATypes(*typeB).str();
      int64_t baseB = 2 * regs, baseA = baseB + 1;
      operands.push_back(descriptor(B, rowB, mnB));
      constraints += "l,";
      if (!registerA) {
        operands.push_back(descriptor(A, rowA, mnA));
        constraints += "l,";
      }
      int64_t flagOperand = baseA + (registerA ? 4 * steps : 1);
      std::string text;
      llvm::raw_string_ostream os(text);
      os << "{\n.reg .pred first, rest;\n.reg .b64 da, db;\nwgmma.fence.sync.aligned;\n"
         << "setp.ne.b32 first, $"
         << flagOperand << ", 0;\nsetp.ne.b32 rest, $" << flagOperand + 1
         << ", 0;\n";
      for (int64_t kk = 0; kk < steps; ++kk) {
        os << "add.s64 db, $" << baseB << ", " << stepDelta(B, kk * kStep, mnB) << ";\n";
        if (!registerA)
          os << "add.s64 da, $" << baseA << ", " << stepDelta(A, kk * kStep, mnA)
             << ";\n";
        os << "wgmma.mma_async.sync.aligned." << shape << types << " {";
        for (int64_t r = 0; r < regs; ++r)
          os << (r ? ", " : "") << "$" << r;
        os << "}, ";
        if (registerA) {
          // The fragment's slots for this slab and K step are the m64k16 A
          // fragment's eight halves, in order.
          int64_t aFirst = slab * (k / 2) + kk * 8;
          int64_t first = baseA + 4 * kk;
          auto pair = VectorType::get({2}, eltA);
          for (int64_t p = 0; p < 4; ++p) {
            Value v = LLVM::UndefOp::create(b, loc, pair);
            for (int64_t h = 0; h < 2; ++h)
              v = LLVM::InsertElementOp::create(
                  b, loc, v, load(slotAddress(A, cst(aFirst + 2 * p + h)), eltA),
                  i32(h));
            operands.push_back(LLVM::BitcastOp::create(b, loc, b.getI32Type(), v));
            constraints += "r,";
          }
          os << "{$" << first << ", $" << first + 1 << ", $" << first + 2 << ", $"
             << first + 3 << "}, db";
        } else {
          os << "da, db";
        }
        // scale-d, then (floats) scale-a and scale-b, then the transpose
        // flags (f16/bf16 only; none for a register A).
        os << ", " << (kk ? "rest" : "first");
        if (!integer)
          os << ", 1, 1";
        if (!fp8) {
          if (!registerA)
            os << ", " << int(mnA);
          os << ", " << int(mnB);
        }
        os << ";\n";
      }
      os << "}";
      operands.push_back(i32(op.getClearAccum() ? 0 : 1));
      operands.push_back(i32(1));
      constraints += "r,r";
      acc = inlineAsm(structType, operands, text, constraints);
      for (int64_t r = 0; r < regs; ++r)
        store(LLVM::ExtractValueOp::create(b, loc, acc, r),
              slotAddress(C, cst(firstSlot + r)));
    }
  }
  NVVM::WgmmaGroupSyncAlignedOp::create(b, loc);
  // Not waited for here: the next op that needs the result (or the operands'
  // bytes or registers back) waits, so independent work, including another
  // gemm, overlaps with this one.
  wgmma.merge(wgmmaIssuedIn(op));
  return success();
}

//===----------------------------------------------------------------------===//
// Gemm on warp MMA
//===----------------------------------------------------------------------===//

/// T.gemm as mma.sync (m16n8k16 for 16-bit operands, m16n8k32 for 8-bit
/// ones), for accumulators warpgroup MMA cannot hold: fewer than 64 rows per
/// warpgroup, or a block of fewer than 128 threads. Each warp computes its
/// part of the accumulator (tile-infer-layouts' split) in 16x8 pieces; the
/// operands come from shared memory a 32-bit register at a time, each
/// register holding consecutive K elements, which the K-major placement of
/// gemm operands keeps adjacent (the swizzle moves whole 16-byte chunks).
/// Fragments per the PTX ISA (mma.sync m16n8k16 / m16n8k32), g = lane / 4,
/// t = lane % 4, e = elements per register: A register r holds row
/// g + 8 (r & 1), K from e t + (K step / 2) (r >> 1); B register r holds
/// column g, K from e t + (K step / 2) r; C element i is row g + 8 (i >> 1),
/// column 2t + (i & 1), the accumulator layout's slot order.
LogicalResult KernelEmitter::emitMmaSync(GemmOp op, WarpgroupGrid grid) {
  const Buffer &A = *bufferOf(op.getA(), op), &B = *bufferOf(op.getB(), op),
               &C = *bufferOf(op.getC(), op);
  Type eltA = A.elementType(), eltB = B.elementType();
  bool integer = eltA.isInteger(8);
  bool eightBit = byteWidth(eltA) == 1;
  bool registerA = A.space == Space::Fragment;
  if (registerA) {
    // A register A operand in the accumulator layout of an M x K tile split
    // along M only is, per warp and 16x16 piece, mma.sync's A fragment: two
    // 8-column groups of the C layout side by side (attention's P @ V).
    const char *why = "this gemm runs on warp MMA (mma.sync: its accumulator is "
                      "too small for a warpgroup's, or the block has fewer than "
                      "128 threads)";
    if (eightBit)
      return op.emitError(why) << ", which reads 8-bit A operands from shared "
                                  "memory; T.copy the fragment to a shared tile";
    if (op.getTransposeA())
      return op.emitError("a register A operand cannot be transposed");
    int64_t kA = A.shape()[1];
    FragmentLayoutAttr want = accumulatorLayout(
        ctx, WarpgroupGrid{grid.alongM, 1, grid.unitThreads}, C.shape()[0], kA);
    if (grid.alongN != 1 || !sameLayout(cast<AllocOp>(A.def).getLayoutAttr(), want, A.shape()))
      return op.emitError(why) << "; a register A operand needs the mma.sync "
                                  "accumulator layout and a gemm split along M "
                                  "only (policy=T.GemmWarpPolicy.FullRow)";
  } else if (!A.shared.swizzle) {
    return op.emitError("internal error: mma.sync operands must be placed "
                        "K-major");
  }
  if (!B.shared.swizzle)
    return op.emitError("internal error: mma.sync operands must be placed "
                        "K-major");
  Type accType = integer ? Type(b.getI32Type()) : Type(b.getF32Type());
  int64_t m = C.shape()[0], n = C.shape()[1];
  int64_t k = A.shape()[op.getTransposeA() ? 0 : 1];
  int64_t kStep = eightBit ? 32 : 16, perReg = eightBit ? 4 : 2;
  int64_t mw = m / grid.alongM, nw = n / grid.alongN;
  int64_t slabs = mw / 16, groups = nw / 8;

  // The accumulator's and A's registers are read here: a wgmma still
  // writing them is waited for. The operands are ordinary (generic-proxy)
  // shared loads.
  if (wgmma.touches(op.getC()) || (registerA && wgmma.touches(op.getA())))
    statementWait();
  SmallVector<const Buffer *> sharedReads{&B};
  if (!registerA)
    sharedReads.push_back(&A);
  beforeSharedAccess(sharedReads, {}, {});

  if (op.getClearAccum()) {
    Value zero = integer ? Value(i32(0))
                         : Value(arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0)));
    for (int64_t s = 0; s < slabs * groups * 4; ++s)
      store(zero, slotAddress(C, cst(s)));
  }

  Value warp = udiv(tid, 32), lane = urem(tid, 32);
  Value g = udiv(lane, 4), tk = mul(urem(lane, 4), perReg);
  // This thread's first row of A and column of B.
  Value rowBase = add(mul(udiv(warp, grid.alongN), mw), g);
  Value colBase = add(mul(urem(warp, grid.alongN), nw), g);
  // One 32-bit register of operand `buf` at op(X) coordinates (outer = M or
  // N, inner = K), `transposed` when the buffer is stored the other way.
  auto operandRegister = [&](const Buffer &buf, bool kFirst, Value outer, Value kk) {
    SmallVector<Value> index = kFirst ? SmallVector<Value>{kk, outer}
                                      : SmallVector<Value>{outer, kk};
    return load(sharedAddress(sharedByteOffset(buf, index)), b.getI32Type(), 4);
  };
  auto typeName = [&](Type t) {
    return NVVM::stringifyWGMMATypes(*wgmmaType(t)).str();
  };
  // mma.sync on fp8 operands came with PTX ISA 8.4.
  if (eightBit && !integer)
    minPtxVersion = std::max<int64_t>(minPtxVersion, 84);
  std::string text;
  {
    llvm::raw_string_ostream os(text);
    os << "mma.sync.aligned.m16n8k" << kStep << ".row.col"
       << (integer ? ".s32." : ".f32.") << typeName(eltA) << "." << typeName(eltB)
       << (integer ? ".s32" : ".f32")
       << " {$0, $1, $2, $3}, {$4, $5, $6, $7}, {$8, $9}, {$10, $11, $12, $13};";
  }
  std::string out = integer ? "=r" : "=f";
  std::string constraints =
      out + "," + out + "," + out + "," + out + ",r,r,r,r,r,r,0,1,2,3";
  auto structType =
      LLVM::LLVMStructType::getLiteral(ctx, SmallVector<Type>(4, accType));

  // One K step: A's and B's registers for this warp, then an mma per 16x8
  // piece. `kk` is the step's number when known (a register A operand's
  // slots must be constants: registers have no addresses).
  auto emitStep = [&](Value k0, int64_t kk) {
    SmallVector<std::array<Value, 4>> aRegs(slabs);
    for (int64_t s = 0; s < slabs; ++s)
      for (int64_t r = 0; r < 4; ++r) {
        if (registerA) {
          // Register r: the 8-column group 2 kk + (r >> 1), rows g + 8 (r & 1):
          // two consecutive slots of the accumulator layout.
          int64_t groupsA = A.shape()[1] / 8;
          int64_t first = ((s * groupsA + 2 * kk + (r >> 1)) * 2 + (r & 1)) * 2;
          auto pair = VectorType::get({2}, eltA);
          Value v = LLVM::UndefOp::create(b, loc, pair);
          for (int64_t h = 0; h < 2; ++h)
            v = LLVM::InsertElementOp::create(
                b, loc, v, load(slotAddress(A, cst(first + h)), eltA), i32(h));
          aRegs[s][r] = LLVM::BitcastOp::create(b, loc, b.getI32Type(), v);
          continue;
        }
        aRegs[s][r] = operandRegister(
            A, op.getTransposeA(), add(rowBase, cst(s * 16 + 8 * (r & 1))),
            add(add(k0, tk), cst((kStep / 2) * (r >> 1))));
      }
    SmallVector<std::array<Value, 2>> bRegs(groups);
    for (int64_t q = 0; q < groups; ++q)
      for (int64_t r = 0; r < 2; ++r)
        bRegs[q][r] = operandRegister(B, !op.getTransposeB(),
                                      add(colBase, cst(q * 8)),
                                      add(add(k0, tk), cst((kStep / 2) * r)));
    for (int64_t s = 0; s < slabs; ++s)
      for (int64_t q = 0; q < groups; ++q) {
        int64_t first = (s * groups + q) * 4;
        SmallVector<Value> operands(aRegs[s].begin(), aRegs[s].end());
        operands.append(bRegs[q].begin(), bRegs[q].end());
        for (int64_t i = 0; i < 4; ++i)
          operands.push_back(load(slotAddress(C, cst(first + i)), accType));
        Value d = inlineAsm(structType, operands, text, constraints);
        for (int64_t i = 0; i < 4; ++i)
          store(LLVM::ExtractValueOp::create(b, loc, d, i),
                slotAddress(C, cst(first + i)));
      }
  };
  int64_t steps = k / kStep;
  if (registerA) {
    for (int64_t kk = 0; kk < steps; ++kk)
      emitStep(cst(kk * kStep), kk);
    return success();
  }
  // Shared operands: a loop over the K steps, the operands loaded step by
  // step (LLVM unrolls it where that pays), the accumulator in its slots.
  auto loop = scf::ForOp::create(b, loc, cst(0), cst(steps), cst(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  emitStep(mul(loop.getInductionVar(), kStep), -1);
  return success();
}

} // namespace tessel::nvidia::lowering
