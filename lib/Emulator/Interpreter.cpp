//===- Interpreter.cpp - running threads, blocks and launches --------------===//

#include "lib/Emulator/Machine.h"

#include "lib/Emulator/Opcodes.h"
#include "lib/Emulator/Racecheck.h"
#include "lib/Emulator/Specials.h"
#include "lib/Emulator/Wgmma.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>

namespace tessel::emu {

namespace {
const char *kSpecialNames[kNumSpecialSlots] = {
    "%tid.x", "%tid.y", "%tid.z", "%ntid.x", "%ntid.y", "%ntid.z",
    "%ctaid.x", "%ctaid.y", "%ctaid.z", "%nctaid.x", "%nctaid.y", "%nctaid.z",
    "%laneid", "%warpid", "%nwarpid", "%smid", "%nsmid", "%gridid",
    "%lanemask_eq", "%lanemask_le", "%lanemask_lt", "%lanemask_ge", "%lanemask_gt",
    "%cluster_ctarank", "%cluster_nctarank",
    "%clusterid.x", "%clusterid.y", "%clusterid.z",
    "%nclusterid.x", "%nclusterid.y", "%nclusterid.z",
    "%cluster_ctaid.x", "%cluster_ctaid.y", "%cluster_ctaid.z",
    "%cluster_nctaid.x", "%cluster_nctaid.y", "%cluster_nctaid.z",
    "%is_explicit_cluster", "%dynamic_smem_size", "%total_smem_size", "%aggr_smem_size",
};
} // namespace

int specialSlot(const std::string &name) {
  if (name.empty() || name[0] != '%')
    return -1;
  static const std::map<std::string, int> slots = [] {
    std::map<std::string, int> m;
    for (uint32_t i = 0; i < kNumSpecialSlots; ++i)
      m[kSpecialNames[i]] = int(i);
    return m;
  }();
  auto it = slots.find(name);
  return it == slots.end() ? -1 : it->second;
}

const char *specialName(uint32_t slot) {
  return slot < kNumSpecialSlots ? kSpecialNames[slot] : "?";
}

Options Options::fromEnvironment() {
  Options o;
  auto env = [](const char *name) -> const char * {
    const char *v = std::getenv(name);
    return v && *v ? v : nullptr;
  };
  if (const char *v = env("TESSEL_EMU_SEED"))
    o.seed = std::strtoull(v, nullptr, 0);
  if (const char *v = env("TESSEL_EMU_RACECHECK"))
    o.racecheck = std::string(v) != "0";
  if (const char *v = env("TESSEL_EMU_TRACE"))
    o.traceBlock = std::atoi(v);
  if (const char *v = env("TESSEL_EMU_TRACE_FILE"))
    o.traceFile = v;
  if (const char *v = env("TESSEL_EMU_MAX_STEPS"))
    o.maxSteps = std::strtoull(v, nullptr, 0);
  if (const char *v = env("TESSEL_EMU_THREADS"))
    o.hostThreads = unsigned(std::max(1, std::atoi(v)));
  return o;
}

namespace {
/// Records the wgmma fragment registers `in` accessed (any of its register
/// operands: only fragment registers are ever checked).
void markTouched(Thread &t, const Instr &in) {
  const Kernel &k = *t.block->kernel;
  auto mark = [&](const Operand &o) {
    if (o.kind != Operand::Reg)
      return;
    if (t.touched.size() <= o.reg / 64)
      t.touched.resize(k.numRegs / 64 + 1, 0);
    t.touched[o.reg / 64] |= uint64_t(1) << (o.reg % 64);
  };
  for (unsigned i = 0; i < in.nops; ++i) {
    const Operand &o = in.ops[i];
    if (o.kind == Operand::Vec)
      for (unsigned j = 0; j < o.count; ++j)
        mark(k.vecOps[o.reg + j]);
    else
      mark(o);
  }
  t.touchedPc = t.cur;
}
} // namespace

void runThread(Thread &t) {
  const Instr *code = t.block->kernel->code.data();
  const uint64_t limit = t.block->launch->options.maxSteps
                             ? t.block->launch->options.maxSteps
                             : (uint64_t(1) << 40);
  FILE *trace = t.block->launch->trace && t.block->linearId ==
                                              uint32_t(t.block->launch->options.traceBlock)
                    ? t.block->launch->trace
                    : nullptr;
  // Under a seed a thread runs a random number of instructions before it
  // yields, so threads interleave between synchronizations.
  uint32_t budget = t.block->launch->options.seed ? 1 + uint32_t(t.block->rng() % 64) : 0;
  while (t.state == ThreadState::Ready) {
    const Instr &in = code[t.pc];
    t.cur = t.pc++;
    if (++t.steps > limit)
      t.fail(ErrLaunchTimeout, "this thread ran more than " + std::to_string(limit) +
                                   " instructions (TESSEL_EMU_MAX_STEPS); an endless loop?");
    if (t.lockedCount)
      t.checkLocked(in);
    if (trace && t.lane == 0)
      std::fprintf(trace, "warp %u: %s\n", t.warp,
                   describeInstruction(*t.block, t.cur).c_str());
    if (in.guard != kNoReg && (t.r[in.guard] != 0) == in.guardNeg)
      continue;
    in.exec(t, in);
    if (in.flags & FlagTouchesWgmmaReg)
      markTouched(t, in);
    if (t.yieldNow || (budget && --budget == 0 && t.state == ThreadState::Ready)) {
      t.yieldNow = false;
      if (t.state == ThreadState::Ready)
        t.block->ready.push_back(t.linear);
      return;
    }
  }
}

namespace {

void initThread(Block &b, Thread &t, uint32_t linear) {
  const Launch &l = *b.launch;
  t.block = &b;
  t.linear = linear;
  t.lane = linear % 32;
  t.warp = linear / 32;
  t.tid[0] = linear % l.block[0];
  t.tid[1] = linear / l.block[0] % l.block[1];
  t.tid[2] = linear / (l.block[0] * l.block[1]);
  uint64_t *r = t.r;
  r[SpTidX] = t.tid[0];
  r[SpTidY] = t.tid[1];
  r[SpTidZ] = t.tid[2];
  r[SpNtidX] = l.block[0];
  r[SpNtidY] = l.block[1];
  r[SpNtidZ] = l.block[2];
  r[SpCtaidX] = b.ctaid[0];
  r[SpCtaidY] = b.ctaid[1];
  r[SpCtaidZ] = b.ctaid[2];
  r[SpNctaidX] = l.grid[0];
  r[SpNctaidY] = l.grid[1];
  r[SpNctaidZ] = l.grid[2];
  r[SpLaneid] = t.lane;
  r[SpWarpid] = t.warp;
  uint32_t threads = l.block[0] * l.block[1] * l.block[2];
  r[SpNwarpid] = (threads + 31) / 32;
  r[SpSmid] = b.linearId % 132;
  r[SpNsmid] = 132;
  r[SpLanemaskEq] = 1u << t.lane;
  r[SpLanemaskLt] = (1u << t.lane) - 1;
  r[SpLanemaskLe] = uint32_t((uint64_t(2) << t.lane) - 1);
  r[SpLanemaskGe] = ~uint32_t((1u << t.lane) - 1);
  r[SpLanemaskGt] = ~uint32_t((uint64_t(2) << t.lane) - 1);
  r[SpClusterNctarank] = 1;
  for (int i = 0; i < 3; ++i) {
    r[SpClusteridX + i] = b.ctaid[i];
    r[SpNclusteridX + i] = l.grid[i];
    r[SpClusterNctaidX + i] = 1;
  }
  r[SpDynamicSmemSize] = l.dynamicShared;
  r[SpTotalSmemSize] = b.sharedMem.size();
  r[SpAggrSmemSize] = b.sharedMem.size();
  t.maxRegs = l.launchRegisters;
}

void runBlock(Launch &l, uint32_t linearBlock) {
  const Kernel &k = *l.kernel;
  Block b;
  b.launch = &l;
  b.kernel = &k;
  b.linearId = linearBlock;
  b.ctaid[0] = linearBlock % l.grid[0];
  b.ctaid[1] = linearBlock / l.grid[0] % l.grid[1];
  b.ctaid[2] = linearBlock / (l.grid[0] * l.grid[1]);
  b.rng.seed(l.options.seed * 0x9e3779b97f4a7c15ull + linearBlock);
  uint32_t threads = l.block[0] * l.block[1] * l.block[2];
  size_t sharedBytes = size_t(k.dynamicSharedOffset) + l.dynamicShared;
  if (!l.dynamicShared)
    sharedBytes = std::max<size_t>(k.staticShared, k.dynamicSharedOffset);
  b.sharedMem.assign(sharedBytes, 0xff);
  b.shadow.assign((sharedBytes + 3) / 4, ShadowWord{});
  b.registers.assign(size_t(threads) * k.numRegs, 0);
  b.localMem.assign(size_t(threads) * k.localBytes, 0);
  b.threads.resize(threads);
  b.cpAsyncCommitted.assign(threads, 0);
  b.bulkCommitted.assign(threads, 0);
  b.wgmma = std::make_unique<WgmmaState>();
  for (uint32_t i = 0; i < threads; ++i) {
    Thread &t = b.threads[i];
    t.r = b.registers.data() + size_t(i) * k.numRegs;
    t.local = b.localMem.data() + size_t(i) * k.localBytes;
    initThread(b, t, i);
  }
  if (l.options.racecheck)
    racecheckInit(b);
  b.live = threads;
  b.run();
  checkWgmmaAtExit(b);
  uint64_t steps = 0;
  for (const Thread &t : b.threads)
    steps += t.steps;
  l.instructions += steps;
}

} // namespace

void Launch::run() {
  uint32_t blocks = grid[0] * grid[1] * grid[2];
  if (!options.traceFile.empty() && options.traceBlock >= 0)
    trace = std::fopen(options.traceFile.c_str(), "w");
  else if (options.traceBlock >= 0)
    trace = stderr;
  struct Closer {
    Launch &l;
    ~Closer() {
      if (!l.printed.empty()) {
        std::fwrite(l.printed.data(), 1, l.printed.size(), stdout);
        std::fflush(stdout);
      }
      if (l.trace && l.trace != stderr)
        std::fclose(l.trace);
    }
  } closer{*this};
  unsigned workers = std::min<unsigned>(options.hostThreads, blocks);
  if (workers <= 1) {
    for (uint32_t i = 0; i < blocks; ++i)
      runBlock(*this, i);
    return;
  }
  // Blocks in parallel: each worker takes the next block; the first error
  // (by block order) is the launch's.
  std::mutex mutex;
  uint32_t nextBlock = 0;
  std::map<uint32_t, EmuError> errors;
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < workers; ++w)
    pool.emplace_back([&] {
      while (true) {
        uint32_t i;
        {
          std::lock_guard<std::mutex> lock(mutex);
          if (nextBlock >= blocks || !errors.empty())
            return;
          i = nextBlock++;
        }
        try {
          runBlock(*this, i);
        } catch (const EmuError &e) {
          std::lock_guard<std::mutex> lock(mutex);
          errors.emplace(i, e);
        }
      }
    });
  for (std::thread &t : pool)
    t.join();
  if (!errors.empty())
    throw errors.begin()->second;
}

} // namespace tessel::emu
