// Invariants of the Fokker-Planck solver: the exact discrete stationary state, mass,
// positivity and free-energy decay (Q1, lumped, backward Euler), and the relative
// entropy against its closed form with the right late-time decay rate.
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>

#include <gtest/gtest.h>

#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
/** A double well in 2D, V = (x^2 - 1)^2 + (y^2 - 1)^2 / 2 (non-convex), on [-2, 2]^2. */
std::string double_well(const std::string &initial_density, const std::string &more = "")
{
  return "set Dimension = 2\n"
         "subsection Mesh\n set Lower corner = -2, -2\n set Upper corner = 2, 2\n set "
         "Refinement = 4\nend\n"
         "subsection Physics\n set Potential = (x^2 - 1)^2 + (y^2 - 1)^2 / 2\n set "
         "Diffusion = 0.3\nend\n"
         "subsection Initial density\n set Expression = " +
         initial_density + "\nend\n" + more;
}
} // namespace

// rho0 = exp(-V/eps) projected is pi_h; y = c sqrt(pi) must then not move at all.
TEST(FokkerPlanckInvariants, StationaryStateIsExact)
{
  for (const std::string degree : {"1", "2"})
    for (const std::string scheme : {"backward-euler", "crank-nicolson", "bdf2"})
      {
        const ProblemParameters parameters = ProblemParameters::from_string(
            double_well("exp(-((x^2 - 1)^2 + (y^2 - 1)^2 / 2) / eps)"),
            {"Discretization/Degree=" + degree,
             "Time/Scheme=" + scheme,
             "Time/End time=1",
             "Time/Time step=0.01",
             "Output/Write files=false",
             "Output/Interval=0.25"});
        std::ostringstream log;
        Simulation<2>      simulation(parameters, MPI_COMM_WORLD, log);
        const auto &solver = dynamic_cast<const FokkerPlanckSolver<2> &>(simulation.solver());
        PETScWrappers::MPI::Vector initial(solver.scaled_solution());
        simulation.run();
        PETScWrappers::MPI::Vector difference(solver.scaled_solution());
        difference -= initial;
        EXPECT_LE(difference.linfty_norm(), 1e-12 * initial.linfty_norm())
            << "Q" << degree << " " << scheme;
        const RunResult result = result_of(simulation);
        for (std::size_t row = 0; row < result.rows.size(); ++row)
          EXPECT_NEAR(result.value(row, "relative_entropy"), 0.0, 1e-12)
              << "Q" << degree << " " << scheme;
      }
}

// Mass is conserved to round-off over 1000 steps whatever the scheme and mass matrix.
TEST(FokkerPlanckInvariants, MassOver1000Steps)
{
  for (const unsigned int degree : {1u, 2u})
    for (const std::string scheme : {"backward-euler", "crank-nicolson", "bdf2"})
      {
        OuProblem p;
        p.degree               = degree;
        p.refinement           = degree == 1 ? 4 : 3;
        p.scheme               = scheme;
        p.time_step            = 0.005;
        p.end_time             = 5;
        p.interval             = 0.5;
        p.tolerance            = 1e-8; // mass must not depend on the solver tolerance
        const RunResult result = run(p.text());
        ASSERT_EQ(result.last("step"), 1000);
        for (std::size_t row = 0; row < result.rows.size(); ++row)
          EXPECT_NEAR(result.value(row, "mass"), 1.0, 1e-12)
              << "Q" << degree << " " << scheme << " row " << row;
      }
}

// With Q1, a lumped mass matrix and box-shaped cells, backward Euler keeps rho >= 0
// exactly (the system is an M-matrix; the direct solver adds no iteration error) from
// data with zeros and corners, while the consistent mass matrix of the same scheme
// does not: the test can tell the two apart.
TEST(FokkerPlanckInvariants, PositivityOfQ1Lumped)
{
  const std::string              disc   = "if((x - 0.8)^2 + (y - 0.3)^2 < 0.25, 1, 0)";
  const std::vector<std::string> common = {"Time/Scheme=backward-euler",
                                           "Time/Time step=0.001",
                                           "Time/End time=0.02",
                                           "Output/Interval=0.001",
                                           "Linear solver/Preconditioner=direct"};
  const RunResult                lumped = run(double_well(disc), common);
  ASSERT_EQ(lumped.rows.size(), 21u);
  for (std::size_t row = 0; row < lumped.rows.size(); ++row)
    {
      EXPECT_GE(lumped.value(row, "min_density"), 0.0) << "step " << lumped.value(row, "step");
      EXPECT_EQ(lumped.value(row, "negative_mass"), 0.0);
    }

  std::vector<std::string> consistent = common;
  consistent.push_back("Discretization/Mass lumping=false");
  const RunResult unlumped = run(double_well(disc), consistent);
  double          minimum  = 0;
  for (std::size_t row = 0; row < unlumped.rows.size(); ++row)
    minimum = std::min(minimum, unlumped.value(row, "min_density"));
  EXPECT_LT(minimum, -1e-3) << "the consistent mass matrix should undershoot here";
}

// The discrete free energy F = eps sum_j m_j u_j log(u_j Z) + const of Q1/lumped never
// increases under backward Euler (the proof holds for exact solves; the direct
// solver's round-off is far below the decrease per step here).
TEST(FokkerPlanckInvariants, FreeEnergyDecaysEveryBackwardEulerStep)
{
  const RunResult result = run(double_well("exp(-((x - 1.2)^2 + (y + 0.5)^2) / 0.1)"),
                               {"Time/Scheme=backward-euler",
                                "Time/Time step=0.01",
                                "Time/End time=2",
                                "Output/Interval=0.01",
                                "Linear solver/Preconditioner=direct"});
  ASSERT_EQ(result.rows.size(), 201u);
  for (std::size_t row = 1; row < result.rows.size(); ++row)
    {
      const double before = result.value(row - 1, "free_energy"),
                   after  = result.value(row, "free_energy");
      // Round-off in the sum that defines F: a few ulps of its terms.
      EXPECT_LE(after, before + 1e-13 * (1 + std::abs(before))) << "step " << row;
    }
  EXPECT_LT(result.last("free_energy"), result.value(0, "free_energy") - 0.1);
}

// KL(rho_h | pi) against the closed form KL(N(m_t, S_t) | N(0, eps A^{-1})): the
// largest difference over [0, 5] converges at the order of the discretisation (Q2:
// third order), and the late-time decay rate is 2 lambda_min(A).
TEST(FokkerPlanckInvariants, RelativeEntropyOfOrnsteinUhlenbeck)
{
  OuProblem p;
  p.degree    = 2;
  p.time_step = 0.005;
  p.end_time  = 5;
  p.interval  = 0.25;
  std::vector<double> kl_errors, l2_errors;
  for (const unsigned int refinement : {3u, 4u, 5u})
    {
      p.refinement           = refinement;
      const RunResult result = run(p.text());
      double          error = 0, l2_error = 0;
      for (std::size_t row = 0; row < result.rows.size(); ++row)
        {
          const double t     = result.value(row, "time");
          const double exact = kl_divergence(p.exact<2>(t), p.stationary<2>());
          error    = std::max(error, std::abs(result.value(row, "relative_entropy") - exact));
          l2_error = std::max(l2_error, result.value(row, "l2_error"));
        }
      kl_errors.push_back(error);
      l2_errors.push_back(l2_error);

      if (refinement == 5)
        {
          // Least-squares slope of log KL over t in [3, 5].
          double n = 0, st = 0, sl = 0, stt = 0, stl = 0;
          for (std::size_t row = 0; row < result.rows.size(); ++row)
            if (const double t = result.value(row, "time"); t >= 3 - 1e-9)
              {
                const double l = std::log(result.value(row, "relative_entropy"));
                n += 1, st += t, sl += l, stt += t * t, stl += t * l;
              }
          const double rate = -(n * stl - st * sl) / (n * stt - st * st);
          EXPECT_NEAR(rate / (2 * std::min(p.a1, p.a2)), 1.0, 0.05) << "decay rate " << rate;
          if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
            std::cout << "  late-time decay rate of KL: " << rate
                      << " (2 lambda_min = " << 2 * std::min(p.a1, p.a2) << ")" << std::endl;
        }
    }
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    std::cout << "  max |KL_h - KL| over time: " << kl_errors[0] << " " << kl_errors[1] << " "
              << kl_errors[2] << "; max relative L2 error: " << l2_errors[0] << " " << l2_errors[1]
              << " " << l2_errors[2] << std::endl;
  EXPECT_GE(observed_order(kl_errors[1], kl_errors[2]), 2.8) << kl_errors[1] << " " << kl_errors[2];
}

// Linear solver/Previous solutions (the projection of earlier solutions as the initial
// guess) changes how many iterations the solves take, not what they solve: the density at
// T agrees with the one of the plain extrapolated guess as far as the tolerance allows,
// and the iterations fall (measured on 66k DoFs: 12.9 -> 7.4 per step). (The runs are
// compared by their diagnostics: two runs on 2 ranks need not number their DoFs alike.)
TEST(FokkerPlanckInvariants, PreviousSolutionsSaveIterationsNotAccuracy)
{
  OuProblem p;
  p.refinement = 6;
  p.end_time   = 1;
  p.tolerance  = 1e-10;
  const auto solve = [&](const std::string &previous) {
    const ProblemParameters parameters = ProblemParameters::from_string(
        p.text(), {"Linear solver/Previous solutions=" + previous, "Output/Write files=false"});
    std::ostringstream log;
    Simulation<2>      simulation(parameters, MPI_COMM_WORLD, log);
    simulation.run();
    return std::make_pair(simulation.timing().linear_iterations, result_of(simulation));
  };
  const auto [plain_iterations, plain]         = solve("0");
  const auto [projected_iterations, projected] = solve("12");
  ASSERT_EQ(plain.last("step"), 100);

  // Each solve leaves a relative error below kappa tol (kappa(M + dt K) < 5 on this mesh);
  // BDF2 carries it on stably: after 100 steps, twice, rho_h differs by at most 1e-7 of
  // its size. That moves the relative L2 error by at most 1e-7, and KL, the means and the
  // covariances by at most 1e-7 times the largest |log(rho / pi)| or |x|^2 that matters
  // (< 10 and 25 on [-5, 5]^2): 1e-6 and 3e-6.
  double largest = 0;
  for (const std::string column : {"l2_error", "relative_entropy", "mean_x", "mean_y", "cov_xx", "cov_xy", "cov_yy"})
    {
      const double difference = std::abs(projected.last(column) - plain.last(column));
      largest                 = std::max(largest, difference);
      EXPECT_LE(difference, column == "l2_error" ? 1e-7 : column == "relative_entropy" ? 1e-6 : 3e-6)
          << column;
    }
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    std::printf("  iterations %lu -> %lu; diagnostics at T within %.2e\n",
                plain_iterations,
                projected_iterations,
                largest);
  EXPECT_NEAR(projected.last("mass"), 1.0, 1e-12);
  EXPECT_LT(projected_iterations, 0.8 * plain_iterations)
      << projected_iterations << " against " << plain_iterations;
}
