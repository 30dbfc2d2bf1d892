// The transport benchmark: explicit DG (SSP-RK3 + limiter) on the reversing vortex
// (problems/vortex-2d.prm) at three meshes for each degree 1..3. Per run: DoFs, steps,
// setup and solve seconds, time per step and DoF-steps per second. The runs stop at
// t = 0.25 of the period T = 2: throughput does not depend on how far they go.
//
//   transport_benchmark [path/to/problems]
#include <densityflow/simulation/problem_parameters.h>
#include <densityflow/simulation/simulation.h>

#include <deal.II/base/mpi.h>

#include <cstdio>
#include <sstream>
#include <string>

using namespace densityflow;

int main(int argc, char **argv)
{
  Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  const bool                       root     = Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
  const std::string                problems = argc > 1 ? argv[1] : DENSITYFLOW_PROBLEMS;
  if (root)
    std::printf("vortex-2d, explicit DG, %u rank(s)\n%6s %4s %8s %6s %9s %9s %10s %12s\n",
                Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD),
                "degree",
                "ref",
                "DoFs",
                "steps",
                "setup_s",
                "solve_s",
                "s/step",
                "DoF-steps/s");
  const unsigned int first_refinement[4] = {0, 6, 5, 5};
  for (unsigned int degree = 1; degree <= 3; ++degree)
    for (unsigned int r = first_refinement[degree]; r < first_refinement[degree] + 3; ++r)
      {
        const ProblemParameters parameters =
            ProblemParameters::from_file(problems + "/vortex-2d.prm",
                                         {"Discretization/Degree=" + std::to_string(degree),
                                          "Mesh/Refinement=" + std::to_string(r),
                                          "Time/End time=0.25",
                                          "Output/Interval=0",
                                          "Output/Write files=false",
                                          // The DG solver alone: vortex-2d also moves
                                          // flow-map particles, which would be timed too.
                                          "Particles/Number=0"});
        std::ostringstream log;
        Simulation<2>      simulation(parameters, MPI_COMM_WORLD, log);
        simulation.run();
        const RunTiming &t    = simulation.timing();
        const double     dofs = simulation.solver().n_dofs();
        if (root)
          std::printf("%6u %4u %8.0f %6u %9.3f %9.3f %10.3e %12.3e\n",
                      degree,
                      r,
                      dofs,
                      t.n_steps,
                      t.setup_seconds,
                      t.solve_seconds,
                      t.solve_seconds / t.n_steps,
                      dofs * t.n_steps / t.solve_seconds);
      }
  return 0;
}
