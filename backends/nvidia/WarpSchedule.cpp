//===- WarpSchedule.cpp - checking producer/consumer mbarrier protocols ---===//

#include "backends/nvidia/WarpSchedule.h"

#include <array>
#include <sstream>

namespace tessel::nvidia {

WarpSchedule WarpSchedule::standard(int64_t stages, int64_t consumerThreads,
                                    bool keepOneInFlight) {
  WarpSchedule s;
  s.stages = stages;
  s.fullCount = 1;
  s.emptyCount = consumerThreads;
  s.producer.name = "the producer";
  s.producer.threads = 1;
  s.producer.steps = {{ScheduleStep::Wait, Ring::Empty, /*flip=*/1, 0},
                      {ScheduleStep::ArriveExpectTx, Ring::Full, 0, 1},
                      {ScheduleStep::Load, Ring::Full, 0, 0}};
  s.consumer.name = "the consumers";
  s.consumer.threads = consumerThreads;
  s.consumer.steps = {{ScheduleStep::Wait, Ring::Full, /*flip=*/0, 0},
                      {ScheduleStep::Read, Ring::Full, 0, 0},
                      {ScheduleStep::Arrive, Ring::Empty, 0, consumerThreads}};
  if (keepOneInFlight) {
    ScheduleStep retire{ScheduleStep::Retire, Ring::Empty, 0, 0, /*lag=*/1};
    ScheduleStep release{ScheduleStep::Arrive, Ring::Empty, 0, consumerThreads, /*lag=*/1};
    s.consumer.steps = {s.consumer.steps[0], s.consumer.steps[1], retire, release};
    s.consumer.drain = {retire, release};
  }
  return s;
}

namespace {

const char *ringName(Ring r) { return r == Ring::Full ? "full" : "empty"; }

/// One run of both roles for `iterations` iterations against a model of the
/// barriers: a barrier's phase completes when its arrivals reach the count
/// and no announced bytes are outstanding; a parity wait passes once the
/// phase of that parity is over (so a wait for the parity before the first
/// phase passes at once), exactly what mbarrier.try_wait.parity sees.
class Simulation {
public:
  Simulation(const WarpSchedule &s, int64_t iterations, bool producerFirst)
      : s(s), iterations(iterations), producerFirst(producerFirst),
        filled(s.stages, -1), read(s.stages, -1), issued(s.stages, -1) {
    for (auto &ring : barriers)
      ring.assign(s.stages, Barrier{});
  }

  std::string run() {
    std::array<const RoleSchedule *, 2> roles{&s.producer, &s.consumer};
    if (!producerFirst)
      std::swap(roles[0], roles[1]);
    while (true) {
      bool moved = false, done = true;
      for (const RoleSchedule *role : roles) {
        Position &at = position(role);
        if (finished(*role, at))
          continue;
        done = false;
        std::string error;
        if (!step(*role, at, error)) {
          if (!error.empty())
            return error;
          continue;
        }
        moved = true;
        break; // the preferred role goes again, as far as it can
      }
      if (done)
        return "";
      if (!moved)
        return deadlock();
    }
  }

private:
  struct Barrier {
    int64_t phase = 0, arrivals = 0, bytes = 0;
  };
  struct Position {
    int64_t iteration = 0;
    size_t step = 0;
  };

  bool finished(const RoleSchedule &role, const Position &at) const {
    return at.iteration >= iterations && at.step >= role.drain.size();
  }

  Position &position(const RoleSchedule *role) {
    return role == &s.producer ? producerAt : consumerAt;
  }
  Barrier &barrier(Ring r, int64_t iteration) {
    return barriers[r == Ring::Full ? 0 : 1][iteration % s.stages];
  }
  int64_t count(Ring r) const { return r == Ring::Full ? s.fullCount : s.emptyCount; }
  int parity(const ScheduleStep &st, int64_t iteration) const {
    return int((iteration / s.stages) & 1) ^ st.flip;
  }

  std::string where(const RoleSchedule &role, int64_t iteration) const {
    std::ostringstream os;
    os << role.name << ", in iteration " << iteration << " of " << iterations
       << " with " << s.stages << " stages,";
    return os.str();
  }

  void complete(Barrier &bar, Ring r) {
    if (bar.arrivals == count(r) && bar.bytes == 0) {
      ++bar.phase;
      bar.arrivals = 0;
    }
  }

  /// Runs `at`'s next step if it can. False when it waits (error empty) or
  /// is wrong (error set).
  bool step(const RoleSchedule &role, Position &at, std::string &error) {
    bool draining = at.iteration >= iterations;
    const ScheduleStep &st = draining ? role.drain[at.step] : role.steps[at.step];
    // A lagged step is about an earlier iteration, and none before the first.
    int64_t k = at.iteration - st.lag;
    if (k < 0) {
      advance(role, at);
      return true;
    }
    int64_t stage = k % s.stages;
    Barrier &bar = barrier(st.ring, k);
    switch (st.kind) {
    case ScheduleStep::Wait:
      if ((bar.phase & 1) == parity(st, k))
        return false;
      break;
    case ScheduleStep::Arrive:
    case ScheduleStep::ArriveExpectTx: {
      int64_t n = st.kind == ScheduleStep::Arrive ? st.arrivals : 1;
      if (n < 1 || n > role.threads) {
        error = where(role, k) + " arrives " + std::to_string(n) +
                " times but has " + std::to_string(role.threads) + " threads";
        return false;
      }
      if (st.kind == ScheduleStep::ArriveExpectTx)
        ++bar.bytes;
      bar.arrivals += n;
      if (bar.arrivals > count(st.ring)) {
        error = where(role, k) + " arrives on the " + ringName(st.ring) +
                " barrier of stage " + std::to_string(stage) +
                " more often than its " + std::to_string(count(st.ring)) +
                " expected arrivals: a phase would complete early";
        return false;
      }
      complete(bar, st.ring);
      break;
    }
    case ScheduleStep::Load:
      if (k >= s.stages && read[stage] != k - s.stages) {
        error = where(role, k) + " loads into stage " + std::to_string(stage) +
                " before the consumers have read iteration " +
                std::to_string(k - s.stages) + " from it";
        return false;
      }
      if (bar.bytes == 0) {
        error = where(role, k) + " loads into stage " + std::to_string(stage) +
                " completing on a " + ringName(st.ring) +
                " barrier that expects no bytes";
        return false;
      }
      filled[stage] = k;
      --bar.bytes;
      complete(bar, st.ring);
      break;
    case ScheduleStep::Read:
      if (filled[stage] != k) {
        error = where(role, k) + " reads stage " + std::to_string(stage) +
                " before the load for iteration " + std::to_string(k) +
                " has landed";
        return false;
      }
      issued[stage] = k;
      if (!retires(role))
        read[stage] = k;
      break;
    case ScheduleStep::Retire:
      if (issued[stage] != k) {
        error = where(role, k) + " retires the reads of stage " + std::to_string(stage) +
                " for iteration " + std::to_string(k) + ", which were not issued";
        return false;
      }
      read[stage] = k;
      break;
    }
    advance(role, at);
    return true;
  }

  static bool retires(const RoleSchedule &role) {
    for (const ScheduleStep &st : role.steps)
      if (st.kind == ScheduleStep::Retire)
        return true;
    return false;
  }

  void advance(const RoleSchedule &role, Position &at) {
    if (at.iteration >= iterations) {
      ++at.step;
      return;
    }
    if (++at.step == role.steps.size()) {
      at.step = 0;
      ++at.iteration;
    }
  }

  std::string waiting(const RoleSchedule &role, const Position &at) {
    if (finished(role, at))
      return role.name + " has finished";
    const ScheduleStep &st =
        at.iteration >= iterations ? role.drain[at.step] : role.steps[at.step];
    int64_t k = at.iteration - st.lag;
    return where(role, k) + " waits on the " + ringName(st.ring) +
           " barrier of stage " + std::to_string(k % s.stages) + " for parity " +
           std::to_string(parity(st, k));
  }

  std::string deadlock() {
    return "deadlock: " + waiting(s.producer, producerAt) + "; " +
           waiting(s.consumer, consumerAt);
  }

  const WarpSchedule &s;
  int64_t iterations;
  bool producerFirst;
  std::array<std::vector<Barrier>, 2> barriers;
  // Per stage: the iteration loaded into it, whose reads were issued, and
  // whose reads have finished.
  std::vector<int64_t> filled, read, issued;
  Position producerAt, consumerAt;
};

bool has(const RoleSchedule &role, ScheduleStep::Kind kind) {
  for (const ScheduleStep &st : role.steps)
    if (st.kind == kind)
      return true;
  return false;
}

} // namespace

std::string verifySchedule(const WarpSchedule &schedule) {
  if (schedule.stages < 1)
    return "a schedule needs at least one stage";
  if (schedule.fullCount < 1 || schedule.emptyCount < 1)
    return "an mbarrier expects at least one arrival per phase";
  if (!has(schedule.producer, ScheduleStep::Load))
    return "nothing " + schedule.producer.name + " does loads a stage";
  if (!has(schedule.consumer, ScheduleStep::Read))
    return "nothing " + schedule.consumer.name + " do reads a stage";
  // Parities repeat every two rounds of the ring; a few more iterations
  // than that cover every pattern of waits, and fewer cover short loops.
  for (int64_t n = 1; n <= 2 * schedule.stages + 3; ++n)
    for (bool producerFirst : {true, false}) {
      std::string error = Simulation(schedule, n, producerFirst).run();
      if (!error.empty())
        return error;
    }
  return "";
}

} // namespace tessel::nvidia
