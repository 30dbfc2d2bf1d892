// Uniform against adaptive meshes (Mesh/Adaptivity), issue 9's benchmark.
//
// Fokker-Planck: OU-2D from the narrow N((1, 0.5), 0.01 I), problems/ou-2d-adaptive.prm (Q2,
// BDF2), to End time T (default 0.1; the first argument, 0 skips this part) with Time step
// dt (default 0.0005; the third argument). The time step is chosen so that the time error
// is far below the space error of the finest uniform mesh (the first table shows the uniform
// levels 5, 6, 7 falling at Q2's order 3, and level 7 at dt and dt / 2 agreeing): the
// comparison then measures the meshes, not the time step. The adaptive runs (levels 3..7 as
// in the file, and 4..7, adapted every 10 or 20 steps, and every 30 with a wider band) end
// at level 7; the 4..7 one, every 10 steps, is compared with the uniform mesh of level 7, and
// the coarsest uniform level with at most its error is named; the one every 30 steps is
// held against issue 9's target (the same error with >= 5x fewer DoFs in >= 3x less time). Printed
// per run (uniform level 7 and the every-30 run, the two of the target: the least wall time
// of three runs, as this machine's speed varies between runs): active cells and DoFs at T, steps, CG iterations per step, the wall seconds of the
// linear solves, of the system set-ups (a M + b K, condensation, preconditioner), of the
// adaptations (marking and DG transfer / rebuild of DoFs, V, matrices / the two projections), of
// the whole run, and the relative L2 error at T.
//
// Transport: problems/rotation-2d-adaptive.prm (a Gaussian turned by a solid-body rotation,
// DG Q2, SSP-RK3 at the CFL step of the finest cells) to End time T2 (default 0.25; the
// second argument), uniform against adaptive.
#include <densityflow/simulation/problem_parameters.h>
#include <densityflow/simulation/simulation.h>
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace densityflow;

namespace
{
struct CaseResult
{
  double error = 0, seconds = 0;
  long   dofs = 0;
  /** The wall seconds of each run (seconds is the least). */
  std::vector<double> all_seconds;
};

/**
 * Runs @p problem with @p settings to @p T, @p repeats times (the same run: the least wall
 * time is the one reported, since this machine's speed varies between runs), and prints
 * its row.
 */
CaseResult run_case(const std::string              &name,
                    const std::vector<std::string> &settings,
                    const double                    T,
                    const std::string              &problem = "ou-2d-adaptive",
                    const unsigned int              repeats = 1)
{
  std::vector<std::string> overrides = settings;
  overrides.push_back("Output/Write files=false");
  overrides.push_back("Output/Interval=0");
  overrides.push_back("Time/End time=" + std::to_string(T));
  const ProblemParameters parameters = ProblemParameters::from_file(
      std::string(DENSITYFLOW_PROBLEMS) + "/" + problem + ".prm", overrides);
  std::vector<double>            all_seconds;
  std::unique_ptr<Simulation<2>> run;
  for (unsigned int r = 0; r < std::max(1u, repeats); ++r)
    {
      std::ostringstream log;
      const auto         start = std::chrono::steady_clock::now();
      run                      = std::make_unique<Simulation<2>>(parameters, MPI_COMM_WORLD, log);
      run->run();
      all_seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  const Simulation<2> &simulation = *run;
  const double         seconds    = *std::min_element(all_seconds.begin(), all_seconds.end());
  const auto          &columns    = simulation.diagnostics().columns();
  const auto          &last       = simulation.diagnostics().rows().back();
  double               error = 0, cells = 0;
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
  const long         dofs = static_cast<long>(simulation.solver().n_dofs());
  std::ostringstream row;
  row << std::left << std::setw(30) << name << std::right << std::setw(8)
      << (cells > 0 ? std::to_string(static_cast<long>(cells)) : std::string("uniform"))
      << std::setw(9) << dofs << std::setw(7) << steps;
  const auto *fp = dynamic_cast<const FokkerPlanckSolver<2> *>(&simulation.solver());
  if (fp != nullptr)
    {
      const FokkerPlanckSetupTiming &t = fp->setup_timing();
      row << std::setw(8) << std::fixed << std::setprecision(1)
          << static_cast<double>(t.solve_iterations) / std::max(1u, t.n_solves)
          << std::setprecision(2) << std::setw(8) << t.solves << std::setw(8) << t.system_setups
          << std::setw(5) << t.n_system_setups << std::setw(5) << t.n_adaptations << std::setw(7)
          << t.adaptation_transfer << "/" << std::left << std::setw(5) << t.adaptation_rebuild
          << "/" << std::setw(5) << t.adaptation_projection << std::right;
    }
  row << std::setw(8) << std::fixed << std::setprecision(2) << seconds << std::setw(11)
      << std::scientific << std::setprecision(3) << error;
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    std::cout << row.str() << std::endl;
  return {error, seconds, dofs, all_seconds};
}
} // namespace

int main(int argc, char **argv)
{
  Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  const double                     T    = argc > 1 ? std::stod(argv[1]) : 0.1;
  const double                     dt   = argc > 3 ? std::stod(argv[3]) : 0.0005;
  const bool                       root = Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
  if (T > 0)
    {
      const std::string step = "Time/Time step=" + std::to_string(dt);
      if (root)
        std::cout << "OU-2D from N((1, 0.5), 0.01 I), Q2, BDF2, dt = " << dt << ", T = " << T
                  << "\n(it/step: CG iterations per step; solve, set-up: seconds of the linear "
                     "solves and of the system set-ups (count); adapt: count, seconds of "
                     "marking + transfer / rebuild / projections; total: wall seconds of the "
                     "run)\n"
                  << std::left << std::setw(30) << "mesh" << std::right << std::setw(8) << "cells"
                  << std::setw(9) << "DoFs" << std::setw(7) << "steps" << std::setw(8) << "it/step"
                  << std::setw(8) << "solve" << std::setw(13) << "set-up" << std::setw(5) << "adapt"
                  << std::setw(20) << "transfer/rebuild/proj" << std::setw(8) << "total"
                  << std::setw(11) << "L2 error" << std::endl;
      std::vector<CaseResult> uniform;
      // The two runs of the target are timed best of three.
      for (const unsigned int level : {5u, 6u, 7u})
        uniform.push_back(run_case(
            "uniform level " + std::to_string(level),
            {"Mesh/Refinement=" + std::to_string(level), "Mesh/Adaptivity/Interval=0", step},
            T,
            "ou-2d-adaptive",
            level == 7 ? 3 : 1));
      const CaseResult half_step = run_case("uniform level 7, dt / 2",
                                            {"Mesh/Refinement=7",
                                             "Mesh/Adaptivity/Interval=0",
                                             "Time/Time step=" + std::to_string(dt / 2)},
                                            T);
      // Every 10 steps (the file's 3 are for its dt = 0.01): the band moves by about a
      // cell of level 7 per 0.005 in time. Minimum level 3 (the file's) against 4: cells of
      // width 1 where (V_max - V_min) / eps over a cell reaches 20 make the weighted system
      // ill-conditioned under Jacobi (see README, Adaptive meshes).
      const std::string every = "Mesh/Adaptivity/Interval=10";
      run_case("adaptive levels 3..7", {step, every}, T);
      run_case("adaptive levels 4..7, every 20",
               {step, "Mesh/Adaptivity/Interval=20", "Mesh/Adaptivity/Minimum level=4"},
               T);
      const CaseResult adaptive =
          run_case("adaptive levels 4..7", {step, every, "Mesh/Adaptivity/Minimum level=4"}, T);
      // Fewer adaptations with a wider band (85% of the indicator's sum refined instead of
      // 70%): the band still holds the density between adaptations, and the adaptations,
      // about two thirds of the time above, are a third as many.
      const CaseResult wide = run_case("adaptive 4..7, every 30, 0.85",
                                       {step,
                                        "Mesh/Adaptivity/Interval=30",
                                        "Mesh/Adaptivity/Minimum level=4",
                                        "Mesh/Adaptivity/Refine fraction=0.85"},
                                       T,
                                       "ou-2d-adaptive",
                                       3);
      if (root)
        {
          std::cout << std::defaultfloat << std::setprecision(3)
                    << "space order (L2): levels 5 -> 6 "
                    << std::log2(uniform[0].error / uniform[1].error) << ", 6 -> 7 "
                    << std::log2(uniform[1].error / uniform[2].error)
                    << "; level 7 at dt / 2 changes the error by "
                    << std::abs(half_step.error - uniform[2].error) / uniform[2].error
                    << " (relative)\n";
          unsigned int reached = 0;
          for (unsigned int k = 0; k < uniform.size(); ++k)
            if (reached == 0 && uniform[k].error <= adaptive.error)
              reached = 5 + k;
          std::cout << "adaptive 4..7 (every 10) against uniform level 7: error ratio "
                    << adaptive.error / uniform[2].error << ", "
                    << static_cast<double>(uniform[2].dofs) / adaptive.dofs << "x fewer DoFs, "
                    << uniform[2].seconds / adaptive.seconds
                    << "x less time; the coarsest uniform level with at most its error: "
                    << (reached > 0 ? std::to_string(reached) : std::string("none of 5..7"))
                    << std::endl;
          // Issue 9's target: the same error (here: within 5%) with >= 5x fewer DoFs in
          // >= 3x less time than the uniform mesh of the finest level.
          const double error_ratio = wide.error / uniform[2].error,
                       dof_ratio   = static_cast<double>(uniform[2].dofs) / wide.dofs,
                       time_ratio  = uniform[2].seconds / wide.seconds;
          std::cout << "adaptive 4..7 (every 30, 0.85) against uniform level 7: error ratio "
                    << error_ratio << ", " << dof_ratio << "x fewer DoFs, " << time_ratio
                    << "x less time; target (error ratio <= 1.05, >= 5x fewer DoFs, >= 3x less "
                       "time): "
                    << (error_ratio <= 1.05 && dof_ratio >= 5 && time_ratio >= 3 ? "met" : "missed")
                    << " (best of 3 runs each; all: uniform";
          for (const double t : uniform[2].all_seconds)
            std::cout << " " << t;
          std::cout << " s, adaptive";
          for (const double t : wide.all_seconds)
            std::cout << " " << t;
          std::cout << " s)" << std::endl;
        }
    }

  const double T2 = argc > 2 ? std::stod(argv[2]) : 0.25;
  if (T2 <= 0)
    return 0;
  if (root)
    std::cout << "\nTransport: a Gaussian (variance 0.01) turned by b = 2 pi (-y, x) on [-1, 1]^2, "
              << "DG Q2, SSP-RK3 with the limiter, T = " << T2 << "\n"
              << std::left << std::setw(30) << "mesh" << std::right << std::setw(8) << "cells"
              << std::setw(9) << "DoFs" << std::setw(7) << "steps" << std::setw(8) << "total"
              << std::setw(11) << "L2 error" << std::endl;
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
