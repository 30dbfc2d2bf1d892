#include <densityflow/base/exceptions.h>
#include <densityflow/base/time_parameters.h>

#include <cmath>

namespace densityflow
{
std::string to_string(const TimeScheme scheme)
{
  switch (scheme)
    {
      case TimeScheme::automatic:
        return "auto";
      case TimeScheme::ssp_rk3:
        return "ssp-rk3";
      case TimeScheme::backward_euler:
        return "backward-euler";
      case TimeScheme::crank_nicolson:
        return "crank-nicolson";
      case TimeScheme::bdf2:
        return "bdf2";
      case TimeScheme::imex_ssp3:
        return "imex-ssp3";
    }
  return "unknown";
}

void TimeParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Time");
  prm.declare_entry("End time", "1", Patterns::Double(), "Final time T > 0.");
  prm.declare_entry("Time step",
                    "0.01",
                    Patterns::Double(),
                    "Time step dt > 0. Implicit schemes take ceil(T/dt) equal steps that end at T; "
                    "ssp-rk3 and imex-ssp3 take CFL-limited steps of at most dt.");
  prm.declare_entry(
      "Scheme",
      "auto",
      Patterns::Selection("auto|backward-euler|crank-nicolson|bdf2|ssp-rk3|imex-ssp3"),
      "backward-euler: first order, keeps positivity and free-energy decay "
      "(Fokker-Planck, Q1, lumped mass); crank-nicolson: second order, not "
      "L-stable; bdf2: second order, L-stable, started by one backward-Euler "
      "step; ssp-rk3: explicit, third order, CFL-controlled, with the positivity "
      "limiter (transport with Diffusion = 0 only); imex-ssp3: IMEX-SSP3(4,3,3) "
      "(Pareschi-Russo), advection explicit by the ssp-rk3 tableau with its CFL "
      "and limiter, diffusion implicit (L-stable SDIRK), third order (transport, "
      "interaction). auto: ssp-rk3 for transport without diffusion, else bdf2; "
      "for interaction ssp-rk3 (Diffusion = 0) or imex-ssp3.");
  prm.declare_entry(
      "BDF2 start",
      "backward-euler",
      Patterns::Selection("backward-euler|crank-nicolson"),
      "The first step of bdf2 (the Fokker-Planck model). backward-euler: damps what the "
      "mesh does not resolve at once, first order for that one step. crank-nicolson: "
      "second order, so the early density (its tails, where probability-flow particles "
      "far out follow grad log rho_h) is far more accurate from a narrow start (ou-2d on "
      "its uniform mesh: the particles' 99th-percentile error 5.8e-3 instead of 1.6e-2; "
      "ou-2d uses it, with a finer start), but it does not "
      "damp unresolved modes, and the bulk L2 error later can be larger (ou-2d at t = 1: "
      "8.8e-5 instead of 4.2e-5, where backward Euler's error happens to cancel part of "
      "BDF2's). A later step shortened to reach a snapshot time (compare) stays backward Euler. "
      "The other schemes have no start step and ignore it.");
  prm.declare_entry(
      "CFL number",
      "auto",
      Patterns::Anything(),
      "ssp-rk3, imex-ssp3: dt = CFL / max_K(|b|_1 / h_K), at most Time step. auto: 0.9 of "
      "the largest CFL number for which SSP-RK3 is stable and the positivity "
      "limiter is proven (degree 0: 1, 1: 0.4, 2: 1/6, 3: 0.13).");
  prm.leave_subsection();
}

void TimeParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Time");
  end_time               = prm.get_double("End time");
  time_step              = prm.get_double("Time step");
  const std::string name = prm.get("Scheme");
  bdf2_start             = prm.get("BDF2 start") == "crank-nicolson" ? Bdf2Start::crank_nicolson
                                                                     : Bdf2Start::backward_euler;
  const std::string cfl  = Utilities::trim(prm.get("CFL number"));
  prm.leave_subsection();

  scheme = name == "backward-euler"   ? TimeScheme::backward_euler
           : name == "crank-nicolson" ? TimeScheme::crank_nicolson
           : name == "bdf2"           ? TimeScheme::bdf2
           : name == "ssp-rk3"        ? TimeScheme::ssp_rk3
           : name == "imex-ssp3"      ? TimeScheme::imex_ssp3
                                      : TimeScheme::automatic;
  if (cfl == "auto")
    cfl_number = 0;
  else
    {
      std::size_t used = 0;
      try
        {
          cfl_number = std::stod(cfl, &used);
        }
      catch (const std::exception &)
        {
          used = 0;
        }
      if (used != cfl.size() || cfl.empty())
        throw InputError("Time/CFL number = '" + cfl + "' is neither auto nor a number.");
      if (!(cfl_number > 0))
        throw InputError("Time/CFL number = " + cfl + " must be positive.");
    }
  if (!(end_time > 0) || !std::isfinite(end_time))
    throw InputError("Time/End time must be positive, but it is " + std::to_string(end_time) + ".");
  if (!(time_step > 0) || !std::isfinite(time_step))
    throw InputError("Time/Time step must be positive, but it is " + std::to_string(time_step) +
                     ".");
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
