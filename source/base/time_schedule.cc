#include <densityflow/base/time_schedule.h>

#include <algorithm>
#include <cmath>

namespace densityflow
{
TimeSchedule::TimeSchedule(const double       end_time,
                           const double       nominal_step,
                           const unsigned int n_fixed_steps,
                           const double       output_interval,
                           const double       particle_interval)
    : final_time(end_time)
    , n_fixed(n_fixed_steps)
    , output_interval(output_interval)
    , particle_interval(particle_interval)
    , tolerance(1e-9 * (n_fixed_steps > 0 ? end_time / n_fixed_steps : nominal_step))
{}

void TimeSchedule::add_stops(const std::vector<double> &times)
{
  stops.insert(stops.end(), times.begin(), times.end());
  std::sort(stops.begin(), stops.end());
}

double TimeSchedule::time() const
{
  return current;
}

unsigned int TimeSchedule::step_number() const
{
  return steps_taken;
}

double TimeSchedule::end_time() const
{
  return final_time;
}

bool TimeSchedule::at_end() const
{
  return current >= final_time - tolerance;
}

bool TimeSchedule::reached(const double t) const
{
  return current >= t - tolerance;
}

double TimeSchedule::grid_point(const unsigned long n) const
{
  // n T / N rather than n (T / N): one rounding, so that 30 steps of 1/100 are 0.3.
  return n * final_time / n_fixed;
}

double TimeSchedule::next_output_time() const
{
  if (output_interval > 0)
    return std::min(outputs * output_interval, final_time);
  return outputs == 0 ? 0 : final_time;
}

double TimeSchedule::next_particle_time() const
{
  return particle_interval > 0 ? particles * particle_interval : 0;
}

double TimeSchedule::step(const double wanted) const
{
  double     dt   = wanted;
  const auto land = [&](const double target) {
    const double gap = target - current;
    if (gap > tolerance && gap < dt * (1 - 1e-9))
      dt = gap;
  };
  land(final_time);
  const auto stop = std::upper_bound(stops.begin(), stops.end(), current + tolerance);
  if (stop != stops.end())
    land(*stop);
  if (n_fixed > 0)
    {
      // Back to the grid after a step shortened to land on a stop.
      const double h = final_time / n_fixed;
      land(grid_point(static_cast<unsigned long>(std::floor((current + tolerance) / h)) + 1));
    }
  else
    land(next_output_time());
  return dt;
}

void TimeSchedule::advance(const double dt)
{
  const double t = current + dt;
  ++steps_taken;
  // The exact value of the first of these that the step landed on.
  std::vector<double> candidates = {final_time};
  const auto          stop       = std::lower_bound(stops.begin(), stops.end(), t - tolerance);
  if (stop != stops.end())
    candidates.push_back(*stop);
  if (n_fixed > 0)
    candidates.push_back(grid_point(std::lround(t * n_fixed / final_time)));
  else if (output_interval > 0)
    candidates.push_back(std::round(t / output_interval) * output_interval);
  current = t;
  for (const double c : candidates)
    if (std::abs(c - t) <= tolerance)
      {
        current = c;
        break;
      }
}

bool TimeSchedule::output_due() const
{
  return reached(next_output_time()) || at_end();
}

bool TimeSchedule::particle_output_due() const
{
  return reached(next_particle_time()) || at_end();
}

std::pair<unsigned int, double>
TimeSchedule::first_particle_output_off_stride(const double step, const unsigned int stride) const
{
  TimeSchedule dry_run = *this;
  dry_run.output_written();
  while (!dry_run.at_end())
    {
      dry_run.advance(dry_run.step(step));
      if (dry_run.output_due())
        {
          if (dry_run.particle_output_due() && dry_run.step_number() % stride != 0)
            return {dry_run.step_number(), dry_run.time()};
          dry_run.output_written();
        }
    }
  return {0, dry_run.time()};
}

void TimeSchedule::output_written()
{
  if (particle_output_due() && particle_interval > 0)
    while (particles * particle_interval <= current + tolerance)
      ++particles;
  if (output_interval > 0)
    while (outputs * output_interval <= current + tolerance)
      ++outputs;
  else
    outputs = current >= final_time - tolerance ? 2 : 1;
}
std::vector<double> TimeSchedule::position() const
{
  return {current, double(steps_taken), double(outputs), double(particles)};
}

void TimeSchedule::restore_position(const std::vector<double> &position)
{
  current     = position.at(0);
  steps_taken = static_cast<unsigned int>(position.at(1));
  outputs     = static_cast<unsigned long>(position.at(2));
  particles   = static_cast<unsigned long>(position.at(3));
}
} // namespace densityflow
