// The 3D Fokker-Planck set-up and steps: problems/ou-3d.prm (Q2, consistent mass, BDF2,
// dt = 0.02) at the refinements given (default 4 and 5). Per refinement: DoFs; the
// set-up split into the mesh, the FE space and DoFs, the sparsity pattern with the PETSc
// matrices, V on the mesh, the weighted matrices (assemble_matrices), the initial
// density, and the first system matrix with its preconditioner; seconds per step and CG
// iterations per step over the steps after the first two (which rebuild the system
// matrix: backward Euler, then BDF2); peak memory (getrusage maxrss, summed over ranks)
// and bytes per DoF, and the resident memory after each phase.
//
//   fokker_planck_3d_benchmark [REFINEMENT...]
//   mpirun -np 2 fokker_planck_3d_benchmark 5
#include <densityflow/base/expression.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/physics/physics.h>
#include <densityflow/simulation/problem_parameters.h>
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>
#include <densityflow/solvers/fokker_planck/weighted_cell_matrices.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/fe/mapping_q.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/tria.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <sys/resource.h>

using namespace densityflow;

namespace
{
double seconds_since(const std::chrono::steady_clock::time_point start)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/** Peak resident memory of this process in bytes (Linux reports kB). */
double peak_bytes()
{
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return 1024.0 * usage.ru_maxrss;
}

/** Resident memory now in bytes (/proc/self/statm, in pages). */
double resident_bytes()
{
  std::ifstream statm("/proc/self/statm");
  double        size = 0, resident = 0;
  statm >> size >> resident;
  return resident * 4096.0;
}

struct Phase
{
  std::string name;
  double      seconds;
  double      resident;
};

/**
 * The cell matrices of ou-3d's V alone (no PETSc), on one core, in the same run: FEValues'
 * reinit, plus the factorised weights, plus the direct ones (the old assembly's arithmetic).
 */
void cell_matrices(const unsigned int refinement)
{
  Triangulation<3> triangulation;
  GridGenerator::hyper_cube(triangulation, -3, 3);
  triangulation.refine_global(refinement);
  const FE_Q<3> fe(2);
  DoFHandler<3> dof_handler(triangulation);
  dof_handler.distribute_dofs(fe);
  const MappingQ<3>   mapping(1);
  const QGauss<3>     quadrature(fe.degree + 2);
  const Quadrature<3> support(fe.get_unit_support_points());
  FEValues<3>         fe_values(mapping,
                        fe,
                        quadrature,
                        update_values | update_gradients | update_JxW_values |
                            update_quadrature_points);
  FEValues<3>         support_values(mapping, fe, support, update_quadrature_points);
  const unsigned int  n_q = quadrature.size(), n = fe.n_dofs_per_cell();
  const auto          V = [](const Point<3> &p) {
    return (p[0] * p[0] + 2 * p[1] * p[1] + 3 * p[2] * p[2]) / 2;
  };
  std::vector<double>  V_q(n_q), V_n(n);
  WeightedCellMatrices cell_matrices;

  std::printf("  cell matrices alone (%u cells, 1 core):", triangulation.n_active_cells());
  for (const int mode : {0, 1, 2})
    {
      const auto start = std::chrono::steady_clock::now();
      for (const auto &cell : dof_handler.active_cell_iterators())
        {
          fe_values.reinit(cell);
          support_values.reinit(cell);
          for (unsigned int q = 0; q < n_q; ++q)
            V_q[q] = V(fe_values.quadrature_point(q));
          for (unsigned int i = 0; i < n; ++i)
            V_n[i] = V(support_values.quadrature_point(i));
          if (mode > 0)
            weighted_cell_matrices(fe_values,
                                   V_q.data(),
                                   V_n,
                                   0.5,
                                   true,
                                   false,
                                   mode == 1 ? WeightEvaluation::factorised
                                             : WeightEvaluation::direct,
                                   cell_matrices);
        }
      std::printf(" %s %.3f s;",
                  mode == 0   ? "FEValues + V"
                  : mode == 1 ? "+ factorised"
                              : "+ direct",
                  seconds_since(start));
      std::fflush(stdout);
    }
  std::printf("\n");
}

void run(const unsigned int refinement, const MPI_Comm communicator)
{
  const bool              root = Utilities::MPI::this_mpi_process(communicator) == 0;
  const ProblemParameters parameters =
      ProblemParameters::from_file(std::string(DENSITYFLOW_PROBLEMS) + "/ou-3d.prm",
                                   {"Mesh/Refinement=" + std::to_string(refinement)});
  std::vector<Phase> phases;
  const auto         record = [&](const std::string &name, const double seconds) {
    phases.push_back({name,
                      Utilities::MPI::max(seconds, communicator),
                      Utilities::MPI::sum(resident_bytes(), communicator)});
  };

  auto          start = std::chrono::steady_clock::now();
  const Mesh<3> mesh(parameters.mesh, parameters.discretization.degree, communicator);
  record("mesh", seconds_since(start));
  const Physics<3> physics(parameters.physics, parameters.constants);

  start = std::chrono::steady_clock::now();
  FokkerPlanckSolver<3> solver(mesh,
                               physics,
                               parameters.discretization,
                               parameters.time,
                               parameters.linear_solver,
                               AbsorbingWalls<3>(parameters.absorbing_walls, mesh));
  const double          constructor = seconds_since(start);
  const auto           &t           = solver.setup_timing();
  record("FE space, DoFs", constructor - t.sparsity - t.potential - t.assembly);
  record("sparsity + PETSc matrices", t.sparsity);
  record("V on the mesh", t.potential);
  record("assemble_matrices", t.assembly);

  start = std::chrono::steady_clock::now();
  solver.set_initial_density(
      Expression<3>(parameters.initial_density, physics.constants(), "Initial density/Expression"));
  record("initial density", seconds_since(start));

  // The first two steps rebuild the system matrix (backward Euler, then BDF2).
  const double dt                = solver.time_step();
  double       first_two_seconds = 0, system_seconds = 0;
  for (unsigned int s = 0; s < 2; ++s)
    {
      start = std::chrono::steady_clock::now();
      solver.advance(dt);
      first_two_seconds += seconds_since(start);
      system_seconds += t.system_matrix;
    }
  record("2 system matrices + preconditioner", system_seconds);

  const unsigned int n_steps    = 10;
  unsigned long      iterations = 0;
  start                         = std::chrono::steady_clock::now();
  for (unsigned int s = 0; s < n_steps; ++s)
    iterations += solver.advance(dt);
  const double step_seconds = Utilities::MPI::max(seconds_since(start), communicator) / n_steps;
  const double peak         = Utilities::MPI::sum(peak_bytes(), communicator);
  first_two_seconds         = Utilities::MPI::max(first_two_seconds, communicator);

  if (!root)
    return;
  const double dofs  = solver.n_dofs();
  double       setup = 0;
  std::printf("\nou-3d, Q2, refinement %u, %u rank(s): %.0f DoFs\n",
              refinement,
              Utilities::MPI::n_mpi_processes(communicator),
              dofs);
  std::printf("  %-36s %10s %14s\n", "phase", "seconds", "resident MB");
  for (const auto &p : phases)
    {
      std::printf("  %-36s %10.3f %14.1f\n", p.name.c_str(), p.seconds, p.resident / 1e6);
      setup += p.name.rfind("2 system", 0) == 0 ? 0 : p.seconds;
    }
  std::printf("  set-up before the first step: %.3f s; the first two steps: %.3f s\n",
              setup,
              first_two_seconds);
  std::printf("  steps 3-%u: %.4f s/step, %.2f CG iterations/step, %.3e DoF-steps/s\n",
              n_steps + 2,
              step_seconds,
              double(iterations) / n_steps,
              dofs / step_seconds);
  std::printf(
      "  peak memory (maxrss, all ranks): %.1f MB = %.0f bytes per DoF\n", peak / 1e6, peak / dofs);
  std::fflush(stdout);
  if (Utilities::MPI::n_mpi_processes(communicator) == 1 && refinement <= 4)
    cell_matrices(refinement);
}
} // namespace

int main(int argc, char **argv)
{
  Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  std::vector<unsigned int>        refinements;
  for (int a = 1; a < argc; ++a)
    refinements.push_back(std::stoul(argv[a]));
  if (refinements.empty())
    refinements = {4, 5};
  // maxrss only grows: for the peak of each refinement run each in its own process.
  for (const unsigned int r : refinements)
    run(r, MPI_COMM_WORLD);
  return 0;
}
