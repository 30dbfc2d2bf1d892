#include <cmath>
#include <densityflow/exceptions.h>
#include <densityflow/time_parameters.h>

namespace densityflow
{
std::string to_string(const TimeScheme scheme)
{
  switch (scheme)
  {
  case TimeScheme::backward_euler:
    return "backward-euler";
  case TimeScheme::crank_nicolson:
    return "crank-nicolson";
  case TimeScheme::bdf2:
    return "bdf2";
  }
  return "unknown";
}

void TimeParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Time");
  prm.declare_entry("End time", "1", Patterns::Double(), "Final time T > 0.");
  prm.declare_entry(
      "Time step",
      "0.01",
      Patterns::Double(),
      "Time step dt > 0; the run takes ceil(T/dt) equal steps that end at T.");
  prm.declare_entry(
      "Scheme",
      "bdf2",
      Patterns::Selection("backward-euler|crank-nicolson|bdf2"),
      "backward-euler: first order, keeps positivity and free-energy decay "
      "(Q1, lumped mass); crank-nicolson: second order, not L-stable; bdf2: "
      "second order, L-stable, started by one backward-Euler step.");
  prm.leave_subsection();
}

void TimeParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Time");
  end_time               = prm.get_double("End time");
  time_step              = prm.get_double("Time step");
  const std::string name = prm.get("Scheme");
  prm.leave_subsection();

  scheme = name == "backward-euler"   ? TimeScheme::backward_euler
           : name == "crank-nicolson" ? TimeScheme::crank_nicolson
                                      : TimeScheme::bdf2;
  if (!(end_time > 0) || !std::isfinite(end_time))
    throw InputError("Time/End time must be positive, but it is " +
                     std::to_string(end_time) + ".");
  if (!(time_step > 0) || !std::isfinite(time_step))
    throw InputError("Time/Time step must be positive, but it is " +
                     std::to_string(time_step) + ".");
  if (end_time / time_step > 1e8)
    throw InputError("Time/Time step = " + std::to_string(time_step) +
                     " would take more than 1e8 "
                     "steps to Time/End time = " +
                     std::to_string(end_time) + ".");
}

unsigned int TimeParameters::n_steps() const
{
  // A tolerance so that T = 1, dt = 0.1 gives 10 steps despite rounding.
  return std::max(1u, static_cast<unsigned int>(std::ceil(end_time / time_step - 1e-9)));
}

double TimeParameters::step_size() const
{
  return end_time / n_steps();
}
} // namespace densityflow
