#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dealii
{
class ParameterHandler;
}

namespace densityflow
{
/** How the particles of one system move: the Lagrangian side of an equation. */
enum class ParticleDynamics
{
  /** dX/dt = b(X, t) by RK4, carrying log rho along the characteristic. */
  flow_map,
  /** dX = b dt + sqrt(2 eps) dW by Euler-Maruyama. */
  langevin,
  /** Langevin proposals with a Metropolis correction towards pi (b = -grad V). */
  mala,
  /** dX/dt = -grad V - eps grad log rho_h(X, t) from the finite-element solution (Heun). */
  probability_flow,
  /** dX_i/dt = -grad V - grad W * (mu_N - nu) of the interaction model (SSP-RK3). */
  interacting
};

/** "flow-map", "langevin", "mala", "probability-flow", "interacting". */
std::string to_string(const ParticleDynamics dynamics);

/**
 * The dynamics of @p name as written in Particles/Dynamics (the names of to_string());
 * InputError for any other name.
 */
ParticleDynamics parse_particle_dynamics(const std::string &name);

/** The `Particles` subsection. */
struct ParticleParameters
{
  /** Particles per system; 0 switches particles off. */
  std::uint64_t number = 0;
  /** One particle system per entry, all started from the same sample of rho0. */
  std::vector<ParticleDynamics> dynamics;
  /** The largest particle step; 0: the PDE's step. */
  double        time_step = 0;
  std::uint64_t seed      = 1;
  bool          write_csv = false;
  /** Simulated time between particle outputs and distances; 0: at every density output. */
  double output_interval = 0;

  static void declare_parameters(dealii::ParameterHandler &prm);
  void        parse_parameters(dealii::ParameterHandler &prm);
};
} // namespace densityflow
