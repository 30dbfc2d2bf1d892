#include <densityflow/base/exceptions.h>
#include <densityflow/particles/particle_parameters.h>

#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/utilities.h>

namespace densityflow
{
using namespace dealii;

std::string to_string(const ParticleDynamics dynamics)
{
  switch (dynamics)
    {
      case ParticleDynamics::flow_map:
        return "flow-map";
      case ParticleDynamics::langevin:
        return "langevin";
      case ParticleDynamics::mala:
        return "mala";
      case ParticleDynamics::probability_flow:
        return "probability-flow";
      case ParticleDynamics::interacting:
        return "interacting";
    }
  return "unknown";
}

ParticleDynamics parse_particle_dynamics(const std::string &name)
{
  for (const ParticleDynamics dynamics : {ParticleDynamics::flow_map,
                                          ParticleDynamics::langevin,
                                          ParticleDynamics::mala,
                                          ParticleDynamics::probability_flow,
                                          ParticleDynamics::interacting})
    if (name == to_string(dynamics))
      return dynamics;
  throw InputError("Particles/Dynamics: '" + name +
                   "' is unknown (flow-map, langevin, mala, probability-flow or interacting).");
}

void ParticleParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Particles");
  prm.declare_entry("Number",
                    "0",
                    Patterns::Integer(0),
                    "Particles per system, sampled i.i.d. from the initial density (the same "
                    "sample for every system and any number of MPI ranks). 0: no particles.");
  prm.declare_entry(
      "Dynamics",
      "langevin",
      Patterns::Anything(),
      "Comma-separated list, one particle system each: flow-map (dX/dt = b, "
      "RK4, carrying log rho; with Model = path: dX/dt = grad phi_h, Heun, "
      "carrying log rho by -Laplace phi_h, Degree >= 2), langevin (dX = b dt + sqrt(2 eps) dW, "
      "Euler-Maruyama), mala (Langevin proposals with a Metropolis correction "
      "towards pi; b = -grad V only), probability-flow (dX/dt = -grad V - eps grad "
      "log rho_h from the Fokker-Planck solution, Heun), interacting (Model = interaction: "
      "dX_i/dt = -grad V - grad W * (mu_N - nu) with mu_N the particles' empirical measure, "
      "SSP-RK3; with Diffusion eps > 0 then the step's noise sqrt(2 eps dt) N(0, I)).");
  prm.declare_entry("Time step",
                    "0",
                    Patterns::Double(0),
                    "The largest particle step: each PDE step is split into as many equal "
                    "particle steps as this needs. 0: the PDE's step. (probability-flow always "
                    "steps with the PDE, and so do flow-map particles of a path.)");
  prm.declare_entry("Seed", "1", Patterns::Integer(0), "Seed of the particles' random numbers.");
  prm.declare_entry("Write CSV",
                    "false",
                    Patterns::Bool(),
                    "Also write particles_NNNNN.csv (system, id, coordinates, velocity, "
                    "log_density) whenever the particles are written (Output interval).");
  prm.declare_entry("Output interval",
                    "0",
                    Patterns::Double(0),
                    "Simulated time between writing the particles (particles.pvd, CSV) and "
                    "comparing them with the density (particles-vs-pde.csv): at the first "
                    "density output (Output/Interval) at or after each multiple of it, and at "
                    "the start and the end. 0: at every density output.");
  prm.leave_subsection();
}

void ParticleParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Particles");
  number          = prm.get_integer("Number");
  time_step       = prm.get_double("Time step");
  seed            = prm.get_integer("Seed");
  write_csv       = prm.get_bool("Write CSV");
  output_interval = prm.get_double("Output interval");
  dynamics.clear();
  for (const std::string &name : Utilities::split_string_list(prm.get("Dynamics")))
    dynamics.push_back(parse_particle_dynamics(name));
  prm.leave_subsection();
  if (number > 0 && dynamics.empty())
    throw InputError(
        "Particles/Dynamics is empty, but Particles/Number = " + std::to_string(number) + ".");
}
} // namespace densityflow
