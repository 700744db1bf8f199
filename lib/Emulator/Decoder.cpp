//===- Decoder.cpp - parsed PTX to the interpreter's instructions ----------===//
//
// Gives every register a slot, every variable an address in its space and
// every label an instruction index, then turns each opcode's parts into
// Instr fields and lets the op's family bind the function that runs it.
// An operation the emulator does not run decodes to a handler that fails
// when it executes, naming the instruction and its line.
//
//===----------------------------------------------------------------------===//

#include "lib/Emulator/Machine.h"
#include "lib/Emulator/Opcodes.h"
#include "lib/Emulator/PTXParser.h"
#include "lib/Emulator/Specials.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace tessel::emu {

namespace {

struct BaseOp {
  const char *name;
  Opcode op;
};

// Longest first where one name starts another.
const BaseOp kBaseOps[] = {
    {"cp.async.bulk.tensor", OpCpAsyncBulkTensor},
    {"cp.async.bulk.commit_group", OpCpAsyncBulkCommit},
    {"cp.async.bulk.wait_group", OpCpAsyncBulkWait},
    {"cp.async.bulk", OpCpAsyncBulk},
    {"cp.reduce.async.bulk", OpCpReduceAsyncBulk},
    {"cp.async.commit_group", OpCpAsyncCommit},
    {"cp.async.wait_group", OpCpAsyncWait},
    {"cp.async.wait_all", OpCpAsyncWaitAll},
    {"cp.async.mbarrier.arrive", OpCpAsyncMbarrierArrive},
    {"cp.async", OpCpAsync},
    {"mbarrier.init", OpMbarrierInit},
    {"mbarrier.arrive_drop", OpMbarrierArriveDrop},
    {"mbarrier.arrive", OpMbarrierArrive},
    {"mbarrier.expect_tx", OpMbarrierExpectTx},
    {"mbarrier.complete_tx", OpMbarrierCompleteTx},
    {"mbarrier.try_wait", OpMbarrierTryWait},
    {"mbarrier.test_wait", OpMbarrierTestWait},
    {"mbarrier.inval", OpMbarrierInval},
    {"mbarrier.pending_count", OpMbarrierPendingCount},
    {"wgmma.mma_async", OpWgmmaMma},
    {"wgmma.fence", OpWgmmaFence},
    {"wgmma.commit_group", OpWgmmaCommit},
    {"wgmma.wait_group", OpWgmmaWait},
    {"fence.proxy.async", OpFenceProxyAsync},
    {"fence.proxy", OpFenceProxyOther},
    {"fence.mbarrier_init", OpFenceMbarrierInit},
    {"bar.warp.sync", OpBarWarpSync},
    {"barrier.cluster", OpBarrierCluster},
    {"prefetch.tensormap", OpPrefetchTensormap},
    {"prefetch", OpPrefetch}, {"prefetchu", OpPrefetch},
    {"add", OpAdd}, {"sub", OpSub}, {"mul24", OpMul24}, {"mad24", OpMad24}, {"mul", OpMul},
    {"mad", OpMad}, {"div", OpDiv}, {"rem", OpRem}, {"abs", OpAbs}, {"neg", OpNeg},
    {"min", OpMin}, {"max", OpMax}, {"popc", OpPopc}, {"clz", OpClz}, {"bfind", OpBfind},
    {"brev", OpBrev}, {"bfe", OpBfe}, {"bfi", OpBfi}, {"prmt", OpPrmt}, {"and", OpAnd},
    {"or", OpOr}, {"xor", OpXor}, {"not", OpNot}, {"cnot", OpCnot}, {"shl", OpShl},
    {"shr", OpShr}, {"shf", OpShf}, {"lop3", OpLop3}, {"sad", OpSad}, {"dp4a", OpDp4a},
    {"dp2a", OpDp2a}, {"fma", OpFma}, {"rcp", OpRcp}, {"sqrt", OpSqrt}, {"rsqrt", OpRsqrt},
    {"ex2", OpEx2}, {"lg2", OpLg2}, {"sin", OpSin}, {"cos", OpCos}, {"tanh", OpTanh},
    {"copysign", OpCopysign}, {"testp", OpTestp}, {"setp", OpSetp}, {"selp", OpSelp},
    {"set", OpSet}, {"slct", OpSlct}, {"mov", OpMov}, {"cvta", OpCvta}, {"cvt", OpCvt},
    {"isspacep", OpIsspacep}, {"ldu", OpLdu}, {"ld", OpLd}, {"st", OpSt}, {"atom", OpAtom},
    {"red", OpRed}, {"ldmatrix", OpLdmatrix}, {"stmatrix", OpStmatrix}, {"bra", OpBra},
    {"call", OpCall}, {"ret", OpRet}, {"exit", OpExit}, {"trap", OpTrap}, {"brkpt", OpBrkpt},
    {"nanosleep", OpNanosleep}, {"barrier", OpBarrier}, {"bar", OpBar}, {"membar", OpMembar},
    {"fence", OpFence}, {"shfl", OpShfl}, {"vote", OpVote}, {"elect", OpElect},
    {"activemask", OpActivemask}, {"redux", OpRedux}, {"match", OpMatch},
    {"griddepcontrol", OpGriddepcontrol}, {"mma", OpMmaSync}, {"setmaxnreg", OpSetmaxnreg},
};

std::vector<std::string> splitDots(const std::string &s) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == '.') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return parts;
}

} // namespace

const char *opcodeName(uint16_t op) {
  for (const BaseOp &b : kBaseOps)
    if (b.op == op)
      return b.name;
  return "?";
}

DecodedOpcode splitOpcode(const std::string &opcode) {
  DecodedOpcode d;
  for (const BaseOp &b : kBaseOps) {
    size_t n = std::strlen(b.name);
    if (opcode.compare(0, n, b.name) == 0 && (opcode.size() == n || opcode[n] == '.')) {
      d.op = b.op;
      if (opcode.size() > n)
        d.mods = splitDots(opcode.substr(n + 1));
      break;
    }
  }
  for (const std::string &m : d.mods)
    if (DType t = parseType(m); t != DType::None)
      d.types.push_back(t);
  return d;
}

void execUnsupported(Thread &t, const Instr &in) {
  (void)in;
  t.fail(ErrNotSupported, "the emulator does not run this instruction (yet)");
}

namespace {

bool has(const DecodedOpcode &d, const char *m) {
  return std::find(d.mods.begin(), d.mods.end(), m) != d.mods.end();
}

/// Fills the Instr fields every family reads: types, rounding, space,
/// vector width, compare operator, modifier bits.
void fillCommon(Instr &in, const DecodedOpcode &d) {
  in.op = d.op;
  if (!d.types.empty())
    in.type = d.types[0];
  if (d.types.size() > 1)
    in.type2 = d.types[1];
  static const std::map<std::string, Round> rounds = {
      {"rn", Round::RN},  {"rz", Round::RZ},  {"rm", Round::RM},  {"rp", Round::RP},
      {"rni", Round::RN}, {"rzi", Round::RZ}, {"rmi", Round::RM}, {"rpi", Round::RP},
      {"rna", Round::RNA}, {"rs", Round::RS}};
  static const std::map<std::string, uint8_t> cmps = {
      {"eq", CmpEq},   {"ne", CmpNe},   {"lt", CmpLt},   {"le", CmpLe},   {"gt", CmpGt},
      {"ge", CmpGe},   {"lo", CmpLo},   {"ls", CmpLs},   {"hi", CmpHi},   {"hs", CmpHs},
      {"equ", CmpEqu}, {"neu", CmpNeu}, {"ltu", CmpLtu}, {"leu", CmpLeu}, {"gtu", CmpGtu},
      {"geu", CmpGeu}, {"num", CmpNum}, {"nan", CmpNan}};
  static const std::map<std::string, uint32_t> flags = {
      {"ftz", ModFtz},     {"sat", ModSat},     {"approx", ModApprox}, {"hi", ModHi},
      {"lo", ModLo},       {"wide", ModWide},   {"satfinite", ModSatFinite},
      {"NaN", ModNaN},     {"relu", ModRelu},   {"uni", ModUni},       {"volatile", ModVolatile},
      {"aligned", ModAligned}, {"trans", ModTrans}, {"cc", ModCC},     {"clamp", ModClamp},
      {"r", ModShiftR},    {"xorsign", ModXorSign}, {"abs", ModAbs},   {"full", ModFull},
      {"nc", ModNonCoherent}, {"noinc", ModNoInc}, {"expect_tx", ModExpectTx},
      {"parity", ModParity}, {"arrive", ModArrive}, {"red", ModRed}, {"dec", ModDec}};
  for (const std::string &m : d.mods) {
    if (auto r = rounds.find(m); r != rounds.end())
      in.round = r->second;
    else if (auto c = cmps.find(m); c != cmps.end() && (d.op == OpSetp || d.op == OpSet))
      in.sub = c->second;
    else if (auto f = flags.find(m); f != flags.end())
      in.mods |= f->second;
    else if (m == "v2")
      in.vec = 2;
    else if (m == "v4")
      in.vec = 4;
    else if (m == "v8")
      in.vec = 8;
    else if (m == "global")
      in.space = Space::Global;
    else if (m == "shared" || m == "shared::cta")
      in.space = Space::Shared;
    else if (m == "shared::cluster")
      in.space = Space::SharedCluster;
    else if (m == "local")
      in.space = Space::Local;
    else if (m == "param")
      in.space = Space::Param;
    else if (m == "const")
      in.space = Space::Const;
  }
  // setp/set combine with a boolean: the operator after the compare.
  if (d.op == OpSetp || d.op == OpSet) {
    if (has(d, "and")) in.sub2 = BoolAnd;
    else if (has(d, "or")) in.sub2 = BoolOr;
    else if (has(d, "xor")) in.sub2 = BoolXor;
  }
}

/// Everything about names while a function's instructions are decoded.
struct NameTable {
  struct Entry {
    enum Kind { Reg, Symbol, Label, Function } kind = Reg;
    uint32_t slot = 0;
    Space space = Space::Generic;
    uint64_t address = 0;
  };
  std::vector<std::map<std::string, Entry>> scopes;
  std::vector<uint32_t> parents;
  std::map<std::string, Entry> labels;
  std::map<std::string, Entry> module;

  const Entry *find(const std::string &name, uint32_t scope) const {
    for (uint32_t s = scope;; s = parents[s]) {
      auto it = scopes[s].find(name);
      if (it != scopes[s].end())
        return &it->second;
      if (s == 0)
        break;
    }
    if (auto it = labels.find(name); it != labels.end())
      return &it->second;
    if (auto it = module.find(name); it != module.end())
      return &it->second;
    return nullptr;
  }
};

uint64_t windowFor(Space s) {
  switch (s) {
  case Space::Shared: case Space::SharedCluster: return kSharedWindow;
  case Space::Local: return kLocalWindow;
  case Space::Param: return kParamWindow;
  default: return 0;
  }
}

uint32_t alignUp(uint32_t v, uint32_t a) { return a ? (v + a - 1) / a * a : v; }

class FunctionDecoder {
public:
  FunctionDecoder(const ParsedModule &pm, const ParsedFunction &f, Module &m,
                  const std::map<std::string, NameTable::Entry> &moduleNames,
                  uint32_t staticShared, uint32_t dynAlign)
      : pm(pm), f(f), m(m) {
    names.module = moduleNames;
    k = std::make_unique<Kernel>();
    k->name = f.name;
    k->staticShared = staticShared;
    k->dynamicSharedAlign = dynAlign;
  }

  std::unique_ptr<Kernel> run() {
    k->numRegs = kNumSpecialSlots;
    k->regNames.resize(kNumSpecialSlots);
    k->regTypes.assign(kNumSpecialSlots, DType::U32);
    for (uint32_t i = 0; i < kNumSpecialSlots; ++i)
      k->regNames[i] = specialName(i);
    // Kernel parameters, laid out as cuLaunchKernel packs them.
    uint32_t offset = 0;
    for (const Decl &p : f.params) {
      uint32_t size = byteWidth(p.type) * p.vec * std::max(p.count, 1u);
      uint32_t align = std::max(p.align, byteWidth(p.type) * p.vec);
      offset = alignUp(offset, align);
      k->params.push_back(Param{p.name, offset, size, align});
      NameTable::Entry e;
      e.kind = NameTable::Entry::Symbol;
      e.space = Space::Param;
      e.address = offset;
      names.module[p.name] = e;
      offset += size;
    }
    k->paramBytes = offset;
    // Registers and variables, per scope.
    names.scopes.resize(f.scopes.size());
    names.parents.resize(f.scopes.size());
    uint32_t shared = k->staticShared;
    for (size_t s = 0; s < f.scopes.size(); ++s) {
      names.parents[s] = f.scopes[s].parent;
      for (const Decl &d : f.scopes[s].decls)
        declare(d, uint32_t(s), shared);
    }
    k->staticShared = shared;
    k->dynamicSharedOffset = alignUp(shared, k->dynamicSharedAlign);
    for (const auto &[name, index] : f.labels) {
      NameTable::Entry e;
      e.kind = NameTable::Entry::Label;
      e.address = index;
      names.labels[name] = e;
      k->labels[index] = name;
    }
    k->maxThreads = 1;
    const uint32_t *dims = f.reqntid[0] ? f.reqntid : f.maxntid;
    for (int i = 0; i < 3; ++i) {
      k->reqThreads[i] = f.reqntid[i];
      k->maxThreads *= std::max(dims[i], 1u);
    }
    if (!dims[0])
      k->maxThreads = 0;
    k->minBlocksPerSM = f.minnctapersm;
    k->maxRegs = f.maxnreg;
    for (const RawInstr &raw : f.body)
      k->code.push_back(decode(raw));
    markWgmmaRegisterAccesses();
    // Falling off the end of a kernel is an exit.
    Instr end;
    end.op = OpExit;
    DecodedOpcode d;
    d.op = OpExit;
    bindControl(end, d);
    end.ptxLine = f.body.empty() ? f.line : f.body.back().line;
    k->code.push_back(end);
    k->locs = pm.locs;
    return std::move(k);
  }

private:
  const ParsedModule &pm;
  const ParsedFunction &f;
  Module &m;
  std::unique_ptr<Kernel> k;
  NameTable names;
  uint32_t currentLine = 0;

  [[noreturn]] void fail(const std::string &why) const {
    std::string text = currentLine && currentLine <= pm.lines.size() ? pm.lines[currentLine - 1] : "";
    size_t b = text.find_first_not_of(" \t");
    throw EmuError(ErrInvalidPTX, "PTX line " + std::to_string(currentLine) + ": " + why +
                                      (b == std::string::npos ? "" : "\n  " + text.substr(b)));
  }

  void declare(const Decl &d, uint32_t scope, uint32_t &shared) {
    auto &table = names.scopes[scope];
    if (d.kind == Decl::Reg) {
      bool range = d.align == 0xffffffffu;
      uint32_t n = range ? d.count : 1;
      for (uint32_t i = 0; i < n; ++i) {
        NameTable::Entry e;
        e.slot = k->numRegs++;
        std::string name = range ? d.name + std::to_string(i) : d.name;
        k->regNames.push_back(name);
        k->regTypes.push_back(d.type);
        table[name] = e;
      }
      return;
    }
    uint32_t width = byteWidth(d.type) * d.vec;
    uint32_t bytes = width * std::max(d.count, 1u);
    uint32_t align = std::max(d.align, width);
    NameTable::Entry e;
    e.kind = NameTable::Entry::Symbol;
    switch (d.kind) {
    case Decl::Local:
    case Decl::Param: // a call's parameters live in the caller's local memory
      k->localBytes = alignUp(k->localBytes, align);
      e.space = Space::Local;
      e.address = k->localBytes;
      k->localBytes += bytes;
      break;
    case Decl::Shared:
      shared = alignUp(shared, align);
      e.space = Space::Shared;
      e.address = shared;
      shared += bytes;
      break;
    default:
      fail("global or constant variables inside a function are not supported");
    }
    table[d.name] = e;
  }

  /// The value a name stands for as an operand.
  Operand nameOperand(const RawOperand &r, uint32_t scope, bool generic) {
    Operand o;
    o.neg = r.neg;
    if (int sp = specialSlot(r.name); sp >= 0) {
      o.kind = Operand::Reg;
      o.reg = uint32_t(sp);
      return o;
    }
    if (r.name == "%clock" || r.name == "%clock64" || r.name == "%globaltimer" ||
        r.name == "%globaltimer_lo" || r.name == "%globaltimer_hi") {
      o.kind = Operand::Clock;
      return o;
    }
    const NameTable::Entry *e = names.find(r.name, scope);
    if (!e)
      fail("'" + r.name + "' is not declared");
    switch (e->kind) {
    case NameTable::Entry::Reg:
      o.kind = Operand::Reg;
      o.reg = e->slot;
      break;
    case NameTable::Entry::Label:
      o.kind = Operand::Target;
      o.imm = int64_t(e->address);
      break;
    case NameTable::Entry::Function:
      o.kind = Operand::Imm;
      o.imm = int64_t(e->address);
      break;
    case NameTable::Entry::Symbol: {
      // A variable's address in its own space (what mov gives); inside the
      // brackets of a generic ld/st, its generic address.
      uint64_t a = e->address + uint64_t(r.offset);
      if (generic)
        a += windowFor(e->space);
      o.kind = Operand::Imm;
      o.imm = int64_t(a);
      break;
    }
    }
    return o;
  }

  uint32_t pushVec(const std::vector<Operand> &ops) {
    uint32_t start = uint32_t(k->vecOps.size());
    k->vecOps.insert(k->vecOps.end(), ops.begin(), ops.end());
    return start;
  }

  Operand operand(const RawOperand &r, const RawInstr &raw, Instr &in, DType immType) {
    Operand o;
    switch (r.kind) {
    case RawOperand::Name:
      return nameOperand(r, raw.scope, false);
    case RawOperand::Int:
      o.kind = Operand::Imm;
      o.imm = int64_t(r.bits);
      if (immType == DType::F32)
        o.imm = int64_t(floatBits(float(int64_t(r.bits))));
      else if (immType == DType::F64) {
        double v = double(int64_t(r.bits));
        std::memcpy(&o.imm, &v, 8);
      }
      return o;
    case RawOperand::Float: {
      o.kind = Operand::Imm;
      double v;
      if (r.isDouble) {
        std::memcpy(&v, &r.bits, 8);
      } else {
        float f;
        uint32_t b = uint32_t(r.bits);
        std::memcpy(&f, &b, 4);
        v = f;
      }
      if (immType == DType::F64)
        std::memcpy(&o.imm, &v, 8);
      else if (!r.isDouble)
        o.imm = int64_t(uint32_t(r.bits));
      else
        o.imm = int64_t(floatBits(float(v)));
      return o;
    }
    case RawOperand::Sink:
      o.kind = Operand::Sink;
      return o;
    case RawOperand::Mem: {
      o.kind = Operand::Mem;
      o.reg = kNoReg;
      o.imm = r.offset;
      if (r.name.empty())
        return o;
      RawOperand base = r;
      base.kind = RawOperand::Name;
      base.offset = 0;
      Operand b = nameOperand(base, raw.scope, in.space == Space::Generic);
      if (b.kind == Operand::Reg) {
        o.reg = b.reg;
        // [%r + imm] with a 32-bit register is a 32-bit address: the sum
        // wraps (a shared-memory base minus an offset, plus a larger
        // immediate, is an ordinary address).
        if (b.reg < k->regTypes.size() && byteWidth(k->regTypes[b.reg]) == 4)
          o.count = 32;
      } else if (b.kind == Operand::Imm) {
        o.imm += b.imm;
        // A call parameter ([param0]) is local memory of the calling thread.
        const NameTable::Entry *e = names.find(r.name, raw.scope);
        if (e && e->kind == NameTable::Entry::Symbol && e->space == Space::Local &&
            in.space == Space::Param)
          in.space = Space::Local;
      } else {
        fail("'" + r.name + "' cannot be an address");
      }
      return o;
    }
    case RawOperand::Vec:
    case RawOperand::Pair:
    case RawOperand::Call: {
      std::vector<Operand> elems;
      for (const RawOperand &e : r.elems)
        elems.push_back(operand(e, raw, in, immType));
      o.kind = Operand::Vec;
      o.count = uint8_t(elems.size());
      o.reg = pushVec(elems);
      return o;
    }
    case RawOperand::Tensor: {
      RawOperand base;
      base.kind = RawOperand::Name;
      base.name = r.name;
      Operand b = nameOperand(base, raw.scope, false);
      std::vector<Operand> coords;
      for (const RawOperand &e : r.elems)
        coords.push_back(operand(e, raw, in, DType::S32));
      o.kind = Operand::Tensor;
      o.reg = b.kind == Operand::Reg ? b.reg : kNoReg;
      if (b.kind != Operand::Reg)
        fail("a tensor map operand must be a register");
      o.count = uint8_t(coords.size());
      o.imm = pushVec(coords);
      return o;
    }
    }
    return o;
  }

  static uint32_t floatBits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
  }

  Instr decode(const RawInstr &raw) {
    currentLine = raw.line;
    Instr in;
    in.ptxLine = raw.line;
    in.loc = raw.loc;
    DecodedOpcode d = splitOpcode(raw.opcode);
    fillCommon(in, d);
    if (!raw.guard.empty()) {
      RawOperand g;
      g.name = raw.guard;
      Operand p = nameOperand(g, raw.scope, false);
      if (p.kind != Operand::Reg)
        fail("the guard '" + raw.guard + "' is not a predicate register");
      in.guard = p.reg;
      in.guardNeg = raw.guardNeg;
    }
    // Immediates take the type of the operation (cvt: the source's).
    DType immType = in.type;
    if (d.op == OpCvt && d.types.size() > 1)
      immType = d.types[1];
    if (d.op == OpCall) {
      decodeCall(raw, in);
    } else {
      if (raw.operands.size() > 6 && d.op != OpWgmmaMma)
        fail("more operands than the emulator's instruction form holds");
      for (size_t i = 0; i < raw.operands.size() && i < 6; ++i) {
        if (d.op == OpWgmmaMma && i >= 4)
          break;
        DType t = immType;
        // setp's and selp's predicate operands, shift amounts and bfe
        // positions are not of the operation's type.
        if ((d.op == OpShl || d.op == OpShr || d.op == OpBfe || d.op == OpBfi) && i >= 2)
          t = DType::U32;
        in.ops[i] = operand(raw.operands[i], raw, in, t);
      }
      in.nops = uint8_t(std::min<size_t>(raw.operands.size(), 6));
      if (d.op == OpWgmmaMma)
        decodeWgmmaImmediates(raw, in);
    }
    bool bound = false;
    if (d.op == OpUnknown) {
      bound = false;
    } else if (d.op == OpCall) {
      bound = in.exec != nullptr;
    } else {
      bound = bindInteger(in, d) || bindFloat(in, d) || bindConvert(in, d) ||
              bindMemory(in, d) || bindControl(in, d) || bindSync(in, d) ||
              bindAsync(in, d) || bindWgmma(in, d) || bindMma(in, d);
    }
    if (!bound) {
      in.exec = execUnsupported;
      in.flags |= FlagUnsupported;
    }
    return in;
  }

  /// Flags the instructions that access a register some wgmma.mma_async
  /// uses as its accumulator or A fragment (FlagTouchesWgmmaReg): between
  /// such an access and the wgmma, a wgmma.fence must run.
  void markWgmmaRegisterAccesses() {
    std::vector<bool> fragment(k->numRegs, false);
    bool any = false;
    for (const Instr &in : k->code) {
      if (in.op != OpWgmmaMma)
        continue;
      for (int which : {0, 1}) {
        const Operand &v = in.ops[which];
        if (v.kind != Operand::Vec)
          continue;
        for (unsigned i = 0; i < v.count; ++i)
          if (k->vecOps[v.reg + i].kind == Operand::Reg)
            fragment[k->vecOps[v.reg + i].reg] = any = true;
      }
    }
    if (!any)
      return;
    auto touches = [&](const Operand &o) {
      if (o.kind == Operand::Reg)
        return bool(fragment[o.reg]);
      if (o.kind == Operand::Vec) {
        for (unsigned i = 0; i < o.count; ++i) {
          const Operand &e = k->vecOps[o.reg + i];
          if (e.kind == Operand::Reg && fragment[e.reg])
            return true;
        }
      }
      return false;
    };
    for (Instr &in : k->code) {
      if (in.op == OpWgmmaMma || in.op == OpWgmmaFence || in.op == OpWgmmaCommit ||
          in.op == OpWgmmaWait)
        continue;
      for (unsigned i = 0; i < in.nops; ++i)
        if (touches(in.ops[i]))
          in.flags |= FlagTouchesWgmmaReg;
    }
  }

  /// wgmma's trailing immediates (scale-a, scale-b, trans-a, trans-b) go
  /// into modifier bits; ops[3] is scale-d.
  void decodeWgmmaImmediates(const RawInstr &raw, Instr &in) {
    auto imm = [&](size_t i) -> int64_t {
      if (i >= raw.operands.size())
        return -2;
      const RawOperand &r = raw.operands[i];
      if (r.kind != RawOperand::Int)
        fail("wgmma's scale and transpose operands must be immediates");
      return int64_t(r.bits);
    };
    if (raw.operands.size() < 4)
      fail("wgmma.mma_async needs d, a, b and scale-d");
    // SS: d, a-desc, b-desc, scale-d, [scale-a, scale-b, [trans-a, trans-b]]
    // RS: d, a-regs, b-desc, scale-d, [scale-a, scale-b, [trans-b]]
    bool rs = raw.operands[1].kind == RawOperand::Vec;
    size_t n = raw.operands.size();
    int64_t sa = n > 4 ? imm(4) : 1, sb = n > 5 ? imm(5) : 1, ta = 0, tb = 0;
    if (rs && n > 6)
      tb = imm(6);
    if (!rs && n > 6)
      ta = imm(6);
    if (!rs && n > 7)
      tb = imm(7);
    if (sa == -1)
      in.mods |= ModNegA;
    if (sb == -1)
      in.sub2 = 1;
    if (ta == 1)
      in.mods |= ModTransA;
    if (tb == 1)
      in.mods |= ModTransB;
    in.nops = 4;
  }

  /// call (ret), fn, (args): vprintf is built in; other calls are not run.
  void decodeCall(const RawInstr &raw, Instr &in) {
    const RawOperand *ret = nullptr, *fn = nullptr, *args = nullptr;
    for (const RawOperand &o : raw.operands) {
      if (o.kind == RawOperand::Call)
        (fn ? args : ret) = &o;
      else if (o.kind == RawOperand::Name && !fn)
        fn = &o;
    }
    if (!fn)
      fail("a call without a function");
    bindCall(in, fn->name);
    auto localAddress = [&](const RawOperand &p) -> int64_t {
      const NameTable::Entry *e = names.find(p.name, raw.scope);
      if (!e || e->kind != NameTable::Entry::Symbol || e->space != Space::Local)
        fail("a call parameter '" + p.name + "' that is not a declared .param");
      return int64_t(e->address);
    };
    in.ops[0].kind = Operand::None;
    if (ret && !ret->elems.empty()) {
      in.ops[0].kind = Operand::Imm;
      in.ops[0].imm = localAddress(ret->elems[0]);
    }
    for (size_t i = 0; args && i < args->elems.size() && i < 3; ++i) {
      in.ops[1 + i].kind = Operand::Imm;
      in.ops[1 + i].imm = localAddress(args->elems[i]);
    }
    in.nops = 4;
  }
};

} // namespace

std::unique_ptr<Module> loadModule(const std::string &ptx) {
  ParsedModule pm = parsePTX(ptx);
  auto m = std::make_unique<Module>();
  m->sourceLines = pm.lines;
  uint32_t maxFile = 0;
  for (const auto &[index, path] : pm.files)
    maxFile = std::max(maxFile, index);
  m->fileNames.resize(maxFile + 1);
  for (const auto &[index, path] : pm.files)
    m->fileNames[index] = path;
  // Module variables: .global/.const get host storage; .shared a place in
  // every kernel's static shared memory; extern .shared is the dynamic part.
  std::map<std::string, NameTable::Entry> moduleNames;
  uint32_t shared = 0, dynAlign = 16;
  std::vector<std::pair<std::string, uint32_t>> sharedOffsets;
  for (const Decl &d : pm.globals) {
    uint32_t width = byteWidth(d.type) * d.vec;
    uint32_t bytes = width * std::max(d.count, 1u);
    uint32_t align = std::max(d.align, width);
    NameTable::Entry e;
    e.kind = NameTable::Entry::Symbol;
    if (d.kind == Decl::Shared) {
      e.space = Space::Shared;
      if (d.external || d.count == 0) {
        dynAlign = std::max(dynAlign, align);
        sharedOffsets.push_back({d.name, 0xffffffffu});
        moduleNames[d.name] = e; // address filled per kernel below
        continue;
      }
      shared = alignUp(shared, align);
      e.address = shared;
      shared += bytes;
    } else {
      auto storage = std::make_unique<std::vector<uint8_t>>(std::max(bytes, 1u) + 16, 0);
      std::copy(d.init.begin(), d.init.end(), storage->begin());
      uintptr_t a = reinterpret_cast<uintptr_t>(storage->data());
      e.space = Space::Global;
      e.address = a;
      deviceMemory().addRange(a, bytes);
      m->globalAddress[d.name] = a;
      m->globals.push_back(std::move(storage));
    }
    moduleNames[d.name] = e;
  }
  for (const ParsedFunction &f : pm.functions) {
    NameTable::Entry e;
    e.kind = NameTable::Entry::Function;
    moduleNames[f.name] = e;
  }
  for (const ParsedFunction &f : pm.functions) {
    if (!f.isEntry || f.isExtern)
      continue;
    // Every extern .shared array starts where the static shared memory ends.
    auto names = moduleNames;
    uint32_t dynOffset = alignUp(shared, dynAlign);
    for (const auto &[name, off] : sharedOffsets)
      if (off == 0xffffffffu)
        names[name].address = dynOffset;
    FunctionDecoder fd(pm, f, *m, names, shared, dynAlign);
    std::unique_ptr<Kernel> k = fd.run();
    // Function-scope static shared memory moves the dynamic part further.
    if (k->dynamicSharedOffset != dynOffset) {
      names = moduleNames;
      for (const auto &[name, off] : sharedOffsets)
        if (off == 0xffffffffu)
          names[name].address = k->dynamicSharedOffset;
      uint32_t want = k->dynamicSharedOffset;
      FunctionDecoder again(pm, f, *m, names, shared, dynAlign);
      k = again.run();
      k->dynamicSharedOffset = want;
    }
    m->kernels.push_back(std::move(k));
  }
  return m;
}

} // namespace tessel::emu
