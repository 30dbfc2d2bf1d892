// Convergence of the Fokker-Planck solver to the exact Ornstein-Uhlenbeck solution:
// observed order of the relative L2 error at the end time, in space (>= p + 0.8) and
// in time (>= 0.9 for backward Euler, >= 1.8 for BDF2 and Crank-Nicolson).
#include <gtest/gtest.h>

#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
/** The relative L2 errors at the end time for each refinement (or time step). */
std::vector<double> errors_over_refinements(OuProblem                        problem,
                                            const std::vector<unsigned int> &refinements)
{
  std::vector<double> errors;
  for (const unsigned int r : refinements)
    {
      problem.refinement = r;
      errors.push_back(run(problem.text()).last("l2_error"));
    }
  return errors;
}

std::vector<double> errors_over_time_steps(OuProblem problem, const std::vector<double> &time_steps)
{
  std::vector<double> errors;
  for (const double dt : time_steps)
    {
      problem.time_step = dt;
      errors.push_back(run(problem.text()).last("l2_error"));
    }
  return errors;
}

void expect_order(const std::vector<double> &errors,
                  const double               minimum_order,
                  const std::string         &what)
{
  std::ostringstream all;
  for (const double e : errors)
    all << e << " ";
  std::ostringstream orders;
  for (std::size_t i = 1; i < errors.size(); ++i)
    orders << observed_order(errors[i - 1], errors[i]) << " ";
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    std::cout << "  " << what << ": errors " << all.str() << "orders " << orders.str() << std::endl;
  // The asymptotic order is that of the finest pair; coarser pairs may be pre-asymptotic.
  const double order = observed_order(errors[errors.size() - 2], errors.back());
  EXPECT_GE(order, minimum_order) << what << ": errors " << all.str();
  EXPECT_LT(errors.back(), errors.front()) << what;
}

// Space: the time error must stay well below the finest space error, hence BDF2
// with a small step over a short time.
OuProblem space_problem(const unsigned int dim, const unsigned int degree)
{
  OuProblem p;
  p.dim       = dim;
  p.degree    = degree;
  p.scheme    = "bdf2";
  p.end_time  = 0.25;
  p.time_step = degree == 1 ? 0.0025 : 0.001;
  if (dim == 3)
    {
      p.eps        = 0.5;
      p.a1         = 1;
      p.a2         = 1.5;
      p.a3         = 2;
      p.m0[0]      = 0.5;
      p.m0[1]      = 0.25;
      p.m0[2]      = 0;
      p.s0         = 0.25;
      p.half_width = 4;
      p.time_step  = 0.0025;
    }
  return p;
}
} // namespace

TEST(FokkerPlanckConvergence, Space1DQ1)
{
  expect_order(errors_over_refinements(space_problem(1, 1), {6, 7, 8}), 1.8, "1D Q1");
}

TEST(FokkerPlanckConvergence, Space1DQ2)
{
  expect_order(errors_over_refinements(space_problem(1, 2), {4, 5, 6}), 2.8, "1D Q2");
}

TEST(FokkerPlanckConvergence, Space2DQ1)
{
  expect_order(errors_over_refinements(space_problem(2, 1), {5, 6, 7}), 1.8, "2D Q1");
}

TEST(FokkerPlanckConvergence, Space2DQ2)
{
  expect_order(errors_over_refinements(space_problem(2, 2), {3, 4, 5}), 2.8, "2D Q2");
}

// In 3D the OU test uses the consistent mass matrix: with lumping, the OU errors on
// affordable meshes are pre-asymptotic (0.074, 0.011, 0.0036, 0.0011 for refinements
// 3 to 6, orders 2.7, 1.6, 1.8). The lumped variant is checked on the heat kernel with
// a constant drift below, where it is asymptotic early.
TEST(FokkerPlanckConvergence, Space3DQ1)
{
  OuProblem p = space_problem(3, 1);
  p.lumping   = "false";
  expect_order(errors_over_refinements(p, {3, 4, 5}), 1.8, "3D Q1 (consistent mass)");
}

// V = -c.x, rho = (4 pi eps (t + t0))^{-3/2} exp(-|x - x0 - c t|^2 / (4 eps (t + t0))).
TEST(FokkerPlanckConvergence, Space3DQ1LumpedDriftedHeatKernel)
{
  const std::string   prm = R"(
set Dimension = 3
set Constants = t0 = 0.25
subsection Mesh
  set Lower corner = -4, -4, -4
  set Upper corner = 4, 4, 4
end
subsection Physics
  set Potential = -(0.5 * x - 0.3 * y + 0.2 * z)
  set Diffusion = 0.5
end
subsection Initial density
  set Expression = exp(-((x - 0.5)^2 + (y - 0.25)^2 + z^2) / (4 * eps * t0))
end
subsection Exact solution
  set Expression = (4 * pi * eps * (t + t0))^(-1.5) * exp(-((x - 0.5 - 0.5 * t)^2 + (y - 0.25 + 0.3 * t)^2 + (z - 0.2 * t)^2) / (4 * eps * (t + t0)))
end
subsection Time
  set End time = 0.25
  set Time step = 0.0125
end
subsection Output
  set Interval = 0
end
)";
  std::vector<double> errors;
  for (const std::string r : {"3", "4", "5"})
    errors.push_back(run(prm, {"Mesh/Refinement=" + r}).last("l2_error"));
  expect_order(errors, 1.8, "3D Q1 lumped, drifted heat kernel");
}

// Time: Q3 on a fine 1D mesh makes the space error negligible (about 1e-9).
OuProblem time_problem(const std::string &scheme)
{
  OuProblem p;
  p.dim        = 1;
  p.degree     = 3;
  p.refinement = 7;
  p.scheme     = scheme;
  p.end_time   = 1;
  return p;
}

TEST(FokkerPlanckConvergence, TimeBackwardEuler)
{
  expect_order(errors_over_time_steps(time_problem("backward-euler"), {0.05, 0.025, 0.0125}),
               0.9,
               "backward Euler");
}

TEST(FokkerPlanckConvergence, TimeCrankNicolson)
{
  expect_order(errors_over_time_steps(time_problem("crank-nicolson"), {0.05, 0.025, 0.0125}),
               1.8,
               "Crank-Nicolson");
}

TEST(FokkerPlanckConvergence, TimeBDF2)
{
  expect_order(errors_over_time_steps(time_problem("bdf2"), {0.05, 0.025, 0.0125}), 1.8, "BDF2");
}

// The same in 2D for BDF2 (Q2, fine enough that space error is below the time error).
TEST(FokkerPlanckConvergence, TimeBDF2In2D)
{
  OuProblem p  = time_problem("bdf2");
  p.dim        = 2;
  p.degree     = 2;
  p.refinement = 5;
  p.end_time   = 0.4;
  expect_order(errors_over_time_steps(p, {0.1, 0.05, 0.025}), 1.8, "2D BDF2");
}
