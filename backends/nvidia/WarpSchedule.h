//===- WarpSchedule.h - producer/consumer mbarrier protocols -----*- C++ -*-===//
//
// A warp-specialized pipelined loop runs as two roles: a producer that fills
// the stages of a ring of shared buffers (TMA loads) and consumers that read
// them (wgmma). Two rings of mbarriers keep them apart: "full" (a stage's
// loads landed) and "empty" (the consumers are done with a stage). A
// WarpSchedule writes down, per iteration and per role, what each role does
// with those barriers and with the stage, and verifySchedule checks the
// protocol before any code is emitted: it runs both roles against a model
// of mbarrier phases, once with the producer as far ahead as it can get and
// once with the consumers as far ahead as they can get, and reports a
// deadlock (both roles waiting), a phase completed by more arrivals than
// its barrier expects, a read of a stage whose load has not completed, or a
// load into a stage the consumers have not released.
//
// The emitter builds the schedule, verifies it, and emits each role's code
// from its steps, so what is checked is what runs.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_BACKENDS_NVIDIA_WARPSCHEDULE_H
#define TESSEL_BACKENDS_NVIDIA_WARPSCHEDULE_H

#include <cstdint>
#include <string>
#include <vector>

namespace tessel::nvidia {

/// One ring of mbarriers, one per stage.
enum class Ring { Full, Empty };

struct ScheduleStep {
  enum Kind {
    /// Wait on this iteration's stage barrier of `ring` for the phase of
    /// parity ((iteration / stages) & 1) ^ flip.
    Wait,
    /// `arrivals` arrivals on this iteration's stage barrier of `ring`.
    Arrive,
    /// One arrival that also announces the bytes of this iteration's loads
    /// (they must land before the phase completes).
    ArriveExpectTx,
    /// The loads into this iteration's stage (completing on `ring`).
    Load,
    /// Reads of this iteration's stage are issued (wgmma: they run on after
    /// it; a role without Retire steps finishes them here).
    Read,
    /// The reads of an earlier iteration have finished (wgmma.wait_group).
    Retire,
  };
  Kind kind;
  Ring ring = Ring::Full;
  int flip = 0;
  int64_t arrivals = 1;
  /// The step is about iteration (this one - lag), and is skipped in the
  /// first `lag` iterations: a consumer that keeps one iteration's wgmmas in
  /// flight retires and releases the previous iteration's stage.
  int64_t lag = 0;
};

struct RoleSchedule {
  std::string name;
  /// Threads running the role; the role's Arrive steps count arrivals over
  /// all of them.
  int64_t threads = 0;
  /// What the role does in every iteration, in order.
  std::vector<ScheduleStep> steps;
  /// What it does once after the last iteration (as iteration `trip count`:
  /// lagged steps catch up with the last iterations).
  std::vector<ScheduleStep> drain;
};

struct WarpSchedule {
  int64_t stages = 0;
  /// Arrivals that complete a phase of each ring's barriers (mbarrier.init).
  int64_t fullCount = 1, emptyCount = 1;
  RoleSchedule producer, consumer;

  /// The protocol Tessel emits: the producer waits for the consumers to
  /// release a stage (skipping the wait on a stage's first use by waiting
  /// for the phase before the first), announces the bytes and issues the
  /// loads; the consumers wait for the loads, read, and each thread
  /// releases the stage.
  /// With `keepOneInFlight` (two stages or more), the consumers retire and
  /// release the previous iteration's stage after issuing this one's reads,
  /// so one iteration's wgmmas stay in flight while the next waits for its
  /// loads; after the loop they retire and release the last.
  static WarpSchedule standard(int64_t stages, int64_t consumerThreads,
                               bool keepOneInFlight = false);
};

/// An empty string when the schedule cannot deadlock or race for any trip
/// count; otherwise what goes wrong, and in which iteration.
std::string verifySchedule(const WarpSchedule &schedule);

} // namespace tessel::nvidia

#endif // TESSEL_BACKENDS_NVIDIA_WARPSCHEDULE_H
