//===- Opcodes.h - the PTX operations the emulator knows ----------*- C++ -*-===//
//
// Base operations, parsed from an opcode's first parts ("cp.async.bulk.tensor"
// is one); the remaining parts become Instr fields (types, rounding, space,
// modifier bits). Each Exec*.cpp binds the handlers of a family.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_LIB_EMULATOR_OPCODES_H
#define TESSEL_LIB_EMULATOR_OPCODES_H

#include "lib/Emulator/Program.h"

#include <string>
#include <vector>

namespace tessel::emu {

enum Opcode : uint16_t {
  OpUnknown,
  // integer and bit
  OpAdd, OpSub, OpMul, OpMad, OpMul24, OpMad24, OpDiv, OpRem, OpAbs, OpNeg, OpMin, OpMax,
  OpPopc, OpClz, OpBfind, OpBrev, OpBfe, OpBfi, OpPrmt, OpAnd, OpOr, OpXor, OpNot, OpCnot,
  OpShl, OpShr, OpShf, OpLop3, OpSad, OpDp4a, OpDp2a,
  // float
  OpFma, OpRcp, OpSqrt, OpRsqrt, OpEx2, OpLg2, OpSin, OpCos, OpTanh, OpCopysign, OpTestp,
  // compare and select
  OpSetp, OpSelp, OpSet, OpSlct,
  // moves and conversions
  OpMov, OpCvt, OpCvta, OpIsspacep,
  // memory
  OpLd, OpLdu, OpSt, OpAtom, OpRed, OpPrefetch, OpPrefetchTensormap,
  OpCpAsync, OpCpAsyncCommit, OpCpAsyncWait, OpCpAsyncWaitAll, OpCpAsyncMbarrierArrive,
  OpCpAsyncBulkTensor, OpCpAsyncBulk, OpCpAsyncBulkCommit, OpCpAsyncBulkWait,
  OpCpReduceAsyncBulk, OpLdmatrix, OpStmatrix,
  // control
  OpBra, OpCall, OpRet, OpExit, OpTrap, OpBrkpt, OpNanosleep,
  // synchronization
  OpBar, OpBarrier, OpBarWarpSync, OpBarrierCluster, OpMembar, OpFence, OpFenceProxyAsync,
  OpFenceProxyOther, OpFenceMbarrierInit,
  OpMbarrierInit, OpMbarrierArrive, OpMbarrierArriveDrop, OpMbarrierExpectTx,
  OpMbarrierCompleteTx, OpMbarrierTryWait, OpMbarrierTestWait, OpMbarrierInval,
  OpMbarrierPendingCount,
  OpShfl, OpVote, OpElect, OpActivemask, OpRedux, OpMatch, OpGriddepcontrol,
  // matrix
  OpWgmmaMma, OpWgmmaFence, OpWgmmaCommit, OpWgmmaWait, OpMmaSync, OpSetmaxnreg,
  OpCount,
};

const char *opcodeName(uint16_t op);

/// Compare operators of setp/set (Instr::sub).
enum Cmp : uint8_t {
  CmpEq, CmpNe, CmpLt, CmpLe, CmpGt, CmpGe, CmpLo, CmpLs, CmpHi, CmpHs,
  CmpEqu, CmpNeu, CmpLtu, CmpLeu, CmpGtu, CmpGeu, CmpNum, CmpNan,
};
/// Boolean combiners of setp (Instr::sub2).
enum BoolOp : uint8_t { BoolNone, BoolAnd, BoolOr, BoolXor };

/// An opcode split into its base operation and everything after it.
struct DecodedOpcode {
  Opcode op = OpUnknown;
  std::vector<std::string> mods;   ///< the parts after the base, in order
  std::vector<DType> types;        ///< the type parts, in order
};

DecodedOpcode splitOpcode(const std::string &opcode);

/// Binds `in.exec` for its family from the Instr fields the decoder filled;
/// false when the combination is not one the emulator runs.
bool bindInteger(Instr &in, const DecodedOpcode &d);
bool bindFloat(Instr &in, const DecodedOpcode &d);
bool bindConvert(Instr &in, const DecodedOpcode &d);
bool bindMemory(Instr &in, const DecodedOpcode &d);
bool bindControl(Instr &in, const DecodedOpcode &d);
bool bindSync(Instr &in, const DecodedOpcode &d);
bool bindAsync(Instr &in, const DecodedOpcode &d);
bool bindWgmma(Instr &in, const DecodedOpcode &d);
bool bindMma(Instr &in, const DecodedOpcode &d);

/// Binds a call: vprintf is built in; a call to anything else fails when run.
void bindCall(Instr &in, const std::string &function);

/// The handler that fails with "unsupported instruction".
void execUnsupported(Thread &t, const Instr &in);

} // namespace tessel::emu

#endif // TESSEL_LIB_EMULATOR_OPCODES_H
