// Uniform against adaptive meshes (Mesh/Adaptivity) on OU-2D from a narrow start: cells and
// DoFs at the end, steps, solve time, seconds per step and the relative L2 error at T against
// the exact Gaussian. problems/ou-2d-adaptive.prm (S0 = 0.01 I, Q2, BDF2, dt = 0.01), to
// End time T (default 1; the first argument; 0 skips these). Then the transport model:
// problems/rotation-2d-adaptive.prm (a Gaussian turned by a solid-body rotation, DG Q2,
// SSP-RK3 at the CFL step of the finest cells) to End time T2 (default 0.25; the second
// argument), uniform against adaptive.
#include <densityflow/simulation/problem_parameters.h>
#include <densityflow/simulation/simulation.h>

#include <deal.II/base/mpi.h>

#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

using namespace densityflow;

namespace
{
void run_case(const std::string              &name,
              const std::vector<std::string> &settings,
              const double                    T,
              const std::string              &problem = "ou-2d-adaptive")
{
  std::vector<std::string> overrides = settings;
  overrides.push_back("Output/Write files=false");
  overrides.push_back("Output/Interval=0");
  overrides.push_back("Time/End time=" + std::to_string(T));
  const ProblemParameters parameters = ProblemParameters::from_file(
      std::string(DENSITYFLOW_PROBLEMS) + "/" + problem + ".prm", overrides);
  std::ostringstream log;
  const auto         start = std::chrono::steady_clock::now();
  Simulation<2>      simulation(parameters, MPI_COMM_WORLD, log);
  simulation.run();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto &columns = simulation.diagnostics().columns();
  const auto &last    = simulation.diagnostics().rows().back();
  double      error = 0, cells = 0;
  for (std::size_t c = 0; c < columns.size(); ++c)
    {
      if (columns[c] == "l2_error")
        error = last[c];
      if (columns[c] == "cells")
        cells = last[c];
    }
  // (The explicit scheme's steps are as many as the CFL step of the finest cells needs.)
  const unsigned int steps =
      simulation.solver().adjustable_time_step()
          ? static_cast<unsigned int>(std::ceil(T / simulation.solver().time_step() - 1e-9))
          : static_cast<unsigned int>(T / parameters.time.step_size() + 0.5);
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    std::cout << std::left << std::setw(34) << name << std::right << std::setw(8)
              << (cells > 0 ? std::to_string(static_cast<long>(cells)) : std::string("uniform"))
              << std::setw(10) << simulation.solver().n_dofs() << std::setw(7) << steps
              << std::setw(11) << std::setprecision(3) << seconds << std::setw(11)
              << seconds / steps << std::setw(12) << error << std::endl;
}
} // namespace

int main(int argc, char **argv)
{
  Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  const double                     T = argc > 1 ? std::stod(argv[1]) : 1.0;
  if (T > 0)
    {
      if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
        std::cout << "OU-2D from N((1, 0.5), 0.01 I), Q2, BDF2, dt = 0.01, T = " << T
                  << " (wall seconds include set-up and adaptation)\n"
                  << std::left << std::setw(34) << "mesh" << std::right << std::setw(8) << "cells"
                  << std::setw(10) << "DoFs" << std::setw(7) << "steps" << std::setw(11)
                  << "seconds" << std::setw(11) << "s/step" << std::setw(12) << "L2 error"
                  << std::endl;
      for (const unsigned int level : {5u, 6u, 7u})
        run_case("uniform level " + std::to_string(level),
                 {"Mesh/Refinement=" + std::to_string(level), "Mesh/Adaptivity/Interval=0"},
                 T);
      for (const unsigned int level : {6u, 7u})
        run_case("adaptive levels 3.." + std::to_string(level),
                 {"Mesh/Adaptivity/Maximum level=" + std::to_string(level)},
                 T);
      run_case("adaptive levels 3..7, log-kelly", {"Mesh/Adaptivity/Indicator=log-kelly"}, T);
    }

  const double T2 = argc > 2 ? std::stod(argv[2]) : 0.25;
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    std::cout << "\nTransport: a Gaussian (variance 0.01) turned by b = 2 pi (-y, x) on [-1, 1]^2, "
              << "DG Q2, SSP-RK3 with the limiter, T = " << T2 << "\n"
              << std::left << std::setw(34) << "mesh" << std::right << std::setw(8) << "cells"
              << std::setw(10) << "DoFs" << std::setw(7) << "steps" << std::setw(11) << "seconds"
              << std::setw(11) << "s/step" << std::setw(12) << "L2 error" << std::endl;
  for (const unsigned int level : {5u, 6u, 7u})
    run_case("uniform level " + std::to_string(level),
             {"Mesh/Refinement=" + std::to_string(level), "Mesh/Adaptivity/Interval=0"},
             T2,
             "rotation-2d-adaptive");
  for (const unsigned int level : {6u, 7u})
    run_case("adaptive levels 3.." + std::to_string(level) + ", jump",
             {"Mesh/Adaptivity/Maximum level=" + std::to_string(level)},
             T2,
             "rotation-2d-adaptive");
  return 0;
}
