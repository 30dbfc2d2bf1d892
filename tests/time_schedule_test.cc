// TimeSchedule: where the steps go, where the run lands, when output is due, and the
// exact times it reports.
#include <densityflow/base/time_schedule.h>

#include <gtest/gtest.h>

#include <vector>

using namespace densityflow;

namespace
{
/** Runs @p schedule to its end with steps of @p wanted; the times it stepped to. */
std::vector<double>
run(TimeSchedule &schedule, const double wanted, std::vector<double> *steps = nullptr)
{
  std::vector<double> times;
  while (!schedule.at_end() && times.size() < 1000)
    {
      const double dt = schedule.step(wanted);
      if (steps)
        steps->push_back(dt);
      schedule.advance(dt);
      times.push_back(schedule.time());
    }
  return times;
}
} // namespace

// N equal steps: the times are n T / N exactly, not sums of steps.
TEST(TimeSchedule, FixedStepsAreOnTheGridExactly)
{
  TimeSchedule        schedule(5, 0.01, 500, 0.1, 0);
  std::vector<double> steps;
  const auto          times = run(schedule, 5.0 / 500, &steps);
  ASSERT_EQ(times.size(), 500u);
  double sum = 0;
  for (unsigned int n = 0; n < 500; ++n)
    {
      EXPECT_EQ(times[n], (n + 1) / 100.0) << n;
      EXPECT_EQ(steps[n], 0.01); // always the wanted step itself
      sum += steps[n];
    }
  EXPECT_NE(sum, 5.0); // the sum of the steps is not the time (4.999999999999938)
  EXPECT_EQ(schedule.time(), 5.0);
  EXPECT_EQ(schedule.step_number(), 500u);
}

// A stop between grid points: the step is shortened to land on it exactly, and the
// next one goes back to the grid, so that the run still ends at T after N + 1 steps.
TEST(TimeSchedule, StopsAreLandedOnAndTheGridRegained)
{
  TimeSchedule schedule(1, 0.1, 10, 0, 0);
  schedule.add_stops({0.25, 0.7});
  std::vector<double> steps;
  const auto          times = run(schedule, 0.1, &steps);
  ASSERT_EQ(times.size(), 11u);
  EXPECT_EQ(times[2], 0.25);
  EXPECT_NEAR(steps[2], 0.05, 1e-15);
  EXPECT_EQ(times[3], 0.3);
  EXPECT_NEAR(steps[3], 0.05, 1e-15);
  // 0.7 is a grid point up to round-off: the step is kept as it is (BDF2 needs equal
  // steps), and the time is the stop's value.
  EXPECT_EQ(steps[7], 0.1);
  EXPECT_EQ(times[7], 0.7);
  EXPECT_EQ(times.back(), 1.0);
  EXPECT_TRUE(schedule.reached(0.25));
}

// Steps that vary land on every output time; the times are k Interval exactly.
TEST(TimeSchedule, VariableStepsLandOnOutputTimes)
{
  TimeSchedule        schedule(1, 0.03, 0, 0.1, 0);
  std::vector<double> outputs;
  schedule.output_written(); // t = 0
  while (!schedule.at_end())
    {
      schedule.advance(schedule.step(0.03));
      if (schedule.output_due())
        {
          outputs.push_back(schedule.time());
          schedule.output_written();
        }
    }
  ASSERT_EQ(outputs.size(), 10u);
  for (unsigned int k = 0; k + 1 < outputs.size(); ++k)
    EXPECT_EQ(outputs[k], (k + 1) * 0.1) << k;
  EXPECT_EQ(outputs.back(), 1.0);
}

// Fixed steps write at the first grid point at or after each output time; particles at
// the first output at or after each multiple of their interval, and at the end.
TEST(TimeSchedule, OutputsAndParticleOutputsAreDueWhereExpected)
{
  TimeSchedule schedule(1, 1.0 / 30, 30, 0.25, 0.5);
  ASSERT_TRUE(schedule.output_due());
  ASSERT_TRUE(schedule.particle_output_due());
  schedule.output_written();
  std::vector<unsigned int> outputs, particles;
  while (!schedule.at_end())
    {
      schedule.advance(schedule.step(1.0 / 30));
      if (schedule.output_due())
        {
          outputs.push_back(schedule.step_number());
          if (schedule.particle_output_due())
            particles.push_back(schedule.step_number());
          schedule.output_written();
        }
    }
  // 0.25 -> step 8 (0.2667), 0.5 -> 15, 0.75 -> 23 (0.7667), 1 -> 30.
  EXPECT_EQ(outputs, (std::vector<unsigned int>{8, 15, 23, 30}));
  EXPECT_EQ(particles, (std::vector<unsigned int>{15, 30}));
}

// Particles that step once every m PDE steps can be written only after one of their
// steps: the first particle output that falls between two of them is found, with its
// step and time, and none where every particle output is on a particle step.
TEST(TimeSchedule, ParticleOutputBetweenParticleStepsIsFound)
{
  // T = 1 in 100 steps, output every 0.1 (10 steps): strides 2, 5, 10 fit, 3 and 4 do not.
  const TimeSchedule schedule(1, 0.01, 100, 0.1, 0);
  for (const unsigned int stride : {1u, 2u, 5u, 10u})
    EXPECT_EQ(schedule.first_particle_output_off_stride(0.01, stride).first, 0u) << stride;
  const auto three = schedule.first_particle_output_off_stride(0.01, 3);
  EXPECT_EQ(three.first, 10u);
  EXPECT_EQ(three.second, 0.1);
  EXPECT_EQ(schedule.first_particle_output_off_stride(0.01, 4).first, 10u);

  // Particles written every 0.2 only (every 20 steps): strides 4 and 20 fit, 40 fails
  // at t = 0.2.
  const TimeSchedule sparse(1, 0.01, 100, 0.1, 0.2);
  EXPECT_EQ(sparse.first_particle_output_off_stride(0.01, 4).first, 0u);
  EXPECT_EQ(sparse.first_particle_output_off_stride(0.01, 20).first, 0u);
  const auto forty = sparse.first_particle_output_off_stride(0.01, 40);
  EXPECT_EQ(forty.first, 20u);
  EXPECT_EQ(forty.second, 0.2);
  // The end time is always a particle output: 100 steps with stride 30 end off it.
  const TimeSchedule at_end(1, 0.01, 100, 0, 0);
  EXPECT_EQ(at_end.first_particle_output_off_stride(0.01, 30).first, 100u);
  EXPECT_EQ(at_end.first_particle_output_off_stride(0.01, 25).first, 0u);
}
