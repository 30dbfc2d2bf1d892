#pragma once

#include <deal.II/base/parameter_handler.h>

#include <string>

namespace densityflow
{
using namespace dealii;

/** The time-stepping schemes. */
enum class TimeScheme
{
  /** The model's natural choice: bdf2, or ssp-rk3 for transport without diffusion. */
  automatic,
  backward_euler,
  crank_nicolson,
  bdf2,
  /** Explicit strong-stability-preserving Runge-Kutta of order 3 (transport, eps = 0). */
  ssp_rk3,
  /**
   * IMEX-SSP3(4,3,3) of Pareschi and Russo: advection by the SSP-RK3 tableau, diffusion by
   * an L-stable SDIRK (transport, interaction; any eps).
   */
  imex_ssp3
};

/** The first step of BDF2 (which needs two earlier states). */
enum class Bdf2Start
{
  /** Backward Euler: L-stable, first order for that step. */
  backward_euler,
  /** Crank-Nicolson: second order, not L-stable (the Fokker-Planck model only). */
  crank_nicolson
};

/** "auto", "backward-euler", "crank-nicolson", "bdf2", "ssp-rk3", "imex-ssp3". */
std::string to_string(const TimeScheme scheme);

/**
 * The `Time` subsection. Implicit schemes take n = ceil(T / dt) equal steps of T / n,
 * so that the run ends exactly at the end time; ssp-rk3 takes steps of the CFL number
 * (at most dt), shortened to land on the output times.
 */
struct TimeParameters
{
  double     end_time  = 1.0;
  double     time_step = 0.01;
  TimeScheme scheme    = TimeScheme::automatic;
  /** How BDF2 takes its first step (Time/BDF2 start). */
  Bdf2Start bdf2_start = Bdf2Start::backward_euler;
  /** The CFL number of explicit steps; 0 means the solver's default. */
  double cfl_number = 0;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);

  /** The number of steps to the end time. */
  unsigned int n_steps() const;

  /** The step actually taken: End time / n_steps(). */
  double step_size() const;
};
} // namespace densityflow
