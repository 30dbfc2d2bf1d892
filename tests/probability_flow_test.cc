// The probability-flow velocity v = -(grad V + eps grad log rho_h) of the Fokker-Planck
// solution against the exact OU one, -A x + eps S_t^{-1} (x - m_t): its rho-weighted L2
// error converges at the order of grad u_h, and particles driven by it follow the exact
// affine flow map X_t = m_t + (S_t / s0)^{1/2} (X_0 - m0) in their error quantiles.
#include <densityflow/particles/particle_ensemble.h>
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping_q.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>

#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
bool root()
{
  return Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
}

/** The exact probability-flow velocity of OU at @p x for the law @p exact. */
Tensor<1, 2> exact_velocity(const OuProblem &p, const Gaussian<2> &exact, const Point<2> &x)
{
  const SymmetricTensor<2, 2> A = p.matrix<2>();
  return -(A * Tensor<1, 2>(x)) + p.eps * (invert(exact.covariance) * (x - exact.mean));
}

/**
 * ||v_h - v||_{L2(rho)} / ||v||_{L2(rho)} at the end of @p p, rho the exact density,
 * by a Gauss rule of p + 2 points per direction on every cell.
 */
double weighted_velocity_error(const OuProblem &p)
{
  const ProblemParameters parameters =
      ProblemParameters::from_string(p.text(), {"Output/Write files=false"});
  std::ostringstream log;
  Simulation<2>      simulation(parameters, MPI_COMM_WORLD, log);
  simulation.run();
  const auto &solver = dynamic_cast<const FokkerPlanckSolver<2> &>(simulation.solver());

  const Gaussian<2> exact = p.exact<2>(p.end_time);
  MappingQ<2>       mapping(1);
  FEValues<2>       fe_values(mapping,
                        solver.get_dof_handler().get_fe(),
                        QGauss<2>(p.degree + 2),
                        update_quadrature_points | update_JxW_values);
  double            error = 0, norm = 0;
  for (const auto &cell : solver.get_dof_handler().active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        const std::vector<Point<2>> &points = fe_values.get_quadrature_points();
        std::vector<double>          rho;
        std::vector<Tensor<1, 2>>    velocity;
        solver.evaluate(cell, points, rho, &velocity);
        for (unsigned int q = 0; q < points.size(); ++q)
          {
            const Tensor<1, 2> v      = exact_velocity(p, exact, points[q]);
            const double       weight = exact.density(points[q]) * fe_values.JxW(q);
            error += (velocity[q] - v).norm_square() * weight;
            norm += v.norm_square() * weight;
          }
      }
  return std::sqrt(Utilities::MPI::sum(error, MPI_COMM_WORLD) /
                   Utilities::MPI::sum(norm, MPI_COMM_WORLD));
}

/** An OU problem whose start the coarsest mesh of the tests resolves (s0 = 0.25). */
OuProblem wide_start()
{
  OuProblem p;
  p.s0         = 0.25;
  p.half_width = 4;
  p.m0[0]      = 1;
  p.m0[1]      = 0.5;
  return p;
}

double quantile(std::vector<double> values, const double q)
{
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(q * (values.size() - 1) + 0.5)];
}
} // namespace

// v_h = -eps grad log u_h with the nodal interpolant of log u: the interpolant of a
// smooth log u has a gradient error O(h^p), and the nodal errors of u_h enter through
// the gradient of the basis, O(nodal error / h). Q1: the interpolation error rules,
// order 1; required >= 0.8. Q2: log u of a Gaussian rho and quadratic V is quadratic,
// which Q2 interpolates exactly, so only the nodal errors remain, superconvergent at
// O(h^(p+2)) = O(h^4) on uniform meshes: order 3; required >= 2.7 (measured 2.97, 2.97).
// The quotient grad u_h / u_h has the error of grad u_h, O(h^p): order 2 for Q2. The
// time step (BDF2, dt = 0.0025) keeps the time error below the spatial one.
TEST(ProbabilityFlow, VelocityConvergesInRhoWeightedL2)
{
  for (const unsigned int degree : {1u, 2u})
    {
      std::vector<double> errors;
      for (unsigned int refinement = 5 - degree; refinement <= 7 - degree; ++refinement)
        {
          OuProblem p  = wide_start();
          p.degree     = degree;
          p.refinement = refinement;
          p.end_time   = 0.25;
          p.time_step  = 0.0025;
          errors.push_back(weighted_velocity_error(p));
        }
      const double order_coarse = observed_order(errors[0], errors[1]);
      const double order_fine   = observed_order(errors[1], errors[2]);
      if (root())
        std::cout << "  Q" << degree << ": ||v_h - v||_rho / ||v||_rho = " << errors[0] << ", "
                  << errors[1] << ", " << errors[2] << "; orders " << order_coarse << ", "
                  << order_fine << std::endl;
      const double required = degree == 1 ? 0.8 : 2.7;
      EXPECT_GE(order_fine, required);
      EXPECT_GE(order_coarse, required);
    }
}

namespace
{
/** Median, 99th percentile and largest error of @p n probability-flow particles of @p p at
    its end time against the exact flow map (flow_map_errors()). */
std::array<double, 3>
flow_map_quantiles(const OuProblem &p, const unsigned int n, const std::string &more = "")
{
  const std::string prm = p.text() + "subsection Particles\n set Number = " + std::to_string(n) +
                          "\n set Dynamics = probability-flow\nend\n" + more;
  std::ostringstream log;
  Simulation<2>      simulation(
      ProblemParameters::from_string(prm, {"Output/Write files=false"}), MPI_COMM_WORLD, log);
  const auto initial = gather_positions(*simulation.particle_systems()[0]);
  simulation.run();
  const auto final = gather_positions(*simulation.particle_systems()[0]);
  EXPECT_EQ(final.size(), n);
  const std::vector<double> errors = flow_map_errors(p, initial, final);
  return {{quantile(errors, 0.5), quantile(errors, 0.99), quantile(errors, 1.0)}};
}
/** ou-2d's problem: Q2, 32 x 32 cells on [-4, 4]^2, dt = 0.01, N((1, 0.5), 0.1 I), T = 1. */
OuProblem ou_2d()
{
  OuProblem p  = wide_start();
  p.s0         = 0.1;
  p.degree     = 2;
  p.refinement = 5;
  p.end_time   = 1;
  p.time_step  = 0.01;
  return p;
}
} // namespace

// 1000 particles of N((1, 0.5), 0.25 I) on Q2, h = 0.5, to T = 0.5 (dt = 0.01): the exact
// velocity integrated by the same Heun steps is off by < 4e-4 (the time error), so
// what is measured is the velocity. Measured: median 1.9e-3, p99 1.1e-2, max 2.3e-2;
// the quotient grad u_h / u_h (the velocity before the log interpolant) gets 7.1e-3,
// 5.8e-2, 0.118 and fails all three bounds.
TEST(ProbabilityFlow, ParticlesFollowTheExactFlowMap)
{
  OuProblem p                     = wide_start();
  p.degree                        = 2;
  p.refinement                    = 4;
  p.end_time                      = 0.5;
  p.time_step                     = 0.01;
  const auto [median, p99, worst] = flow_map_quantiles(p, 1000);
  if (root())
    std::cout << "  particles against the exact flow map: median " << median << ", p99 " << p99
              << ", max " << worst << std::endl;
  EXPECT_LT(median, 3e-3);
  EXPECT_LT(p99, 2e-2);
  EXPECT_LT(worst, 4e-2);
}

// ou-2d (Q2, 32 x 32 cells on [-4, 4]^2, dt = 0.01, 5000 particles of the narrow
// N((1, 0.5), 0.1 I), T = 1), where the particles far out need rho_h's tails early on.
// Heun with the exact velocity at this dt is off by at most 7.8e-4 (p99 5.1e-4), and a
// finer mesh at this dt hardly helps (refinement 7: p99 1.2e-2): the error is the density's
// time error, most of it BDF2's backward-Euler first step. Time/BDF2 start = crank-nicolson
// (second order) cuts it; measured: p99 1.58e-2 -> 5.75e-3, max 0.105 -> 0.051, median
// 1.66e-3 -> 1.59e-3. Required: p99 below half of the backward-Euler start's and below
// 7e-3, the largest below 6.5e-2 (the documented figures with room for the rounding of
// other machines, not for a change of the scheme).
TEST(ProbabilityFlow, CrankNicolsonStartFollowsTheNarrowStartsTails)
{
  OuProblem                   p     = ou_2d();
  const std::array<double, 3> euler = flow_map_quantiles(p, 5000);
  p.bdf2_start                      = "crank-nicolson";
  const std::array<double, 3> crank = flow_map_quantiles(p, 5000);
  if (root())
    std::cout << "  median, p99, max: backward-Euler start " << euler[0] << ", " << euler[1] << ", "
              << euler[2] << "; Crank-Nicolson start " << crank[0] << ", " << crank[1] << ", "
              << crank[2] << std::endl;
  EXPECT_LT(crank[1], 0.5 * euler[1]);
  EXPECT_LT(crank[1], 7e-3);
  EXPECT_LT(crank[2], 6.5e-2);
}

// ou-2d as shipped (issue 11's target): the Crank-Nicolson start on a finer start, the
// mesh refined once where rho0 is (Kelly, 99.9% of the indicator's sum, to level 6) and
// back to the uniform level 5 at t = 0.2 (Mesh/Adaptivity/Stop time). The largest errors
// are spatial: particles 3-4.4 standard deviations out follow rho_h's tails while the
// start is narrow (on level 5 with dt = 0.001 the largest is still 5.3e-2). Measured over
// six particle seeds: p99 3.6e-3 to 4.1e-3, max 2.0e-2 to 3.5e-2 (this seed: 4.03e-3,
// 2.46e-2; the uniform start 5.75e-3, 5.06e-2). Required: the p99 <= 5e-3 and
// max <= 5e-2, and the largest below 0.7 of the uniform start's.
TEST(ProbabilityFlow, FinerStartMeetsTheTarget)
{
  OuProblem p                         = ou_2d();
  p.bdf2_start                        = "crank-nicolson";
  const std::array<double, 3> uniform = flow_map_quantiles(p, 5000);
  const std::array<double, 3> finer   = flow_map_quantiles(
      p,
      5000,
      "subsection Mesh\n subsection Adaptivity\n  set Interval = 20\n  set Minimum level = 5\n"
        "  set Maximum level = 6\n  set Initial cycles = 1\n  set Refine fraction = 0.999\n"
        "  set Coarsen fraction = 0\n  set Stop time = 0.2\n end\nend\n");
  if (root())
    std::cout << "  median, p99, max: uniform start " << uniform[0] << ", " << uniform[1] << ", "
              << uniform[2] << "; finer start " << finer[0] << ", " << finer[1] << ", " << finer[2]
              << std::endl;
  EXPECT_LE(finer[1], 5e-3);
  EXPECT_LE(finer[2], 5e-2);
  EXPECT_LT(finer[2], 0.7 * uniform[2]);
}
