//===- Machine.h - threads, blocks and memory of the emulated GPU -*- C++ -*-===//
//
// One launch runs its blocks one after another. A block holds its threads,
// each with its own registers and program counter; a thread runs until it
// reaches something that waits for other threads (a barrier, a warp
// collective, an mbarrier phase), then the block switches to another. Async
// work (TMA copies, cp.async) is queued and lands as late as the program
// allows, which is where missing waits show.
//
// Addresses: global memory is host memory (allocations are host pointers);
// shared, local and parameter memory live in windows of the generic address
// space above the host's (kSharedWindow + offset, ...), so a generic access
// says which memory it means.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_LIB_EMULATOR_MACHINE_H
#define TESSEL_LIB_EMULATOR_MACHINE_H

#include "lib/Emulator/Errors.h"
#include "lib/Emulator/Program.h"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace tessel::emu {

constexpr uint64_t kLocalWindow = uint64_t(1) << 48;
constexpr uint64_t kSharedWindow = uint64_t(2) << 48;
constexpr uint64_t kParamWindow = uint64_t(3) << 48;
constexpr uint64_t kWindowMask = (uint64_t(1) << 48) - 1;

/// What the emulator is told through the environment (TESSEL_EMU_*).
struct Options {
  uint64_t seed = 0;          ///< 0: deterministic thread order, async lands latest
  bool racecheck = false;     ///< TESSEL_EMU_RACECHECK=1
  int traceBlock = -1;        ///< TESSEL_EMU_TRACE=<linear block>: per-warp trace
  std::string traceFile;      ///< TESSEL_EMU_TRACE_FILE (default stderr)
  uint64_t maxSteps = 0;      ///< TESSEL_EMU_MAX_STEPS per thread (0: 2^40)
  unsigned hostThreads = 1;   ///< TESSEL_EMU_THREADS: blocks run in parallel
  static Options fromEnvironment();
};

/// Global memory allocations (cuMemAlloc): host memory, and what a kernel's
/// global accesses are checked against.
class DeviceMemory {
public:
  uint64_t allocate(size_t bytes);
  bool release(uint64_t address);
  /// The allocation holding [address, address + bytes), or false.
  bool find(uint64_t address, uint64_t bytes, uint64_t &base, uint64_t &size) const;
  /// The allocation starting at or below `address` nearest to it.
  bool below(uint64_t address, uint64_t &base, uint64_t &size) const;
  /// Registers host memory that kernels may address (module globals).
  void addRange(uint64_t base, uint64_t size);
  void removeRange(uint64_t base);

private:
  mutable std::mutex mutex;
  std::map<uint64_t, uint64_t> ranges; ///< base -> size
  std::map<uint64_t, void *> owned;    ///< allocations to free
};

DeviceMemory &deviceMemory();

enum class ThreadState : uint8_t { Ready, Blocked, Exited };

/// A shared-memory word's last writer, for the proxy-fence check: the
/// writing thread (+1) and its fence epoch at the time, or an async copy in
/// flight (kPendingAsync, epoch = which copy).
struct ShadowWord {
  uint32_t writer = 0;
  uint32_t epoch = 0;
  uint32_t asyncReads = 0;   ///< in-flight async reads (wgmma operands, TMA store sources)
  uint32_t readerPc = 0;     ///< the instruction of the latest of them
  uint32_t writerPc = 0;     ///< the instruction of the last generic write
};
constexpr uint32_t kPendingAsync = 0xffffffffu;

struct Block;
struct Launch;

struct Thread {
  uint64_t *r = nullptr;      ///< registers
  uint32_t pc = 0;            ///< next instruction
  uint32_t cur = 0;           ///< the instruction executing
  uint32_t linear = 0, lane = 0, warp = 0;
  uint32_t tid[3] = {0, 0, 0};
  ThreadState state = ThreadState::Ready;
  uint32_t fenceEpoch = 1;    ///< bumped by fence.proxy.async
  uint32_t lockedCount = 0;   ///< registers an in-flight wgmma owns
  uint32_t maxRegs = 0;       ///< setmaxnreg's current budget
  uint64_t steps = 0;
  bool yieldNow = false;        ///< go to the back of the ready queue after this instruction
  uint8_t *local = nullptr;
  Block *block = nullptr;
  std::vector<uint64_t> locked; ///< bitset over register slots
  std::vector<uint64_t> touched; ///< wgmma registers accessed since the last wgmma.fence
  bool fenced = false;          ///< a wgmma.fence has run
  uint32_t touchedPc = 0;       ///< the latest such access, for messages
  std::string waitReason;       ///< what a blocked thread waits for

  uint64_t val(const Operand &o) const {
    if (o.kind == Operand::Reg)
      return r[o.reg];
    if (o.kind == Operand::Imm)
      return uint64_t(o.imm);
    return slowValue(o);
  }
  bool pred(const Operand &o) const { return (val(o) != 0) != o.neg; }
  void set(const Operand &o, uint64_t v) {
    if (o.kind == Operand::Reg)
      r[o.reg] = v;
    else if (o.kind != Operand::Sink)
      badDestination(o);
  }
  uint64_t slowValue(const Operand &o) const;
  [[noreturn]] void badDestination(const Operand &o) const;

  /// Fails the launch with a message located at this thread's instruction.
  [[noreturn]] void fail(Result code, const std::string &what) const;
  std::string where() const;

  // Memory, checked: each returns the host address of `bytes` at `address`.
  uint8_t *shared(uint64_t address, unsigned bytes, bool write);
  uint8_t *global(uint64_t address, unsigned bytes, bool write);
  /// Checks that [address, address + bytes) is inside one allocation (no
  /// alignment asked: a cp.async source of src-size bytes).
  void globalRange(uint64_t address, uint64_t bytes);
  uint8_t *localMem(uint64_t address, unsigned bytes);
  const uint8_t *param(uint64_t address, unsigned bytes) const;
  uint8_t *generic(uint64_t address, unsigned bytes, bool write);
  uint8_t *at(Space space, uint64_t address, unsigned bytes, bool write);
  void checkLocked(const Instr &in) const;
};

/// A named barrier (bar.sync id, count).
struct NamedBarrier {
  uint32_t expected = 0;      ///< 0: every live thread
  uint32_t arrived = 0;
  uint32_t firstLine = 0;
  uint32_t popc = 0;          ///< bar.red: how many predicates were true
  bool all = true, any = false;
  std::vector<uint32_t> waiting;
  std::vector<uint32_t> arrivers;
};

/// An mbarrier object, kept beside the shared memory it lives in.
struct MBarrier {
  uint32_t expected = 0, pending = 0;
  int64_t tx = 0;
  uint64_t phase = 0;          ///< completed phases
  uint32_t initLine = 0;
  std::vector<uint32_t> waiters;
};

/// A warp or warpgroup collective in progress: the threads that have
/// reached it and the operation to run when the last one does.
struct Collective {
  uint32_t pc = 0;
  uint64_t key = 0;            ///< mask or qualifiers that must agree
  std::vector<uint32_t> members;  ///< the threads it waits for
  std::vector<uint32_t> arrived;
};

/// An async copy in flight.
struct AsyncOp {
  uint64_t id = 0;
  uint32_t issuer = 0;          ///< thread
  uint32_t pc = 0;
  std::function<void(Block &)> land;
  uint32_t mbarrier = kNoReg;   ///< shared address of the mbarrier it completes
  uint64_t group = 0;           ///< cp.async group (thread-local sequence)
  bool isCpAsync = false;
  bool isBulk = false;          ///< a bulk async-group member (stores)
  std::vector<std::pair<uint32_t, uint32_t>> footprint; ///< shared [begin, end)
};

struct WgmmaState; // Wgmma.cpp
struct RaceState;  // Racecheck.cpp

struct Block {
  Launch *launch = nullptr;
  const Kernel *kernel = nullptr;
  uint32_t ctaid[3] = {0, 0, 0};
  uint32_t linearId = 0;
  std::vector<Thread> threads;
  std::vector<uint64_t> registers;
  std::vector<uint8_t> sharedMem;
  std::vector<ShadowWord> shadow;
  std::vector<uint8_t> localMem;
  NamedBarrier barriers[16];
  std::map<uint32_t, MBarrier> mbarriers;
  std::map<uint64_t, Collective> collectives; ///< by (group << 32 | pc)
  std::deque<AsyncOp> async;
  uint64_t nextAsyncId = 1;
  std::deque<uint32_t> ready;
  std::unique_ptr<WgmmaState> wgmma;
  std::unique_ptr<RaceState> race;
  std::mt19937_64 rng;
  uint32_t live = 0;
  /// Set by a collective's action that cannot complete yet (setmaxnreg.inc
  /// waiting for registers): its members wait in `registerWaiters` and run
  /// the instruction again when registers are released.
  bool retryCollective = false;
  /// Failed mbarrier.test_wait polls since the last synchronization event:
  /// when every thread only polls, nothing will ever change.
  uint64_t pollsSinceProgress = 0;
  void progress() { pollsSinceProgress = 0; }
  std::vector<uint32_t> registerWaiters;
  std::vector<uint64_t> cpAsyncCommitted; ///< per thread: cp.async groups committed
  std::vector<uint64_t> bulkCommitted;    ///< per thread: bulk async-groups committed

  void run();
  void wake(uint32_t thread);
  /// Lands async copies (all, or those of `thread`'s cp.async groups older
  /// than the newest `keep`).
  void landCpAsync(uint32_t thread, uint64_t keep);
  void landBulk(uint32_t thread, uint64_t keep);
  bool landOne();
  MBarrier &mbarrier(Thread &t, uint64_t address);
  void completeTx(uint32_t address, int64_t bytes, const Thread *by);
  void arriveOn(uint32_t address, uint32_t count, const Thread *by);
  /// Joins `t` to the collective at its instruction; when every member has
  /// arrived, `action` runs once with the members and they all go on.
  void collective(Thread &t, uint64_t group, uint64_t key,
                  const std::vector<uint32_t> &members,
                  const std::function<void(const std::vector<uint32_t> &)> &action);
  std::string describeWaits() const;
  ~Block();
};

/// One kernel launch: the grid, the parameter buffer and what the blocks share.
struct Launch {
  const Module *module = nullptr;
  const Kernel *kernel = nullptr;
  uint32_t grid[3] = {1, 1, 1}, block[3] = {1, 1, 1};
  uint32_t dynamicShared = 0;
  uint32_t launchRegisters = 0; ///< the kernel's register count at launch (0: unknown)
  std::vector<uint8_t> params;
  Options options;
  std::string printed;          ///< vprintf output, written at the end
  std::atomic<uint64_t> instructions{0}; ///< executed by every thread of every block
  std::mutex printMutex;
  FILE *trace = nullptr;

  /// Runs every block; throws EmuError for the first failure.
  void run();
};

/// A failure's position: block, warp, thread, PTX line and source line.
std::string describeLocation(const Thread &t, uint32_t pc);
/// An instruction: its PTX line and text, and its source line (.loc).
std::string describeInstruction(const Block &b, uint32_t pc);

/// A new async operation issued by `t` at its current instruction
/// (ExecAsync.cpp); the caller fills in what it does.
AsyncOp issueAsync(Thread &t);

/// Runs `t` until it blocks or exits (Interpreter.cpp).
void runThread(Thread &t);

} // namespace tessel::emu

#endif // TESSEL_LIB_EMULATOR_MACHINE_H
