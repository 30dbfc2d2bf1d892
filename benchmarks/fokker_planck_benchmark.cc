// The Fokker-Planck benchmark: OU-2D with eps = 0.5, V = |x|^2/2 on [-4, 4]^2,
// rho0 = N((1, 0.5), 0.1 I), T = 1, over degrees 1..3, three meshes and the three
// schemes. Per run: DoFs, steps, setup and solve seconds, time per step, linear
// iterations per step, DoF-steps per second and the relative L2 error at T.
//
//   fokker_planck_benchmark                  the table and the accuracy/throughput
//   targets mpirun -np 2 fokker_planck_benchmark --scaling
//                                            speed-up of 2 ranks over 1 at 263k DoFs (Q1)
#include <densityflow/simulation/problem_parameters.h>
#include <densityflow/simulation/simulation.h>

#include <deal.II/base/mpi.h>

#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

using namespace densityflow;

namespace
{
const std::string ou_2d = R"(
set Dimension = 2
set Constants = s0 = 0.1
subsection Mesh
  set Lower corner = -4, -4
  set Upper corner = 4, 4
end
subsection Physics
  set Potential = (x^2 + y^2) / 2
  set Potential gradient = x; y
  set Diffusion = 0.5
end
subsection Initial density
  set Expression = exp(-((x - 1)^2 + (y - 0.5)^2) / (2 * s0)) / (2 * pi * s0)
end
subsection Exact solution
  set Expression = exp(-((x - exp(-t))^2 + (y - 0.5 * exp(-t))^2) / (2 * (s0 * exp(-2 * t) + eps * (1 - exp(-2 * t))))) / (2 * pi * (s0 * exp(-2 * t) + eps * (1 - exp(-2 * t))))
end
subsection Time
  set End time = 1
end
subsection Output
  set Interval = 0
  set Write files = false
end
)";

struct Run
{
  unsigned int degree, refinement;
  std::string  scheme;
  double       dt;
};

struct Measured
{
  types::global_dof_index dofs;
  RunTiming               timing;
  double                  error;
};

Measured measure(const Run &run, const MPI_Comm communicator)
{
  const ProblemParameters parameters =
      ProblemParameters::from_string(ou_2d,
                                     {"Discretization/Degree=" + std::to_string(run.degree),
                                      "Mesh/Refinement=" + std::to_string(run.refinement),
                                      "Time/Scheme=" + run.scheme,
                                      "Time/Time step=" + std::to_string(run.dt)});
  std::ostringstream log;
  Simulation<2>      simulation(parameters, communicator, log);
  simulation.run();
  const auto &d = simulation.diagnostics();
  return {
      simulation.solver().n_dofs(), simulation.timing(), d.value(d.rows().size() - 1, "l2_error")};
}

void print_header()
{
  std::printf("%6s %4s %-15s %7s %8s %6s %9s %9s %10s %9s %12s %10s\n",
              "degree",
              "ref",
              "scheme",
              "dt",
              "DoFs",
              "steps",
              "setup_s",
              "solve_s",
              "s/step",
              "its/step",
              "DoF-steps/s",
              "L2_error");
}

void print(const Run &run, const Measured &m)
{
  const double steps = m.timing.n_steps;
  std::printf("%6u %4u %-15s %7.4f %8lu %6u %9.3f %9.3f %10.3e %9.2f %12.3e %10.3e\n",
              run.degree,
              run.refinement,
              run.scheme.c_str(),
              run.dt,
              static_cast<unsigned long>(m.dofs),
              m.timing.n_steps,
              m.timing.setup_seconds,
              m.timing.solve_seconds,
              m.timing.solve_seconds / steps,
              m.timing.linear_iterations / steps,
              m.dofs * steps / m.timing.solve_seconds,
              m.error);
  std::fflush(stdout);
}
} // namespace

int main(int argc, char **argv)
{
  Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  const bool                       root    = Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
  const bool                       scaling = argc > 1 && std::string(argv[1]) == "--scaling";

  if (scaling)
    {
      // 1 rank (rank 0 alone, the other rank waiting) against all ranks, same problem.
      const Run run{1, 9, "bdf2", 0.02};
      Measured  one{};
      if (root)
        one = measure(run, MPI_COMM_SELF);
      MPI_Barrier(MPI_COMM_WORLD);
      const Measured all = measure(run, MPI_COMM_WORLD);
      if (root)
        {
          print_header();
          print(run, one);
          print(run, all);
          std::printf("speed-up of %u ranks over 1 at %lu DoFs: %.2f (solve time per step)\n",
                      Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD),
                      static_cast<unsigned long>(all.dofs),
                      one.timing.solve_seconds / all.timing.solve_seconds);
        }
      return 0;
    }

  if (root)
    std::printf("OU-2D benchmark on %u rank(s): eps = 0.5, V = |x|^2/2, [-4,4]^2, rho0 = "
                "N((1,0.5), 0.1 I), T = 1\n",
                Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD));
  if (root)
    print_header();
  const unsigned int first_refinement[4] = {0, 6, 5, 4};
  for (unsigned int degree = 1; degree <= 3; ++degree)
    for (unsigned int r = first_refinement[degree]; r < first_refinement[degree] + 3; ++r)
      for (const std::string scheme : {"backward-euler", "crank-nicolson", "bdf2"})
        {
          const Run      run{degree, r, scheme, 0.01};
          const Measured m = measure(run, MPI_COMM_WORLD);
          if (root)
            print(run, m);
        }

  // The targets: the cheapest run that reaches a relative L2 error of 1e-4 at T = 1
  // (high order in space and time lets the step grow), and Q1 throughput at 66k DoFs.
  if (root)
    std::printf("\naccuracy target (relative L2 error <= 1e-4 at T = 1 in <= 0.5 s of "
                "solve time):\n");
  if (root)
    print_header();
  for (const Run &run : {Run{2, 5, "bdf2", 0.02},
                         Run{2, 5, "crank-nicolson", 0.05},
                         Run{3, 4, "crank-nicolson", 0.05},
                         Run{3, 4, "bdf2", 0.02}})
    {
      const Measured m = measure(run, MPI_COMM_WORLD);
      if (root)
        {
          print(run, m);
          std::printf("    -> %s\n",
                      m.error <= 1e-4 && m.timing.solve_seconds <= 0.5 ? "meets the target"
                                                                       : "misses the target");
        }
    }
  if (root)
    std::printf("\nthroughput target (>= 1.2e7 DoF-steps/s for Q1 at ~66k DoFs, issue 16; "
                "initial guesses from Linear solver/Previous solutions = 12):\n");
  if (root)
    print_header();
  const Run      q1{1, 8, "bdf2", 0.01};
  const Measured m = measure(q1, MPI_COMM_WORLD);
  if (root)
    {
      print(q1, m);
      const double throughput = m.dofs * double(m.timing.n_steps) / m.timing.solve_seconds;
      std::printf("    -> %.3e DoF-steps/s (%s)\n",
                  throughput,
                  throughput >= 1.2e7 ? "meets the target" : "misses the target");
    }
  return 0;
}
