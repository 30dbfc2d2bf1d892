#pragma once

#include <deal.II/base/parameter_handler.h>
#include <string>

namespace densityflow
{
using namespace dealii;

/** The time-stepping schemes of the implicit solvers. */
enum class TimeScheme
{
  backward_euler,
  crank_nicolson,
  bdf2
};

/** "backward-euler", "crank-nicolson", "bdf2". */
std::string to_string(const TimeScheme scheme);

/**
 * The `Time` subsection. The run takes n = ceil(T / dt) equal steps of T / n, so that
 * it ends exactly at the end time.
 */
struct TimeParameters
{
  double     end_time  = 1.0;
  double     time_step = 0.01;
  TimeScheme scheme    = TimeScheme::bdf2;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);

  /** The number of steps to the end time. */
  unsigned int n_steps() const;

  /** The step actually taken: End time / n_steps(). */
  double step_size() const;
};
} // namespace densityflow
