// The interaction model's kernels other than Riesz, and eps > 0 by IMEX-SSP3(4,3,3).
// - Gaussian W(z) = exp(-|z|^2 / (2 s^2)) against the convolution of two Gaussians: for
//   mu = N(m, v), (W * mu)(x) = s / sqrt(s^2 + v) exp(-(x - m)^2 / (2 (s^2 + v))), so
//   -grad(W * mu)(x) = s (x - m) / (s^2 + v)^{3/2} exp(-(x - m)^2 / (2 (s^2 + v))) and
//   1/2 int int W dmu dmu = 1/2 s / sqrt(s^2 + 2 v).
// - attractive-repulsive W(z) = |z|^a / a - |z|^b / b against its formula at two atoms;
//   a = 2 without repulsion: -grad(W * mu)(x) = -(x mu(R) - int y dmu) for any atoms.
// - the OU closed form of the IMEX step: with W = |z|^2 / 2, V = 0, unit mass,
//   grad(W * rho)(x) = x - m with m = mean(rho), which the flow keeps, so
//   d/dt rho = div(rho (x - m)) + eps Laplace rho is an Ornstein-Uhlenbeck process about m:
//   a Gaussian N(m, S0) stays Gaussian with S(t) = S0 e^{-2t} + eps (1 - e^{-2t})
//   (S' = -2 S + 2 eps). The free energy F = S/2 + eps int rho log rho has
//   F' = -(S - eps)^2 / S <= 0.
#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/interaction/interaction_field.h>
#include <densityflow/solvers/interaction/interaction_kernel.h>
#include <densityflow/solvers/interaction/interaction_solver.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping_q.h>

#include <gtest/gtest.h>

#include <cmath>
#include <iomanip>
#include <random>

#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
InteractionParameters
kernel_parameters(const InteractionKernel type, const double width, const double a, const double b)
{
  InteractionParameters parameters;
  parameters.kernel              = type;
  parameters.width               = width;
  parameters.attractive_exponent = a;
  parameters.repulsive_exponent  = b;
  return parameters;
}

bool root()
{
  return Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
}

/** The atoms of N(m, v) by the n-point Gauss rule on @p cells cells of m -+ 10 sqrt(v). */
void gaussian_atoms(const double           m,
                    const double           v,
                    const unsigned int     cells,
                    const unsigned int     n,
                    std::vector<Point<1>> &points,
                    std::vector<double>   &weights)
{
  const QGauss<1> gauss(n);
  const double    lower = m - 10 * std::sqrt(v), h = 20 * std::sqrt(v) / cells;
  points.clear();
  weights.clear();
  for (unsigned int c = 0; c < cells; ++c)
    for (unsigned int q = 0; q < n; ++q)
      {
        const double x = lower + h * (c + gauss.point(q)[0]);
        points.emplace_back(x);
        weights.push_back(std::exp(-(x - m) * (x - m) / (2 * v)) / std::sqrt(2 * M_PI * v) * h *
                          gauss.weight(q));
      }
}
} // namespace

// The Gaussian kernel's velocity and energy of the quadrature atoms of a Gaussian mu
// against the closed forms. The integrands are smooth: the n-point Gauss rule on cells of
// size h is off by O(h^{2n}); with n = 3 the error falls at order ~6 from 20 to 40 cells.
TEST(GaussianKernel, VelocityOfAGaussianMeasure)
{
  const double s = 0.5, m = 0.3, v = 0.04;
  const auto   exact_velocity = [&](const double x) {
    const double w = s * s + v;
    return s * (x - m) / std::pow(w, 1.5) * std::exp(-(x - m) * (x - m) / (2 * w));
  };
  const double        exact_energy = 0.5 * s / std::sqrt(s * s + 2 * v);
  std::vector<double> velocity_errors, energy_errors;
  for (const unsigned int cells : {20u, 40u})
    {
      std::vector<Point<1>> points;
      std::vector<double>   weights;
      gaussian_atoms(m, v, cells, 3, points, weights);
      InteractionField<1> field(
          RadialKernel(kernel_parameters(InteractionKernel::gaussian, s, 2, 1)),
          InteractionSummation::automatic);
      ASSERT_EQ(field.summation(), InteractionSummation::direct);
      field.set_atoms(points, weights);
      double largest = 0;
      for (int k = 0; k <= 100; ++k)
        {
          const double x = m - 1 + 2 * k / 100.0;
          largest = std::max(largest, std::abs(field.velocity(Point<1>(x))[0] - exact_velocity(x)));
        }
      velocity_errors.push_back(largest);
      energy_errors.push_back(std::abs(field.energy() - exact_energy));
      EXPECT_GT(field.energy(), 0); // positive definite
    }
  if (root())
    std::cout << "Gaussian kernel: velocity errors " << velocity_errors[0] << " "
              << velocity_errors[1] << ", energy errors " << energy_errors[0] << " "
              << energy_errors[1] << std::endl;
  EXPECT_LT(velocity_errors[1], 1e-9);
  EXPECT_LT(energy_errors[1], 1e-9);
  EXPECT_GT(observed_order(velocity_errors[0], velocity_errors[1]), 5);
  EXPECT_THROW(
      InteractionField<1>(RadialKernel(kernel_parameters(InteractionKernel::gaussian, s, 2, 1)),
                          InteractionSummation::sorted),
      InputError);
}

// Two atoms: -grad(W * mu)(x) = sum_j w_j (|d_j|^{b-2} - |d_j|^{a-2}) d_j, and the energy
// 1/2 sum_ij W w_i w_j = W(|y_0 - y_1|) w_0 w_1 (W(0) = 0).
TEST(AttractiveRepulsiveKernel, TwoAtomsAndTheQuadraticCase)
{
  const double        a = 3, b = 0.5;
  InteractionField<2> field(
      RadialKernel(kernel_parameters(InteractionKernel::attractive_repulsive, 1, a, b)),
      InteractionSummation::automatic);
  const Point<2> y0(0, 0), y1(1, 1), x(2, 0.5);
  field.set_atoms({y0, y1}, {0.5, -2});
  Tensor<1, 2> expected;
  for (const auto &[y, w] : {std::pair{y0, 0.5}, std::pair{y1, -2.0}})
    {
      const Tensor<1, 2> d = x - y;
      expected += w * (std::pow(d.norm(), b - 2) - std::pow(d.norm(), a - 2)) * d;
    }
  EXPECT_NEAR((field.velocity(x) - expected).norm(), 0, 1e-14);
  const double n = y0.distance(y1);
  EXPECT_NEAR(field.energy(), (std::pow(n, a) / a - std::pow(n, b) / b) * 0.5 * -2, 1e-14);

  // a = 2, no repulsive term, random signed atoms: -(x sum w - sum w y), to round-off.
  std::mt19937_64                        random(3);
  std::uniform_real_distribution<double> position(-1, 2), weight(-1, 1);
  std::vector<Point<1>>                  points(500);
  std::vector<double>                    weights(500);
  double                                 mass = 0, first_moment = 0;
  for (unsigned int j = 0; j < points.size(); ++j)
    {
      points[j][0] = position(random);
      weights[j]   = weight(random);
      mass += weights[j];
      first_moment += weights[j] * points[j][0];
    }
  InteractionField<1> quadratic(
      RadialKernel(kernel_parameters(InteractionKernel::attractive_repulsive, 1, 2, 0)),
      InteractionSummation::automatic);
  quadratic.set_atoms(points, weights);
  for (const double x1 : {-0.7, 0.1, 1.9})
    EXPECT_NEAR(quadratic.velocity(Point<1>(x1))[0], -(x1 * mass - first_moment), 1e-12);
}

// Kernel parameters out of range: one InputError naming the parameter.
TEST(InteractionKernel, BadParametersAreInputErrors)
{
  const std::string head = "set Dimension = 1\nsubsection Physics\n  set Model = interaction\nend\n"
                           "subsection Interaction\n  subsection Kernel\n";
  const auto        message = [&](const std::string &kernel, const std::string &more = "") {
    try
      {
        run(head + kernel + "  end\n" + more + "end\n");
      }
    catch (const InputError &error)
      {
        return std::string(error.what());
      }
    return std::string("no error");
  };
  const std::string ar = "    set Type = attractive-repulsive\n";
  EXPECT_NE(message(ar + "    set Repulsive exponent = 0\n").find("Repulsive exponent"),
            std::string::npos);
  EXPECT_NE(message(ar + "    set Repulsive exponent = 2\n").find("Repulsive exponent"),
            std::string::npos);
  EXPECT_NE(message(ar + "    set Repulsive exponent = one\n").find("Repulsive exponent"),
            std::string::npos);
  EXPECT_NE(message(ar + "    set Attractive exponent = -1\n").find("Attractive exponent"),
            std::string::npos);
  EXPECT_NE(message("    set Type = gaussian\n    set Width = 0\n").find("Width"),
            std::string::npos);
  EXPECT_NE(message("    set Type = gaussian\n", "  set Velocity summation = sorted\n")
                .find("Velocity summation"),
            std::string::npos);
}

namespace
{
/** The OU problem: W = |z|^2 / 2, eps, Gaussian rho0 = N(m, S0) on m -+ 2. */
struct OrnsteinUhlenbeck
{
  double m = 0.25, S0 = 0.04, eps = 0.1;

  double S(const double t) const { return S0 * std::exp(-2 * t) + eps * (1 - std::exp(-2 * t)); }

  std::string problem(const unsigned int refinement,
                      const unsigned int degree,
                      const double       end_time,
                      const double       time_step,
                      const bool         transport = false) const
  {
    std::ostringstream out;
    out << std::setprecision(17) << "set Dimension = 1\nset Constants = m = " << m
        << ", S0 = " << S0 << "\n"
        << "subsection Mesh\n  set Lower corner = " << m - 2 << "\n  set Upper corner = " << m + 2
        << "\n  set Refinement = " << refinement << "\nend\n"
        << "subsection Physics\n  set Model = " << (transport ? "transport" : "interaction")
        << "\n  set Diffusion = " << eps << "\n"
        << (transport ? "  set Potential = (x - m)^2 / 2\n  set Potential gradient = x - m\n" : "")
        << "end\n"
        << "subsection Interaction\n  subsection Kernel\n    set Type = attractive-repulsive\n"
        << "    set Attractive exponent = 2\n    set Repulsive exponent = none\n  end\nend\n"
        << "subsection Initial density\n  set Expression = exp(-(x - m)^2 / (2 * S0))\nend\n"
        << "subsection Exact solution\n  set Expression = exp(-(x - m)^2 / (2 * (S0 * exp(-2 * "
           "t) + eps * (1 - exp(-2 * t))))) / sqrt(2 * pi * (S0 * exp(-2 * t) + eps * (1 - "
           "exp(-2 * t))))\nend\n"
        << "subsection Time\n  set End time = " << end_time << "\n  set Time step = " << time_step
        << (transport ? "\n  set Scheme = imex-ssp3" : "") << "\nend\n"
        << "subsection Discretization\n  set Degree = " << degree << "\nend\n"
        << "subsection Linear solver\n  set Tolerance = 1e-13\nend\n"
        << "subsection Output\n  set Interval = " << end_time / 5 << "\nend\n";
    return out.str();
  }
};

/** rho_h at the Gauss points (p + 3) of the owned cells of a finished run, in cell order. */
std::vector<double> density_values(const Simulation<1> &simulation, std::vector<double> &JxW)
{
  const auto     &solver = simulation.solver();
  const auto     &dofs   = dynamic_cast<const InteractionSolver<1> &>(solver).get_dof_handler();
  const QGauss<1> gauss(dofs.get_fe().degree + 3);
  MappingQ<1>     mapping(1);
  FEValues<1>     fe_values(
      mapping, dofs.get_fe(), gauss, update_quadrature_points | update_JxW_values);
  std::vector<double> values, rho;
  JxW.clear();
  for (const auto &cell : dofs.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        solver.density_at(cell, fe_values.get_quadrature_points(), rho);
        values.insert(values.end(), rho.begin(), rho.end());
        for (unsigned int q = 0; q < gauss.size(); ++q)
          JxW.push_back(fe_values.JxW(q));
      }
  return values;
}
} // namespace

// Space: the L2 error at T = 0.5 against N(m, S(T)) at h, h/2, h/4 (CFL-limited steps, whose
// O(dt^3) error is far below): order > p + 1 - 0.3. cov_xx and mean_x of rho_h are within
// ||(x - m)^2||_L2 and ||x - m||_L2 (on m -+ 2: sqrt(12.8), sqrt(16/3)) times the L2 error
// of S(T) and m. Mass (no outflow: b.n < 0 on the boundary, inflow density 0) is kept to
// 1e-12, the free energy does not increase and min density is reported (> 0 here).
TEST(InteractionImex, OrnsteinUhlenbeckConvergesInSpace)
{
  const OrnsteinUhlenbeck ou;
  const double            T = 0.5;
  for (const unsigned int degree : {1u, 2u})
    {
      std::vector<double> errors;
      for (unsigned int r = 5; r < 8; ++r)
        {
          const RunResult result = run(ou.problem(r, degree, T, 1));
          errors.push_back(result.last("l2_error"));
          EXPECT_NEAR(result.last("cov_xx"), ou.S(T), std::sqrt(12.8) * errors.back() + 1e-12);
          EXPECT_NEAR(result.last("mean_x"), ou.m, std::sqrt(16.0 / 3) * errors.back() + 1e-12);
          for (std::size_t k = 0; k < result.rows.size(); ++k)
            {
              EXPECT_NEAR(result.value(k, "mass") + result.value(k, "outflow_mass"), 1, 1e-12);
              EXPECT_NEAR(result.value(k, "outflow_mass"), 0, 1e-12);
              if (k > 0)
                {
                  EXPECT_LE(result.value(k, "free_energy"), result.value(k - 1, "free_energy"));
                }
            }
          if (root())
            std::cout << "Q" << degree << " r " << r << ": L2 error " << errors.back()
                      << " cov_xx - S(T) " << result.last("cov_xx") - ou.S(T) << " mean_x - m "
                      << result.last("mean_x") - ou.m << " min density "
                      << result.last("min_density") << " F(T) " << result.last("free_energy")
                      << " (exact S/2 - eps/2 log(2 pi e S) = "
                      << ou.S(T) / 2 - ou.eps / 2 * std::log(2 * M_PI * M_E * ou.S(T)) << ")"
                      << std::endl;
        }
      if (root())
        std::cout << "Q" << degree << " orders " << observed_order(errors[0], errors[1]) << " "
                  << observed_order(errors[1], errors[2]) << std::endl;
      EXPECT_GT(observed_order(errors[1], errors[2]), degree + 1 - 0.3) << "Q" << degree;
    }
}

// Time: on one mesh (32 cells, Q1), the L2 distance of rho_h(T) at dt, dt/2, dt/4 to a run
// at dt/32 (the space error cancels; the reference's own error is 32^3 times smaller).
// IMEX-SSP3(4,3,3) is third order; at dt = 0.01 (0.44 of the CFL step 0.36 h / 2 = 0.0225)
// it is not yet asymptotic (measured orders 2.54, 2.74; 2.16 from dt = 0.02), so the
// observed order must exceed 2.4 (the issue asks for 2; a first-order coupling gives 1).
TEST(InteractionImex, OrnsteinUhlenbeckConvergesInTime)
{
  const OrnsteinUhlenbeck ou;
  const double            T             = 0.4;
  const auto              final_density = [&](const double dt, std::vector<double> &JxW) {
    const ProblemParameters parameters =
        ProblemParameters::from_string(ou.problem(5, 1, T, dt), {"Output/Write files=false"});
    std::ostringstream log;
    Simulation<1>      simulation(parameters, MPI_COMM_WORLD, log);
    simulation.run();
    return density_values(simulation, JxW);
  };
  std::vector<double>       JxW;
  const std::vector<double> reference = final_density(0.01 / 32, JxW);
  std::vector<double>       errors;
  for (const double dt : {0.01, 0.005, 0.0025})
    {
      const std::vector<double> rho   = final_density(dt, JxW);
      double                    error = 0;
      for (std::size_t k = 0; k < rho.size(); ++k)
        error += std::pow(rho[k] - reference[k], 2) * JxW[k];
      errors.push_back(std::sqrt(Utilities::MPI::sum(error, MPI_COMM_WORLD)));
    }
  if (root())
    std::cout << "time errors " << errors[0] << " " << errors[1] << " " << errors[2] << " orders "
              << observed_order(errors[0], errors[1]) << " " << observed_order(errors[1], errors[2])
              << std::endl;
  EXPECT_GT(observed_order(errors[0], errors[1]), 2.4);
  EXPECT_GT(observed_order(errors[1], errors[2]), 2.4);
}

// The transport model with V = (x - m)^2 / 2 and Time/Scheme = imex-ssp3 is the same OU
// equation with b = -(x - m) given (the interaction's is -(x - m_h), m_h the mean of the
// atoms, m to 1e-16): the two runs agree to round-off, and IMEXIntegrator serves both.
TEST(InteractionImex, TransportModelTakesTheSameSteps)
{
  const OrnsteinUhlenbeck ou;
  const RunResult         interaction = run(ou.problem(5, 2, 0.5, 1));
  const RunResult         transport   = run(ou.problem(5, 2, 0.5, 1, true));
  ASSERT_EQ(interaction.rows.size(), transport.rows.size());
  for (const char *column : {"l2_error", "cov_xx", "free_energy", "mass"})
    EXPECT_NEAR(transport.last(column), interaction.last(column), 1e-10) << column;
  if (root())
    std::cout << "transport - interaction: l2_error "
              << transport.last("l2_error") - interaction.last("l2_error") << " cov_xx "
              << transport.last("cov_xx") - interaction.last("cov_xx") << std::endl;
}

// 1 and 2 ranks: the atoms are gathered and sorted and CG with Jacobi does not depend on
// the partition but for the order of its reductions: the columns agree to 1e-10.
TEST(InteractionImex, SameOnOneAndTwoRanks)
{
  const std::string prm = OrnsteinUhlenbeck().problem(5, 2, 0.2, 1);
  const RunResult   all = run(prm, {}, MPI_COMM_WORLD);
  RunResult         one;
  if (root())
    one = run(prm, {}, MPI_COMM_SELF);
  one.rows = Utilities::MPI::broadcast(MPI_COMM_WORLD, one.rows, 0);
  ASSERT_EQ(one.rows.size(), all.rows.size());
  double largest = 0;
  for (std::size_t k = 0; k < all.rows.size(); ++k)
    for (const char *column : {"free_energy", "mass", "min_density", "mean_x", "cov_xx"})
      {
        const std::size_t c =
            std::find(all.columns.begin(), all.columns.end(), column) - all.columns.begin();
        largest = std::max(largest, std::abs(one.rows[k][c] - all.value(k, column)));
        EXPECT_NEAR(one.rows[k][c], all.value(k, column), 1e-10) << column << " row " << k;
      }
  if (root())
    std::cout << "1 vs 2 ranks: largest difference " << largest << std::endl;
}
