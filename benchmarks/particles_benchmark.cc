// The particle benchmark: overdamped Langevin (Euler-Maruyama) with an analytic drift,
// V = |x|^2 / 2 with its gradient given, eps = 0.5, on the box [-4, 4]^2, for
// N = 1e4, 1e5, 1e6 particles; with the particles left in their per-rank arrays, and
// with them located in cells (and moved between ranks) at every step.
//
//   particles_benchmark              (1 rank)
//   mpirun -np 2 particles_benchmark (2 ranks)
#include <densityflow/mesh/mesh.h>
#include <densityflow/particles/particle_ensemble.h>
#include <densityflow/physics/physics.h>

#include <deal.II/base/mpi.h>

#include <cstdio>

using namespace densityflow;

int main(int argc, char **argv)
{
  Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  const MPI_Comm                   comm  = MPI_COMM_WORLD;
  const unsigned int               ranks = Utilities::MPI::n_mpi_processes(comm);
  const bool                       root  = Utilities::MPI::this_mpi_process(comm) == 0;

  MeshParameters mesh_parameters;
  mesh_parameters.lower_corner = {-4, -4};
  mesh_parameters.upper_corner = {4, 4};
  mesh_parameters.refinement   = 6;
  const Mesh<2>     mesh(mesh_parameters, 1, comm);
  PhysicsParameters physics_parameters;
  physics_parameters.potential          = "(x^2 + y^2) / 2";
  physics_parameters.potential_gradient = "x; y";
  physics_parameters.diffusion          = 0.5;
  const Physics<2>    physics(physics_parameters, {});
  const Expression<2> rho0(
      "exp(-((x - 1)^2 + (y - 0.5)^2) / 0.2)", {}, "Initial density/Expression");

  if (root)
    std::printf("Langevin, analytic drift, 2D box, %u rank(s)\n%9s %-22s %6s %10s %16s %16s\n",
                ranks,
                "N",
                "cell location",
                "steps",
                "seconds",
                "particle-steps/s",
                "per core");
  for (const std::uint64_t n : {10000ULL, 100000ULL, 1000000ULL})
    {
      ParticleParameters parameters;
      parameters.number   = n;
      parameters.dynamics = {ParticleDynamics::langevin};
      ParticleEnsemble<2> ensemble(ParticleDynamics::langevin, 0, parameters, mesh, physics);
      ensemble.sample(rho0);
      for (const bool locate : {false, true})
        {
          const unsigned int steps = locate ? 5 : 20;
          MPI_Barrier(comm);
          const double start = MPI_Wtime();
          for (unsigned int s = 0; s < steps; ++s)
            {
              ensemble.advance(0.01, nullptr);
              if (locate)
                ensemble.locate();
            }
          MPI_Barrier(comm);
          const double seconds = MPI_Wtime() - start;
          const double rate    = double(n) * steps / seconds;
          if (root)
            std::printf("%9llu %-22s %6u %10.4f %16.3e %16.3e\n",
                        static_cast<unsigned long long>(n),
                        locate ? "every step" : "none (arrays only)",
                        steps,
                        seconds,
                        rate,
                        rate / ranks);
        }
    }
  return 0;
}
