//===- Program.h - a PTX module decoded for the emulator ----------*- C++ -*-===//
//
// The compact form the interpreter runs: every instruction of a kernel in
// one array, operands resolved to register slots, immediates and addresses,
// each instruction carrying the function that executes it. Built once per
// module (Decoder.cpp) from the parser's statements (PTXParser.h).
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_LIB_EMULATOR_PROGRAM_H
#define TESSEL_LIB_EMULATOR_PROGRAM_H

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tessel::emu {

struct Thread;
struct Instr;

/// What executes one instruction for one thread.
using Exec = void (*)(Thread &, const Instr &);

/// Scalar types as PTX spells them after the opcode (".f32", ".b64", ...).
enum class DType : uint8_t {
  None, Pred,
  B8, B16, B32, B64, B128,
  U8, U16, U32, U64,
  S8, S16, S32, S64,
  F16, F16x2, BF16, BF16x2, TF32, F32, F64,
  E4M3, E5M2, E4M3x2, E5M2x2,
};

/// The width in bytes of a type (0 for None, 1 for predicates).
unsigned byteWidth(DType type);
bool isFloat(DType type);
bool isSigned(DType type);
const char *typeName(DType type);

enum class Space : uint8_t { Generic, Global, Shared, SharedCluster, Local, Param, Const };

/// Rounding modifiers (.rn, .rz, ... and the integer forms .rni, ...).
enum class Round : uint8_t { None, RN, RZ, RM, RP, RNA, RS };

struct Operand {
  enum Kind : uint8_t {
    None,
    Reg,     ///< a register slot (`reg`)
    Imm,     ///< a constant (`imm` holds its bits)
    Vec,     ///< `count` operands starting at Kernel::vecOps[reg]
    Mem,     ///< [slot + imm] (slot kNoReg: [imm]); count 32: a 32-bit address
    Tensor,  ///< [slot, {coords}]: tensor map address and Kernel::vecOps[imm], `count` of them
    Sink,    ///< `_`
    Target,  ///< a branch target: `imm` is the instruction index
    Clock,   ///< %clock / %clock64 / %globaltimer (read when executed)
  };
  Kind kind = None;
  uint8_t count = 0;
  bool neg = false; ///< `!%p`
  uint8_t pad = 0;
  uint32_t reg = 0;
  int64_t imm = 0;
};

constexpr uint32_t kNoReg = 0xffffffffu;

/// Modifier bits an instruction may carry (their meaning depends on the op).
enum Mod : uint32_t {
  ModFtz = 1u << 0,
  ModSat = 1u << 1,
  ModApprox = 1u << 2,
  ModHi = 1u << 3,
  ModLo = 1u << 4,
  ModWide = 1u << 5,
  ModSatFinite = 1u << 6,
  ModNaN = 1u << 7,
  ModRelu = 1u << 8,
  ModUni = 1u << 9,
  ModVolatile = 1u << 10,
  ModAligned = 1u << 11,
  ModTrans = 1u << 12,
  ModCC = 1u << 13,
  ModClamp = 1u << 14,
  ModShiftR = 1u << 15,
  ModXorSign = 1u << 16,
  ModAbs = 1u << 17,
  ModFull = 1u << 18,
  ModNonCoherent = 1u << 19,
  ModZeroFill = 1u << 20,   ///< cp.async with a source size operand
  ModNoInc = 1u << 21,
  ModExpectTx = 1u << 22,
  ModParity = 1u << 23,
  ModRemote = 1u << 24,     ///< shared::cluster with cluster-wide meaning
  ModArrive = 1u << 25,     ///< bar.arrive / barrier.arrive
  ModRed = 1u << 26,
  ModDec = 1u << 27,        ///< setmaxnreg.dec
  ModStore = 1u << 28,      ///< bulk copies toward global memory
  ModTransA = 1u << 29,     ///< wgmma imm-trans-a
  ModTransB = 1u << 30,     ///< wgmma imm-trans-b
  ModNegA = 1u << 31,       ///< wgmma imm-scale-a = -1 (imm-scale-b lives in `sub`)
};

/// Facts about an instruction the decoder works out once.
enum InstrFlag : uint8_t {
  /// It reads or writes a register some wgmma.mma_async uses as its
  /// accumulator or A fragment (wgmma.fence must come between).
  FlagTouchesWgmmaReg = 1,
  /// The emulator does not run it: executing it fails the launch.
  FlagUnsupported = 2,
};

struct Instr {
  Exec exec = nullptr;
  uint16_t op = 0;       ///< Opcode (Decoder.h), for checks and messages
  DType type = DType::None;
  DType type2 = DType::None; ///< the second type: cvt's source, atom/cvt packing, wgmma's A/B
  uint32_t mods = 0;
  uint32_t guard = kNoReg; ///< the predicate that guards it
  bool guardNeg = false;
  Space space = Space::Generic;
  Round round = Round::None;
  uint8_t nops = 0;
  uint8_t vec = 1;       ///< .v2 / .v4
  uint8_t sub = 0;       ///< a small per-op selector (compare, boolean op, shuffle mode, ...)
  uint8_t sub2 = 0;
  uint16_t shape = 0;    ///< wgmma N, mma shape code, tensor rank, ...
  uint8_t flags = 0;     ///< InstrFlag bits
  Operand ops[6];
  uint32_t ptxLine = 0;  ///< line in the PTX text
  uint32_t loc = 0;      ///< index into Kernel::locs (0: none)
};

/// A source position from `.loc` (file index into Module::files).
struct SourceLoc {
  uint32_t file = 0, line = 0, col = 0;
};

/// A kernel parameter: its offset and size in the parameter buffer.
struct Param {
  std::string name;
  uint32_t offset = 0, size = 0, align = 0;
};

struct Kernel {
  std::string name;
  std::vector<Instr> code;
  std::vector<Operand> vecOps;
  std::vector<Param> params;
  uint32_t paramBytes = 0;
  uint32_t numRegs = 0;          ///< register slots per thread
  uint32_t localBytes = 0;       ///< .local per thread
  uint32_t staticShared = 0;     ///< bytes of .shared the module and kernel declare
  uint32_t dynamicSharedOffset = 0; ///< where extern .shared begins
  uint32_t dynamicSharedAlign = 16;
  uint32_t maxThreads = 0;       ///< .maxntid / .reqntid product (0: none)
  uint32_t reqThreads[3] = {0, 0, 0};
  uint32_t minBlocksPerSM = 0;
  uint32_t maxRegs = 0;          ///< .maxnreg
  std::vector<SourceLoc> locs;   ///< locs[0] is "none"
  std::vector<std::string> regNames; ///< for messages
  std::vector<DType> regTypes;       ///< declared type of each slot
  std::map<uint32_t, std::string> labels; ///< instruction index -> label, for traces
};

/// Module-scope .global / .const data: host memory that lives with the module.
struct GlobalVar {
  std::string name;
  Space space = Space::Global;
  std::vector<uint8_t> *storage = nullptr;
};

struct Module {
  std::vector<std::unique_ptr<Kernel>> kernels;
  std::map<std::string, std::string> files;   ///< .file index -> path
  std::vector<std::string> fileNames;          ///< dense, Kernel locs refer to these
  std::vector<std::unique_ptr<std::vector<uint8_t>>> globals; ///< backing storage
  std::map<std::string, uint64_t> globalAddress;
  std::vector<std::string> sourceLines;        ///< the PTX text, for messages
  const Kernel *find(const std::string &name) const {
    for (const auto &k : kernels)
      if (k->name == name)
        return k.get();
    return nullptr;
  }
};

/// Parses and decodes PTX text; throws EmuError (Errors.h) with a located
/// message when it cannot.
std::unique_ptr<Module> loadModule(const std::string &ptx);

} // namespace tessel::emu

#endif // TESSEL_LIB_EMULATOR_PROGRAM_H
