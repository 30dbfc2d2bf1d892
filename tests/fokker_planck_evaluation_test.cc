// Point evaluation of the Fokker-Planck solution, which output and the probability-flow
// particles use: rho_h and v = -(grad V + eps grad log rho_h) at arbitrary points
// against the exact OU density and velocity -A x + eps S_t^{-1} (x - m_t).
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping_q.h>

#include <gtest/gtest.h>

#include <algorithm>

#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

TEST(FokkerPlanckEvaluation, DensityAndVelocityAtPoints)
{
  OuProblem p;
  p.degree     = 2;
  p.refinement = 5;
  p.end_time   = 0.5;
  p.time_step  = 0.005;
  const ProblemParameters parameters =
      ProblemParameters::from_string(p.text(), {"Output/Write files=false"});
  std::ostringstream log;
  Simulation<2>      simulation(parameters, MPI_COMM_WORLD, log);
  simulation.run();
  const auto &solver = dynamic_cast<const FokkerPlanckSolver<2> &>(simulation.solver());

  const Gaussian<2>           exact = p.exact<2>(p.end_time);
  const SymmetricTensor<2, 2> A = p.matrix<2>(), S_inverse = invert(exact.covariance);
  const double                peak      = exact.density(Point<2>(exact.mean));
  double                      rho_error = 0, velocity_error = 0;
  unsigned int                n_checked = 0;
  MappingQ<2>                 mapping(1);
  const QIterated<2>          patch(QTrapezoid<1>(), 2);
  FEValues<2>                 patch_points(
      mapping, solver.get_dof_handler().get_fe(), patch, update_quadrature_points);
  for (const auto &cell : solver.get_dof_handler().active_cell_iterators())
    if (cell->is_locally_owned())
      {
        // Two points inside the cell that are not nodes.
        const Point<2>              c      = cell->center();
        const std::vector<Point<2>> points = {c, c + 0.3 * (cell->vertex(3) - c)};
        std::vector<double>         rho;
        std::vector<Tensor<1, 2>>   velocity;
        solver.evaluate(cell, points, rho, &velocity);
        // The particles' call, without rho_h: the same velocity, to the bit.
        std::vector<Tensor<1, 2>> velocity_alone;
        solver.velocity_at(cell, points, nullptr, velocity_alone);
        EXPECT_EQ(velocity_alone.size(), points.size());
        for (unsigned int q = 0; q < std::min(points.size(), velocity_alone.size()); ++q)
          EXPECT_EQ(velocity_alone[q], velocity[q]) << "at " << points[q];
        for (unsigned int q = 0; q < points.size(); ++q)
          {
            const double exact_rho = exact.density(points[q]);
            rho_error              = std::max(rho_error, std::abs(rho[q] - exact_rho) / peak);
            if (exact_rho > 1e-2 * peak)
              {
                const Tensor<1, 2> x = points[q];
                const Tensor<1, 2> v = -(A * x) + p.eps * (S_inverse * (x - exact.mean));
                velocity_error =
                    std::max(velocity_error, (velocity[q] - v).norm() / (1 + v.norm()));
                ++n_checked;
              }
          }

        // The fast path at DataOut's patch points agrees with the general one.
        patch_points.reinit(cell);
        const std::vector<Point<2>> at_patch = patch_points.get_quadrature_points();
        std::vector<double>         V(at_patch.size()), rho_fast, rho_slow;
        std::vector<Tensor<1, 2>>   v_fast, v_slow;
        for (unsigned int q = 0; q < V.size(); ++q)
          V[q] = 0.5 * at_patch[q] * (A * at_patch[q]);
        solver.evaluate_at_patch_points(cell, at_patch, V, rho_fast, v_fast);
        solver.evaluate(cell, at_patch, rho_slow, &v_slow);
        for (unsigned int q = 0; q < V.size(); ++q)
          {
            EXPECT_NEAR(rho_fast[q], rho_slow[q], 1e-12 * peak);
            EXPECT_LT((v_fast[q] - v_slow[q]).norm(), 1e-9 * (1 + v_slow[q].norm()));
          }
      }
  rho_error      = Utilities::MPI::max(rho_error, MPI_COMM_WORLD);
  velocity_error = Utilities::MPI::max(velocity_error, MPI_COMM_WORLD);
  n_checked      = Utilities::MPI::sum(n_checked, MPI_COMM_WORLD);
  // Q2 on h = 10/32: the L2 error is ~1e-4 relative; pointwise somewhat more. The
  // velocity involves grad log rho, one order less accurate, and where rho > 1% of its
  // peak.
  EXPECT_LT(rho_error, 1e-3);
  EXPECT_LT(velocity_error, 2e-2);
  EXPECT_GT(n_checked, 100u);
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    std::cout << "  max |rho_h - rho| / max rho = " << rho_error
              << ", max |v_h - v| / (1 + |v|) = " << velocity_error << " over " << n_checked
              << " points" << std::endl;
}
