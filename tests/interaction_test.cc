// The interaction model (Physics/Model = interaction), 1D, Riesz r = 1, eps = 0, against
// the closed forms of its quantile function Q(s, t):
// - the MMD flow to nu = U[0, 1]: velocity 2 (F_rho - F_nu), Q = s + (Q0 - s) e^{-2t};
// - confinement V = x^2/2 with W = -|z|: velocity -x + 2 F_rho - 1,
//   Q = (2s - 1) + (Q0 - (2s - 1)) e^{-t}, stationary state uniform on [-1, 1].
// rho0 = F0' with F0 a smooth increasing map of the support onto [0, 1], so that rho_t is
// smooth and positive on the (fixed) support, which is the mesh: rho_t(x) = rho0(y) / X'(y)
// at the x = X(y, t) that y started from.
#include <densityflow/base/exceptions.h>
#include <densityflow/distances/sorted_atoms.h>
#include <densityflow/solvers/interaction/interaction_field.h>
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
/**
 * A flow whose quantiles move as Q = A(s) + (Q0(s) - A(s)) e^{-k t} from rho0 = F0' on
 * [lower, upper] = the target's support, with F0(y) = (y - lower) / (upper - lower) +
 * b sin(2 pi (y - lower) / (upper - lower)) / (2 pi).
 */
struct QuantileFlow
{
  double lower, upper, b, k;
  /** Whether nu = U[lower, upper] is the target (the MMD flow), else V = x^2/2 (aggregation). */
  bool target;
  /** The problem file's Physics and Interaction subsections. */
  std::string physics;

  double width() const { return upper - lower; }
  double F0(const double y) const
  {
    const double u = (y - lower) / width();
    return u + b * std::sin(2 * M_PI * u) / (2 * M_PI);
  }
  double rho0(const double y) const
  {
    return (1 + b * std::cos(2 * M_PI * (y - lower) / width())) / width();
  }
  /** The target quantile A(s) (uniform on [lower, upper]) and its derivative. */
  double A(const double s) const { return lower + width() * s; }
  /** X(y, t) and dX/dy. */
  double X(const double y, const double t) const
  {
    const double a = A(F0(y));
    return a + (y - a) * std::exp(-k * t);
  }
  double density(const double x, const double t) const
  {
    double lo = lower, hi = upper;
    for (int i = 0; i < 200 && hi - lo > 1e-15; ++i)
      (X((lo + hi) / 2, t) < x ? lo : hi) = (lo + hi) / 2;
    const double y = (lo + hi) / 2, e = std::exp(-k * t);
    return rho0(y) / (width() * rho0(y) * (1 - e) + e);
  }

  /**
   * E(rho_t) = int V rho + 1/2 MMD^2 by the map y -> X(y, t) (Gauss-Legendre in y, 2000
   * panels): for the MMD flow (target) int (F0(y) - G(X))^2 X_y dy with G the target's CDF;
   * for the aggregation int X^2/2 rho0 dy - int F0 (1 - F0) X_y dy.
   */
  double energy(const double t, const bool target) const
  {
    const double e = std::exp(-k * t), n = 2000, h = width() / n;
    const double g[2] = {0.5 - 0.5 / std::sqrt(3.0), 0.5 + 0.5 / std::sqrt(3.0)};
    double       sum  = 0;
    for (int i = 0; i < n; ++i)
      for (const double gq : g)
        {
          const double y = lower + (i + gq) * h, F = F0(y), x = X(y, t);
          const double Xy = width() * rho0(y) * (1 - e) + e;
          if (target)
            sum += std::pow(F - (x - lower) / width(), 2) * Xy * h / 2;
          else
            sum += (x * x / 2 * rho0(y) - F * (1 - F) * Xy) * h / 2;
        }
    return sum;
  }

  std::string problem(const unsigned int refinement,
                      const unsigned int degree,
                      const double       end_time,
                      const std::string &summation = "automatic") const
  {
    std::ostringstream out;
    out << std::setprecision(17) << "set Dimension = 1\n"
        << "subsection Mesh\n  set Lower corner = " << lower << "\n  set Upper corner = " << upper
        << "\n  set Refinement = " << refinement << "\nend\n"
        << physics << "subsection Interaction\n  set Velocity summation = " << summation
        << "\nend\n"
        << "subsection Initial density\n  set Expression = 1 + " << b << " * cos(2 * pi * (x - ("
        << lower << ")) / " << width() << ")\nend\n"
        << "subsection Time\n  set End time = " << end_time
        << "\n  set Time step = 1\nend\n" // CFL-limited: dt ~ h, time error O(h^3)
        << "subsection Discretization\n  set Degree = " << degree << "\nend\n"
        << "subsection Output\n  set Interval = " << end_time / 4 << "\nend\n";
    return out.str();
  }
};

QuantileFlow mmd_flow()
{
  return {0,
          1,
          0.6,
          2,
          true,
          "subsection Physics\n  set Model = interaction\n  set Diffusion = 0\nend\n"
          "subsection Interaction\n  subsection Target\n    set Density = 1\n  end\nend\n"};
}

QuantileFlow aggregation_flow()
{
  return {-1,
          1,
          0.6,
          1,
          false,
          "subsection Physics\n  set Model = interaction\n  set Diffusion = 0\n"
          "  set Potential = x^2 / 2\n  set Potential gradient = x\nend\n"};
}

struct FlowResult
{
  double    l2_error;
  RunResult diagnostics;
};

/** ||rho_h - rho||_L2 at the end time of the problem (Gauss rule p + 3). */
FlowResult run_flow(const QuantileFlow &flow, const std::string &prm)
{
  const ProblemParameters parameters =
      ProblemParameters::from_string(prm, {"Output/Write files=false"});
  std::ostringstream log;
  Simulation<1>      simulation(parameters, MPI_COMM_WORLD, log);
  simulation.run();
  const auto     &solver = dynamic_cast<const InteractionSolver<1> &>(simulation.solver());
  const double    t      = solver.time();
  const auto     &dofs   = solver.get_dof_handler();
  const QGauss<1> gauss(dofs.get_fe().degree + 3);
  MappingQ<1>     mapping(1);
  FEValues<1>     fe_values(
      mapping, dofs.get_fe(), gauss, update_quadrature_points | update_JxW_values);
  double              error = 0;
  std::vector<double> rho;
  for (const auto &cell : dofs.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        solver.density_at(cell, fe_values.get_quadrature_points(), rho);
        for (unsigned int q = 0; q < gauss.size(); ++q)
          error += std::pow(rho[q] - flow.density(fe_values.quadrature_point(q)[0], t), 2) *
                   fe_values.JxW(q);
      }
  return {std::sqrt(Utilities::MPI::sum(error, MPI_COMM_WORLD)), result_of(simulation)};
}
} // namespace

// The sorted sum mu(y < x) - mu(y > x) is the direct sum of w_j sign(x - y_j) to
// round-off, at random signed atoms (with repeated positions) and at points that are
// atoms and points that are not; so is the energy -1/2 sum_ij |y_i - y_j| w_i w_j.
TEST(InteractionField, SortedEqualsDirectSummation)
{
  std::mt19937_64                        random(7);
  std::uniform_real_distribution<double> position(-2, 3), weight(-1, 1);
  const unsigned int                     n = 3000; // above the radix sort's threshold
  std::vector<Point<1>>                  points(n);
  std::vector<double>                    weights(n);
  double                                 total = 0;
  for (unsigned int j = 0; j < n; ++j)
    {
      points[j][0] = j % 10 == 0 ? points[j / 2][0] : position(random);
      weights[j]   = weight(random);
      total += std::abs(weights[j]);
    }
  InteractionField<1> field(1.0, InteractionSummation::automatic);
  ASSERT_EQ(field.summation(), InteractionSummation::sorted);
  field.set_atoms(points, weights);
  // Each sum has n terms of size <= max |w|: round-off below n eps sum|w| (generous).
  const double tolerance = n * std::numeric_limits<double>::epsilon() * total;
  double       largest   = 0;
  for (unsigned int k = 0; k < 2000; ++k)
    {
      const Point<1> x(k % 2 ? points[k][0] : position(random));
      const double   sorted = field.velocity(x)[0], direct = field.velocity_direct(x)[0];
      largest = std::max(largest, std::abs(sorted - direct));
    }
  EXPECT_LT(largest, tolerance);
  EXPECT_GT(std::abs(field.velocity(points[0])[0]), 1e-3); // not trivially zero

  InteractionField<1> direct(1.0, InteractionSummation::direct);
  direct.set_atoms(points, weights);
  EXPECT_NEAR(field.energy(), direct.energy(), n * tolerance);
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    std::cout << "sorted - direct: velocity " << largest << " (tolerance " << tolerance
              << "), energy " << field.energy() - direct.energy() << std::endl;
}

// With the cell rule, at the Gauss points of each cell the velocity is exact for a density
// of degree < n: 2 F(x) - m for rho = 1 + x + x^2 on cells of [0, 1] (3 Gauss points each),
// by sorting and by direct summation; without it the atoms' step function is off by O(h).
TEST(InteractionField, CellRuleIsExactForPolynomials)
{
  const QGauss<1>       gauss(3);
  std::vector<double>   unit_points, unit_weights;
  std::vector<Point<1>> points;
  std::vector<double>   weights;
  for (unsigned int q = 0; q < gauss.size(); ++q)
    unit_points.push_back(gauss.point(q)[0]), unit_weights.push_back(gauss.weight(q));
  const std::vector<double> vertices = {0, 0.05, 0.2, 0.3, 0.55, 0.6, 0.8, 1};
  for (std::size_t c = 0; c + 1 < vertices.size(); ++c)
    for (unsigned int q = 0; q < gauss.size(); ++q)
      {
        const double h = vertices[c + 1] - vertices[c], x = vertices[c] + h * unit_points[q];
        points.emplace_back(x);
        weights.push_back((1 + x + x * x) * h * unit_weights[q]);
      }
  const auto F = [](const double x) { return x + x * x / 2 + x * x * x / 3; };
  for (const auto summation : {InteractionSummation::sorted, InteractionSummation::direct})
    {
      InteractionField<1> field(1.0, summation), plain(1.0, summation);
      field.set_cell_rule(unit_points, unit_weights);
      field.set_atoms(points, weights);
      plain.set_atoms(points, weights);
      double largest = 0, plain_largest = 0;
      for (const Point<1> &x : points)
        {
          const double exact = 2 * F(x[0]) - F(1);
          largest            = std::max(largest, std::abs(field.velocity(x)[0] - exact));
          plain_largest      = std::max(plain_largest, std::abs(plain.velocity(x)[0] - exact));
        }
      EXPECT_LT(largest, 1e-14);
      EXPECT_GT(plain_largest, 1e-3);
      // At the faces the atoms' sum is exact by itself.
      for (const double v : vertices)
        EXPECT_NEAR(field.velocity(Point<1>(v))[0], 2 * F(v) - F(1), 1e-14);
    }
}

// The direct sum for r != 1 against the kernel's formula r |d|^{r-2} d for two atoms.
TEST(InteractionField, RieszVelocityOfTwoAtoms)
{
  InteractionField<2> field(1.5, InteractionSummation::automatic);
  EXPECT_EQ(field.summation(), InteractionSummation::direct);
  field.set_atoms({Point<2>(0, 0), Point<2>(1, 1)}, {0.5, -2});
  const Point<2>     x(2, 0);
  const Tensor<1, 2> d0 = x - Point<2>(0, 0), d1 = x - Point<2>(1, 1);
  const Tensor<1, 2> expected =
      1.5 * (0.5 * std::pow(d0.norm(), -0.5) * d0 - 2 * std::pow(d1.norm(), -0.5) * d1);
  const Tensor<1, 2> v = field.velocity(x);
  EXPECT_NEAR((v - expected).norm(), 0, 1e-14);
  // 1/2 sum_ij W w_i w_j = -|y_0 - y_1|^1.5 w_0 w_1.
  EXPECT_NEAR(field.energy(), -std::pow(std::sqrt(2.0), 1.5) * 0.5 * -2, 1e-14);
  EXPECT_THROW(InteractionField<2>(1.5, InteractionSummation::sorted), InputError);
}

namespace
{
/** The L2 errors at refinements r0, r0 + 1, r0 + 2 and the observed orders, printed. */
std::vector<double> errors_under_refinement(const QuantileFlow &flow,
                                            const unsigned int  degree,
                                            const unsigned int  r0,
                                            const double        end_time)
{
  std::vector<double> errors, energy_errors;
  for (unsigned int r = r0; r < r0 + 3; ++r)
    {
      const FlowResult result = run_flow(flow, flow.problem(r, degree, end_time));
      errors.push_back(result.l2_error);
      energy_errors.push_back(
          std::abs(result.diagnostics.last("free_energy") - flow.energy(end_time, flow.target)));
      // E_h sums W over the atoms: Gauss x Gauss is exact for |x - y| on pairs of distinct
      // cells (linear there); on the diagonal cells K x K it is off by at most
      // 1/2 max|rho - nu|^2 h^3 / 3 each (int int_{[0,1]^2} |x - y| = 1/3, the rule's sum of
      // non-negative terms no more), so by max|rho - nu|^2 h^2 / 6 <= h^2 / 6 in all; the
      // error of rho_h adds at most 2 ||rho_h - rho||_L1 <= 2 sqrt(|Omega|) ||.||_L2 (|W * mu|
      // <= 1 for the unit-mass rho, nu).
      const double h = flow.width() / (1u << r);
      EXPECT_LT(energy_errors.back(), h * h / 6 + 2 * std::sqrt(flow.width()) * result.l2_error)
          << "refinement " << r;
    }
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    {
      std::cout << "Q" << degree << " energy errors:";
      for (const double e : energy_errors)
        std::cout << " " << e;
      std::cout << " (E = " << flow.energy(end_time, flow.target) << ")" << std::endl;
      std::cout << "Q" << degree << " L2 errors:";
      for (std::size_t k = 0; k < errors.size(); ++k)
        std::cout << " " << errors[k]
                  << (k ? " (order " + std::to_string(observed_order(errors[k - 1], errors[k])) +
                              ")"
                        : "");
      std::cout << std::endl;
    }
  return errors;
}
} // namespace

TEST(MmdFlow, ConvergesToTheClosedForm)
{
  for (const unsigned int degree : {1u, 2u})
    {
      const std::vector<double> e = errors_under_refinement(mmd_flow(), degree, 4, 0.5);
      EXPECT_GT(observed_order(e[1], e[2]), degree + 1 - 0.3) << "Q" << degree;
    }
}

TEST(Aggregation, ConvergesToTheClosedForm)
{
  for (const unsigned int degree : {1u, 2u})
    {
      const std::vector<double> e = errors_under_refinement(aggregation_flow(), degree, 4, 0.5);
      EXPECT_GT(observed_order(e[1], e[2]), degree + 1 - 0.3) << "Q" << degree;
    }
}

// 1 and 2 ranks: the atoms are gathered and sorted, so every sum is the same.
TEST(Aggregation, SameOnOneAndTwoRanks)
{
  const QuantileFlow flow = aggregation_flow();
  const std::string  prm  = flow.problem(5, 2, 0.25);
  const RunResult    all  = run(prm, {}, MPI_COMM_WORLD);
  RunResult          one;
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    one = run(prm, {}, MPI_COMM_SELF);
  one.rows = Utilities::MPI::broadcast(MPI_COMM_WORLD, one.rows, 0);
  ASSERT_EQ(one.rows.size(), all.rows.size());
  for (std::size_t k = 0; k < all.rows.size(); ++k)
    for (const char *column : {"free_energy", "mass", "min_density", "mean_x", "cov_xx"})
      EXPECT_NEAR(one.rows[k][std::find(all.columns.begin(), all.columns.end(), column) -
                              all.columns.begin()],
                  all.value(k, column),
                  1e-12)
          << column << " row " << k;
}

// Mass stays 1 (nothing leaves: b.n = 0 at the ends up to round-off, and what does is
// counted), the energy does not increase, and MMD^2 falls.
TEST(MmdFlow, EnergyFallsAndMassIsKept)
{
  for (const QuantileFlow &flow : {mmd_flow(), aggregation_flow()})
    {
      const RunResult r = run_flow(flow, flow.problem(6, 2, 1.0)).diagnostics;
      for (std::size_t k = 0; k < r.rows.size(); ++k)
        {
          EXPECT_NEAR(r.value(k, "mass") + r.value(k, "outflow_mass"), 1, 1e-12);
          EXPECT_GT(r.value(k, "min_density"), 0);
          if (k > 0)
            {
              EXPECT_LE(r.value(k, "free_energy"), r.value(k - 1, "free_energy") + 1e-12)
                  << "row " << k;
            }
          // V = 0 for the MMD flow: its column MMD^2 is twice the energy E = MMD^2 / 2.
          if (flow.target)
            {
              EXPECT_NEAR(r.value(k, "mmd_squared"),
                          2 * r.value(k, "free_energy"),
                          1e-12 * std::abs(r.value(k, "free_energy")));
            }
          if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
            std::cout << std::setprecision(12) << "t = " << r.value(k, "time")
                      << " E = " << r.value(k, "free_energy")
                      << " mass - 1 = " << r.value(k, "mass") - 1 << " outflow "
                      << r.value(k, "outflow_mass") << " min " << r.value(k, "min_density")
                      << std::endl;
        }
    }
}
