// The particle benchmark, 2D box [-4, 4]^2, V = |x|^2 / 2 with its gradient given,
// eps = 0.5, rho0 = N((1, 0.5), 0.1 I), N = 1e4, 1e5, 1e6 particles:
// - langevin: overdamped Langevin (Euler-Maruyama) with the analytic drift, the particles
//   left in their per-rank arrays, and located in cells (moved between ranks) every step;
// - probability-flow: Heun steps of the probability-flow ODE, whose velocity
//   -(grad V + eps grad log rho_h) comes from a Q2 Fokker-Planck solution on 64 x 64
//   cells, evaluated at every particle twice per step, with the particles located in
//   their cells before each evaluation; the density is held at rho0 (the PDE's own steps
//   are not timed), so that the rows measure the particles' work alone.
//
//   particles_benchmark [langevin | probability-flow]   (both without an argument)
//   mpirun -np 2 particles_benchmark                   (2 ranks)
#include <densityflow/mesh/mesh.h>
#include <densityflow/particles/particle_ensemble.h>
#include <densityflow/physics/physics.h>
#include <densityflow/simulation/problem_parameters.h>
#include <densityflow/simulation/simulation.h>

#include <deal.II/base/mpi.h>

#include <cstdio>
#include <sstream>
#include <string>

using namespace densityflow;

namespace
{
const char *const problem = R"(set Dimension = 2
subsection Mesh
  set Lower corner = -4, -4
  set Upper corner = 4, 4
  set Refinement   = 6
end
subsection Physics
  set Potential          = (x^2 + y^2) / 2
  set Potential gradient = x; y
  set Diffusion          = 0.5
end
subsection Initial density
  set Expression = exp(-((x - 1)^2 + (y - 0.5)^2) / 0.2)
end
subsection Discretization
  set Degree = 2
end
subsection Output
  set Write files = false
end)";

constexpr std::uint64_t sizes[] = {10000, 100000, 1000000};

struct Setup
{
  MPI_Comm      comm;
  unsigned int  ranks;
  bool          root;
  Simulation<2> simulation;
  Physics<2>    physics;
  Expression<2> rho0;
};

/** Seconds for @p steps calls of @p step, between barriers. */
template <typename F>
double time_steps(const MPI_Comm comm, const unsigned int steps, const F &step)
{
  MPI_Barrier(comm);
  const double start = MPI_Wtime();
  for (unsigned int s = 0; s < steps; ++s)
    step();
  MPI_Barrier(comm);
  return MPI_Wtime() - start;
}

ParticleParameters particle_parameters(const std::uint64_t n, const ParticleDynamics dynamics)
{
  ParticleParameters parameters;
  parameters.number   = n;
  parameters.dynamics = {dynamics};
  return parameters;
}

void langevin_rows(Setup &s)
{
  if (s.root)
    std::printf("Langevin, analytic drift, 2D box, %u rank(s)\n%9s %-22s %6s %10s %16s %16s\n",
                s.ranks,
                "N",
                "cell location",
                "steps",
                "seconds",
                "particle-steps/s",
                "per core");
  for (const std::uint64_t n : sizes)
    {
      ParticleEnsemble<2> ensemble(ParticleDynamics::langevin,
                                   0,
                                   particle_parameters(n, ParticleDynamics::langevin),
                                   s.simulation.mesh(),
                                   s.physics);
      ensemble.sample(s.rho0);
      for (const bool locate : {false, true})
        {
          const unsigned int steps   = locate ? 5 : 20;
          const double       seconds = time_steps(s.comm, steps, [&]() {
            ensemble.advance(0.01, nullptr);
            if (locate)
              ensemble.locate();
          });
          const double       rate    = double(n) * steps / seconds;
          if (s.root)
            std::printf("%9llu %-22s %6u %10.4f %16.3e %16.3e\n",
                        static_cast<unsigned long long>(n),
                        locate ? "every step" : "none (arrays only)",
                        steps,
                        seconds,
                        rate,
                        rate / s.ranks);
        }
    }
}

void probability_flow_rows(Setup &s)
{
  if (s.root)
    std::printf("Probability flow (Heun), Q2 Fokker-Planck solution on 64 x 64 cells, %u "
                "rank(s)\n%9s %6s %10s %16s %16s\n",
                s.ranks,
                "N",
                "steps",
                "seconds",
                "particle-steps/s",
                "per core");
  const DensitySolver<2> *solver = &s.simulation.solver();
  for (const std::uint64_t n : sizes)
    {
      ParticleEnsemble<2> ensemble(ParticleDynamics::probability_flow,
                                   0,
                                   particle_parameters(n, ParticleDynamics::probability_flow),
                                   s.simulation.mesh(),
                                   s.physics);
      ensemble.sample(s.rho0);
      const unsigned int steps   = 5;
      const double       seconds = time_steps(s.comm, steps, [&]() {
        ensemble.prepare_step(solver);
        ensemble.advance(0.01, solver);
      });
      const double       rate    = double(n) * steps / seconds;
      if (s.root)
        std::printf("%9llu %6u %10.4f %16.3e %16.3e\n",
                    static_cast<unsigned long long>(n),
                    steps,
                    seconds,
                    rate,
                    rate / s.ranks);
    }
}
} // namespace

int main(int argc, char **argv)
{
  Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  const std::string                which = argc > 1 ? argv[1] : "";
  if (!which.empty() && which != "langevin" && which != "probability-flow")
    {
      std::fprintf(stderr, "usage: particles_benchmark [langevin | probability-flow]\n");
      return 2;
    }
  const MPI_Comm          comm       = MPI_COMM_WORLD;
  const ProblemParameters parameters = ProblemParameters::from_string(problem);
  std::ostringstream      log;
  PhysicsParameters       physics_parameters;
  physics_parameters.potential          = "(x^2 + y^2) / 2";
  physics_parameters.potential_gradient = "x; y";
  physics_parameters.diffusion          = 0.5;
  Setup setup{
      comm,
      Utilities::MPI::n_mpi_processes(comm),
      Utilities::MPI::this_mpi_process(comm) == 0,
      Simulation<2>(parameters, comm, log),
      Physics<2>(physics_parameters, {}),
      Expression<2>("exp(-((x - 1)^2 + (y - 0.5)^2) / 0.2)", {}, "Initial density/Expression")};
  if (which != "probability-flow")
    langevin_rows(setup);
  if (which.empty() && setup.root)
    std::printf("\n");
  if (which != "langevin")
    probability_flow_rows(setup);
  return 0;
}
