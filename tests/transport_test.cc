// The transport (DG) solver against exact solutions: convergence in space and time,
// the positivity limiter, the mass balance with outflow and inflow, and the
// non-reversible OU process against its closed form.
#include <densityflow/solvers/transport/transport_solver.h>

#include <gtest/gtest.h>

#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
bool root()
{
  return Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
}

/** The relative L2 errors at the end of @p prm for each set of overrides. */
std::vector<double> final_errors(const std::string                           &prm,
                                 const std::vector<std::vector<std::string>> &runs)
{
  std::vector<double> errors;
  for (const auto &overrides : runs)
    errors.push_back(run(prm, overrides).last("l2_error"));
  return errors;
}

void expect_order(const std::vector<double> &errors,
                  const double               minimum_order,
                  const std::string         &what)
{
  std::ostringstream all, orders;
  for (std::size_t i = 0; i < errors.size(); ++i)
    {
      all << errors[i] << " ";
      if (i > 0)
        orders << observed_order(errors[i - 1], errors[i]) << " ";
    }
  if (root())
    std::cout << "  " << what << ": errors " << all.str() << "orders " << orders.str() << std::endl;
  EXPECT_GE(observed_order(errors[errors.size() - 2], errors.back()), minimum_order)
      << what << ": " << all.str();
}

std::vector<std::vector<std::string>> refinements(const unsigned int               degree,
                                                  const std::vector<unsigned int> &levels)
{
  std::vector<std::vector<std::string>> runs;
  for (const unsigned int r : levels)
    runs.push_back({"Discretization/Degree=" + std::to_string(degree),
                    "Mesh/Refinement=" + std::to_string(r)});
  return runs;
}

// b = 2 pi (-y, x): one turn in t = 1 brings rho back; rho(x, t) = rho0(R(-2 pi t) x).
const std::string rotation = R"(
set Dimension = 2
set Constants = omega = 6.283185307179586, s = 0.02
subsection Mesh
  set Lower corner = -1, -1
  set Upper corner = 1, 1
end
subsection Physics
  set Model = transport
  set Velocity = -omega * y; omega * x
  set Diffusion = 0
end
subsection Initial density
  set Expression = exp(-((x - 0.4)^2 + y^2) / (2 * s))
end
subsection Exact solution
  set Expression = exp(-((cos(omega * t) * x + sin(omega * t) * y - 0.4)^2 + (-sin(omega * t) * x + cos(omega * t) * y)^2) / (2 * s)) / (2 * pi * s)
end
subsection Time
  set End time = 1
  set Time step = 1
end
subsection Output
  set Interval = 0.5
end
)";

// Rayleigh-Kotte with T = 1: rho(T) = rho0 (the exact solution below holds at t = T).
const std::string vortex = R"(
set Dimension = 2
set Constants = T = 1, s = 0.004
subsection Mesh
  set Lower corner = 0, 0
  set Upper corner = 1, 1
end
subsection Physics
  set Model = transport
  set Velocity = -2 * sin(pi * x)^2 * sin(pi * y) * cos(pi * y); 2 * sin(pi * x) * cos(pi * x) * sin(pi * y)^2
  set Velocity time factor = cos(pi * t / T)
  set Diffusion = 0
end
subsection Initial density
  set Expression = exp(-((x - 0.5)^2 + (y - 0.65)^2) / (2 * s))
end
subsection Exact solution
  set Expression = exp(-((x - 0.5)^2 + (y - 0.65)^2) / (2 * s)) / (2 * pi * s)
end
subsection Time
  set End time = 1
  set Time step = 1
end
subsection Output
  set Interval = 0
end
)";

// b = -x in 3D: rho = e^{3t} rho0(e^t x), with the exact density flowing in.
const std::string compression = R"(
set Dimension = 3
set Constants = s = 0.0225
subsection Mesh
  set Lower corner = -1, -1, -1
  set Upper corner = 1, 1, 1
end
subsection Physics
  set Model = transport
  set Velocity = -x; -y; -z
  set Inflow density = exp(3 * t) * exp(-((exp(t) * x - 0.2)^2 + (exp(t) * y - 0.1)^2 + (exp(t) * z)^2) / (2 * s)) / (2 * pi * s)^1.5
  set Diffusion = 0
end
subsection Initial density
  set Expression = exp(-((x - 0.2)^2 + (y - 0.1)^2 + z^2) / (2 * s))
end
subsection Exact solution
  set Expression = exp(3 * t) * exp(-((exp(t) * x - 0.2)^2 + (exp(t) * y - 0.1)^2 + (exp(t) * z)^2) / (2 * s)) / (2 * pi * s)^1.5
end
subsection Time
  set End time = 0.25
  set Time step = 1
end
subsection Output
  set Interval = 0.125
end
)";

// The same flow carrying a cubic polynomial per coordinate: the DG space (Q3) holds the
// exact solution at all times, so the only error is that of the time stepping.
const std::string polynomial_compression = R"(
set Dimension = 3
set Constants = c = 3.933333333333333
subsection Mesh
  set Lower corner = -1, -1, -1
  set Upper corner = 1, 1, 1
  set Refinement = 1
end
subsection Physics
  set Model = transport
  set Velocity = -x; -y; -z
  set Inflow density = exp(3 * t) * (2 + 0.3 * exp(t) * x - 0.1 * (exp(t) * x)^2 + 0.02 * (exp(t) * x)^3) * (2 + 0.3 * exp(t) * y - 0.1 * (exp(t) * y)^2 + 0.02 * (exp(t) * y)^3) * (2 + 0.3 * exp(t) * z - 0.1 * (exp(t) * z)^2 + 0.02 * (exp(t) * z)^3) / c^3
  set Diffusion = 0
end
subsection Initial density
  set Expression = (2 + 0.3 * x - 0.1 * x^2 + 0.02 * x^3) * (2 + 0.3 * y - 0.1 * y^2 + 0.02 * y^3) * (2 + 0.3 * z - 0.1 * z^2 + 0.02 * z^3) / c^3
end
subsection Exact solution
  set Expression = exp(3 * t) * (2 + 0.3 * exp(t) * x - 0.1 * (exp(t) * x)^2 + 0.02 * (exp(t) * x)^3) * (2 + 0.3 * exp(t) * y - 0.1 * (exp(t) * y)^2 + 0.02 * (exp(t) * y)^3) * (2 + 0.3 * exp(t) * z - 0.1 * (exp(t) * z)^2 + 0.02 * (exp(t) * z)^3) / c^3
end
subsection Time
  set End time = 0.5
  set Time step = 1
end
subsection Discretization
  set Degree = 3
end
subsection Output
  set Interval = 0
end
)";

// b = -(I + J) grad V with V = a |x|^2 / 2, J = j [[0, 1], [-1, 0]]: the mean turns at
// angular speed a j while it decays, the covariance stays isotropic.
const std::string nonreversible_isotropic = R"(
set Dimension = 2
set Constants = a = 1, j = 2, s0 = 0.1, mx = 1, my = 0.5
subsection Mesh
  set Lower corner = -4, -4
  set Upper corner = 4, 4
end
subsection Physics
  set Model = transport
  set Potential = a * (x^2 + y^2) / 2
  set Potential gradient = a * x; a * y
  set Velocity = -j * a * y; j * a * x
  set Diffusion = 0.5
end
subsection Initial density
  set Expression = exp(-((x - mx)^2 + (y - my)^2) / (2 * s0))
end
subsection Exact solution
  set Expression = exp(-((x - exp(-a * t) * (cos(a * j * t) * mx - sin(a * j * t) * my))^2 + (y - exp(-a * t) * (sin(a * j * t) * mx + cos(a * j * t) * my))^2) / (2 * (s0 * exp(-2 * a * t) + eps / a * (1 - exp(-2 * a * t))))) / (2 * pi * (s0 * exp(-2 * a * t) + eps / a * (1 - exp(-2 * a * t))))
end
subsection Time
  set End time = 0.5
  set Time step = 0.001
  set Scheme = bdf2
end
subsection Output
  set Interval = 0.25
end
)";
} // namespace

// Smooth data: order >= p + 1/2 (the upwind-DG bound) after a full period.
TEST(TransportConvergence, SolidBodyRotation)
{
  expect_order(final_errors(rotation, refinements(1, {4, 5, 6})), 1.5, "rotation Q1");
  expect_order(final_errors(rotation, refinements(2, {3, 4, 5})), 2.5, "rotation Q2");
}

TEST(TransportConvergence, ReversingVortex)
{
  expect_order(final_errors(vortex, refinements(1, {5, 6})), 1.5, "vortex Q1");
  expect_order(final_errors(vortex, refinements(2, {4, 5, 6})), 2.5, "vortex Q2");
}

// With dt tied to h by the CFL number, this is the order in space and time together.
TEST(TransportConvergence, Compression3D)
{
  expect_order(final_errors(compression, refinements(1, {3, 4})), 1.5, "compression-3d Q1");
  expect_order(final_errors(compression, refinements(2, {2, 3})), 2.5, "compression-3d Q2");
}

// SSP-RK3 is third order in time: halving the CFL number divides the error by 8.
TEST(TransportConvergence, CompressionTimeOrderOfSSPRK3)
{
  std::vector<std::vector<std::string>> runs;
  for (const std::string cfl : {"0.12", "0.06", "0.03"})
    runs.push_back({"Time/CFL number=" + cfl});
  expect_order(
      final_errors(polynomial_compression, runs), 2.8, "SSP-RK3 on exactly represented data");
}

TEST(TransportConvergence, NonreversibleOrnsteinUhlenbeckSpace)
{
  expect_order(final_errors(nonreversible_isotropic, refinements(1, {4, 5, 6})),
               1.5,
               "non-reversible OU Q1");
  expect_order(final_errors(nonreversible_isotropic, refinements(2, {3, 4, 5})),
               2.5,
               "non-reversible OU Q2");
}

TEST(TransportConvergence, NonreversibleOrnsteinUhlenbeckTime)
{
  const std::vector<std::pair<std::string, double>> schemes = {
      {"backward-euler", 0.9}, {"crank-nicolson", 1.8}, {"bdf2", 1.8}};
  for (const auto &[scheme, order] : schemes)
    {
      std::vector<std::vector<std::string>> runs;
      for (const std::string dt : {"0.05", "0.025", "0.0125"})
        runs.push_back({"Discretization/Degree=3",
                        "Mesh/Refinement=5",
                        "Time/Scheme=" + scheme,
                        "Time/Time step=" + dt});
      expect_order(
          final_errors(nonreversible_isotropic, runs), order, "non-reversible OU " + scheme);
    }
}

// Anisotropic A = diag(1, 4): mean, covariance and KL(rho_t | pi) against the closed
// form (mean e^{-Bt} m0, S = S_inf + e^{-Bt}(S0 - S_inf)e^{-B^T t}, B = (I + J) A), for
// J = 0 and for j = 1, where B's eigenvalues 2.5 +- 1.32i make everything relax at rate
// 2.5 instead of lambda_min(A) = 1: the non-reversible drift reaches pi much sooner.
TEST(TransportInvariants, NonreversibleOrnsteinUhlenbeckAgainstClosedForm)
{
  const auto prm = [](const std::string &j) {
    return "set Dimension = 2\nset Constants = a1 = 1, a2 = 4, j = " + j +
           "\n"
           "subsection Mesh\n set Lower corner = -3, -3\n set Upper corner = 3, 3\n set Refinement "
           "= 5\nend\n"
           "subsection Physics\n set Model = transport\n set Potential = (a1 * x^2 + a2 * y^2) / "
           "2\n"
           " set Potential gradient = a1 * x; a2 * y\n set Velocity = -j * a2 * y; j * a1 * x\n"
           " set Diffusion = 0.5\nend\n"
           "subsection Initial density\n set Expression = exp(-((x - 1.5)^2 + (y - 0.5)^2) / (2 * "
           "0.1))\nend\n"
           "subsection Time\n set End time = 1.5\n set Time step = 0.005\n set Scheme = bdf2\nend\n"
           "subsection Discretization\n set Degree = 2\nend\n"
           "subsection Output\n set Interval = 0.25\nend\n";
  };
  Gaussian<2> initial, pi;
  initial.mean[0] = 1.5, initial.mean[1] = 0.5;
  initial.covariance  = 0.1 * unit_symmetric_tensor<2>();
  pi.covariance[0][0] = 0.5, pi.covariance[1][1] = 0.125; // eps A^{-1}
  std::vector<double> final_kl;
  for (const double j : {0.0, 1.0})
    {
      const RunResult result = run(prm(j == 0 ? "0" : "1"));
      Tensor<2, 2>    B; // (I + J) A
      B[0][0] = 1, B[0][1] = 4 * j, B[1][0] = -j, B[1][1] = 4;
      double mean_error = 0, covariance_error = 0, kl_error = 0;
      for (std::size_t row = 0; row < result.rows.size(); ++row)
        {
          const Gaussian<2> exact =
              linear_drift_gaussian(B, Tensor<1, 2>(), 0.5, initial, result.value(row, "time"));
          mean_error = std::max(mean_error,
                                std::hypot(result.value(row, "mean_x") - exact.mean[0],
                                           result.value(row, "mean_y") - exact.mean[1]));
          covariance_error =
              std::max({covariance_error,
                        std::abs(result.value(row, "cov_xx") - exact.covariance[0][0]),
                        std::abs(result.value(row, "cov_xy") - exact.covariance[0][1]),
                        std::abs(result.value(row, "cov_yy") - exact.covariance[1][1])});
          const double kl = kl_divergence(exact, pi);
          kl_error = std::max(kl_error, std::abs(result.value(row, "relative_entropy") - kl) / kl);
        }
      final_kl.push_back(result.last("relative_entropy"));
      if (root())
        std::cout << "  non-reversible OU, j = " << j << ": max |mean - exact| = " << mean_error
                  << ", max |cov - exact| = " << covariance_error
                  << ", max relative KL error = " << kl_error
                  << ", KL(t = 1.5) = " << result.last("relative_entropy") << std::endl;
      // Q2 on h = 6/32 with dt = 0.005 against variances down to 0.1: errors of 1e-4 to
      // 1e-3, i.e. below 2% of the smallest variance and of KL.
      EXPECT_LT(mean_error, 1e-3);
      EXPECT_LT(covariance_error, 2e-3);
      EXPECT_LT(kl_error, 2e-2);
    }
  // Closed forms: KL(1.5) = 0.11 for J = 0 and 3.3e-4 for j = 1.
  EXPECT_LT(final_kl[1], final_kl[0] / 20);
}

// Zalesak's slotted disc: the limited scheme keeps rho >= 0 at every output; without
// the limiter the same scheme undershoots, so the test tells the two apart.
TEST(TransportInvariants, LimiterKeepsSlottedDiscNonNegative)
{
  const std::string disc    = R"(
set Dimension = 2
set Constants = omega = 6.283185307179586
subsection Mesh
  set Lower corner = -1, -1
  set Upper corner = 1, 1
  set Refinement = 5
end
subsection Physics
  set Model = transport
  set Velocity = -omega * y; omega * x
  set Diffusion = 0
end
subsection Initial density
  set Expression = if((x - 0.4)^2 + y^2 < 0.0625 && (abs(y) > 0.05 || x > 0.5), 1, 0)
end
subsection Time
  set End time = 0.5
  set Time step = 1
end
subsection Discretization
  set Degree = 2
end
subsection Output
  set Interval = 0.05
end
)";
  const RunResult   limited = run(disc);
  ASSERT_EQ(limited.rows.size(), 11u);
  for (std::size_t row = 0; row < limited.rows.size(); ++row)
    {
      EXPECT_GE(limited.value(row, "min_density"), 0.0) << "t = " << limited.value(row, "time");
      EXPECT_EQ(limited.value(row, "negative_mass"), 0.0);
    }
  const RunResult unlimited = run(disc, {"Discretization/Limiter=false"});
  double          minimum   = 0;
  for (std::size_t row = 0; row < unlimited.rows.size(); ++row)
    minimum = std::min(minimum, unlimited.value(row, "min_density"));
  EXPECT_LT(minimum, -1e-2) << "without the limiter the scheme should undershoot";
}

// mass + outflow_mass stays at 1 to round-off: with outflow (rotation, the corners
// cut the density's path when it is wide), inflow (compression) and implicit steps.
TEST(TransportInvariants, MassBalance)
{
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {rotation,
       {"Discretization/Degree=1",
        "Mesh/Refinement=3",
        "Initial density/Expression=exp(-((x - 0.4)^2 + y^2) / 0.4)"}},
      {compression, {"Discretization/Degree=1", "Mesh/Refinement=3", "Constants=s = 0.2"}},
      {nonreversible_isotropic,
       {"Mesh/Refinement=3",
        "Mesh/Lower corner=-1.5, -1.5",
        "Mesh/Upper corner=1.5, 1.5",
        "Time/Time step=0.01"}},
      {nonreversible_isotropic,
       {"Mesh/Refinement=3",
        "Mesh/Lower corner=-1.5, -1.5",
        "Mesh/Upper corner=1.5, 1.5",
        "Time/Time step=0.01",
        "Time/Scheme=crank-nicolson"}}};
  for (const auto &[prm, overrides] : cases)
    {
      const RunResult result = run(prm, overrides);
      EXPECT_GT(std::abs(result.last("outflow_mass")), 1e-6)
          << "the case should move mass through the boundary";
      for (std::size_t row = 0; row < result.rows.size(); ++row)
        EXPECT_NEAR(result.value(row, "mass") + result.value(row, "outflow_mass"), 1.0, 1e-12)
            << overrides[0] << " " << overrides.back() << " row " << row;
    }
}

// The three ways b can be given must agree: the vortex with its time factor separate
// (operator assembled for w and -w once), and the same with cos(pi t / T) written into
// the velocity (operator reassembled at every stage).
TEST(TransportInvariants, TimeDependentVelocityPathsAgree)
{
  const std::vector<std::string> coarse = {
      "Discretization/Degree=1", "Mesh/Refinement=4", "Output/Interval=0.25"};
  const RunResult          separable = run(vortex, coarse);
  std::vector<std::string> general   = coarse;
  general.push_back("Physics/Velocity time factor=1");
  general.push_back(
      "Physics/Velocity=-2 * sin(pi * x)^2 * sin(pi * y) * cos(pi * y) * cos(pi * t / T); "
      "2 * sin(pi * x) * cos(pi * x) * sin(pi * y)^2 * cos(pi * t / T)");
  const RunResult reassembled = run(vortex, general);
  ASSERT_EQ(separable.rows.size(), reassembled.rows.size());
  for (const std::string column : {"step",
                                   "mass",
                                   "min_density",
                                   "mean_x",
                                   "mean_y",
                                   "cov_xx",
                                   "cov_xy",
                                   "cov_yy",
                                   "l2_error"})
    for (std::size_t row = 0; row < separable.rows.size(); ++row)
      EXPECT_NEAR(separable.value(row, column),
                  reassembled.value(row, column),
                  1e-11 * std::max(1.0, std::abs(separable.value(row, column))))
          << column << " in row " << row;
}
