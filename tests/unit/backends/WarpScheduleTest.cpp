//===- WarpScheduleTest.cpp - the mbarrier protocol checker ---------------===//
//
// The protocol Tessel emits passes for every stage count; each way of
// breaking it (a wait on the wrong parity, a missing wait, a wrong arrival
// count, a release before the reads) is caught and explained.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/WarpSchedule.h"

#include <gtest/gtest.h>

using namespace tessel::nvidia;

namespace {

ScheduleStep &stepOf(RoleSchedule &role, ScheduleStep::Kind kind) {
  for (ScheduleStep &st : role.steps)
    if (st.kind == kind)
      return st;
  ADD_FAILURE() << "no such step";
  return role.steps.front();
}

TEST(WarpSchedule, StandardProtocolHolds) {
  for (int64_t stages = 1; stages <= 6; ++stages)
    for (int64_t threads : {128, 256, 384})
      EXPECT_EQ(verifySchedule(WarpSchedule::standard(stages, threads)), "")
          << stages << " stages, " << threads << " consumer threads";
}

TEST(WarpSchedule, KeepingOneIterationInFlightHolds) {
  // The consumers retire and release the previous iteration's stage after
  // issuing this one's reads, and the last one after the loop.
  for (int64_t stages = 2; stages <= 6; ++stages)
    for (int64_t threads : {128, 256})
      EXPECT_EQ(verifySchedule(WarpSchedule::standard(stages, threads, true)), "")
          << stages << " stages, " << threads << " consumer threads";
}

TEST(WarpSchedule, KeepingOneInFlightWithOneStageDeadlocks) {
  // The only stage is released after the next iteration's reads, which
  // need the next load into that stage.
  std::string error = verifySchedule(WarpSchedule::standard(1, 128, true));
  EXPECT_NE(error.find("deadlock"), std::string::npos) << error;
}

TEST(WarpSchedule, ReleasingBeforeRetiringRaces) {
  // The lagged release moved before the retire: the producer may load into
  // a stage whose reads are still running.
  WarpSchedule s = WarpSchedule::standard(2, 128, true);
  std::swap(s.consumer.steps[2], s.consumer.steps[3]);
  std::string error = verifySchedule(s);
  EXPECT_NE(error.find("before the consumers have read iteration"), std::string::npos)
      << error;
}

TEST(WarpSchedule, ProducerWaitingForTheFirstPhaseDeadlocks) {
  // Without the flip the producer waits for a release that needs its own
  // first load: both roles wait forever.
  WarpSchedule s = WarpSchedule::standard(3, 128);
  stepOf(s.producer, ScheduleStep::Wait).flip = 0;
  std::string error = verifySchedule(s);
  EXPECT_NE(error.find("deadlock"), std::string::npos) << error;
  EXPECT_NE(error.find("the producer, in iteration 0"), std::string::npos) << error;
  EXPECT_NE(error.find("empty barrier of stage 0"), std::string::npos) << error;
}

TEST(WarpSchedule, ConsumersWaitingOnTheWrongParityRace) {
  WarpSchedule s = WarpSchedule::standard(2, 128);
  stepOf(s.consumer, ScheduleStep::Wait).flip = 1;
  // Either the consumers wait for a phase that already passed, or (run
  // ahead of the producer) read before the load: both are reported.
  std::string error = verifySchedule(s);
  EXPECT_NE(error.find("the consumers, in iteration 0"), std::string::npos) << error;
  EXPECT_TRUE(error.find("deadlock") != std::string::npos ||
              error.find("before the load") != std::string::npos) << error;
}

TEST(WarpSchedule, MissingEmptyWaitOverwritesAStage) {
  WarpSchedule s = WarpSchedule::standard(2, 128);
  s.producer.steps.erase(s.producer.steps.begin());
  std::string error = verifySchedule(s);
  EXPECT_NE(error.find("loads into stage 0 before the consumers have read "
                       "iteration 0"),
            std::string::npos) << error;
}

TEST(WarpSchedule, TooFewArrivalsDeadlock) {
  // The empty barriers expect every consumer thread; one warp arrives.
  WarpSchedule s = WarpSchedule::standard(2, 128);
  stepOf(s.consumer, ScheduleStep::Arrive).arrivals = 32;
  std::string error = verifySchedule(s);
  EXPECT_NE(error.find("deadlock"), std::string::npos) << error;
  EXPECT_NE(error.find("the producer, in iteration 2"), std::string::npos) << error;
}

TEST(WarpSchedule, TooManyArrivalsCompleteAPhaseEarly) {
  WarpSchedule s = WarpSchedule::standard(2, 256);
  s.emptyCount = 128;
  std::string error = verifySchedule(s);
  EXPECT_NE(error.find("more often than its 128 expected arrivals"),
            std::string::npos) << error;
}

TEST(WarpSchedule, ReleaseBeforeReadingRaces) {
  WarpSchedule s = WarpSchedule::standard(2, 128);
  std::swap(s.consumer.steps[1], s.consumer.steps[2]); // arrive, then read
  std::string error = verifySchedule(s);
  EXPECT_NE(error.find("loads into stage 0 before the consumers have read "
                       "iteration 0"),
            std::string::npos) << error;
}

TEST(WarpSchedule, LoadBeforeAnnouncingBytesIsRejected) {
  WarpSchedule s = WarpSchedule::standard(2, 128);
  std::swap(s.producer.steps[1], s.producer.steps[2]); // load, then expect_tx
  std::string error = verifySchedule(s);
  EXPECT_NE(error.find("expects no bytes"), std::string::npos) << error;
}

TEST(WarpSchedule, MalformedSchedules) {
  WarpSchedule s = WarpSchedule::standard(0, 128);
  EXPECT_EQ(verifySchedule(s), "a schedule needs at least one stage");
  s = WarpSchedule::standard(2, 128);
  s.fullCount = 0;
  EXPECT_EQ(verifySchedule(s), "an mbarrier expects at least one arrival per phase");
  s = WarpSchedule::standard(2, 128);
  s.consumer.steps.erase(s.consumer.steps.begin() + 1);
  EXPECT_EQ(verifySchedule(s), "nothing the consumers do reads a stage");
  s = WarpSchedule::standard(2, 128);
  stepOf(s.consumer, ScheduleStep::Arrive).arrivals = 129;
  EXPECT_NE(verifySchedule(s).find("arrives 129 times but has 128 threads"),
            std::string::npos);
}

} // namespace
