// The Zhang-Shu limiter of DG transport on its own: a cell whose polynomial dips below 0
// at the limiter's points is scaled so that it is >= 0 there with its mean kept; a
// non-negative cell is left as it is; and the CFL bound of the positivity proof. Each
// rank checks the same single cell (MPI_COMM_SELF), so the test runs on any rank count.
#include <densityflow/solvers/transport/zhang_shu_limiter.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/fe_dgq.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping_q.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/tria.h>
#include <deal.II/lac/petsc_vector.h>

#include <gtest/gtest.h>

#include <functional>
#include <limits>

using namespace densityflow;

namespace
{
/** One DG-Q_p cell [0, 1]^dim with the transport solver's quadratures, on this rank only. */
template <int dim>
struct OneCell
{
  static constexpr int dimension = dim;

  explicit OneCell(const unsigned int degree)
      : fe(degree)
      , quadrature(degree + 2)
      , face_quadrature(degree + 2)
      , mapping(1)
  {
    GridGenerator::hyper_cube(triangulation, 0, 1);
    dof_handler.reinit(triangulation);
    dof_handler.distribute_dofs(fe);
    owned = dof_handler.locally_owned_dofs();
  }

  DGDiscretization<dim> space() const
  {
    return {dof_handler, mapping, quadrature, face_quadrature, owned, owned, MPI_COMM_SELF};
  }

  /** The nodal interpolant of @p f. */
  PETScWrappers::MPI::Vector interpolate(const std::function<double(const Point<dim> &)> &f) const
  {
    PETScWrappers::MPI::Vector u(owned, MPI_COMM_SELF);
    for (unsigned int j = 0; j < fe.n_dofs_per_cell(); ++j)
      u(j) = f(fe.get_unit_support_points()[j]);
    u.compress(VectorOperation::insert);
    return u;
  }

  /** The cell mean of @p u. */
  double mean(const PETScWrappers::MPI::Vector &u) const
  {
    FEValues<dim> fe_values(mapping, fe, quadrature, update_values | update_JxW_values);
    fe_values.reinit(dof_handler.begin_active());
    double integral = 0, volume = 0;
    for (unsigned int q = 0; q < quadrature.size(); ++q)
      {
        for (unsigned int j = 0; j < fe.n_dofs_per_cell(); ++j)
          integral += u(j) * fe_values.shape_value(j, q) * fe_values.JxW(q);
        volume += fe_values.JxW(q);
      }
    return integral / volume;
  }

  /** The minimum of @p u over the limiter's points. */
  double minimum(const PETScWrappers::MPI::Vector &u) const
  {
    return minimum(u, ZhangShuLimiter<dim>::points(fe, quadrature, face_quadrature));
  }

  /**
   * The minimum of @p u over the limiter's points of the cell's children (those of a mesh
   * with hanging faces), mapped into the cell.
   */
  double minimum_in_children(const PETScWrappers::MPI::Vector &u) const
  {
    std::vector<Point<dim>> in_cell;
    for (unsigned int child = 0; child < GeometryInfo<dim>::max_children_per_cell; ++child)
      for (const Point<dim> &x :
           ZhangShuLimiter<dim>::points(fe, quadrature, face_quadrature, true))
        in_cell.push_back(GeometryInfo<dim>::child_to_cell_coordinates(
            x, child, RefinementCase<dim>::isotropic_refinement));
    return minimum(u, in_cell);
  }

  double minimum(const PETScWrappers::MPI::Vector &u, const std::vector<Point<dim>> &points) const
  {
    double result = std::numeric_limits<double>::infinity();
    for (const Point<dim> &x : points)
      {
        double value = 0;
        for (unsigned int j = 0; j < fe.n_dofs_per_cell(); ++j)
          value += u(j) * fe.shape_value(j, x);
        result = std::min(result, value);
      }
    return result;
  }

  Triangulation<dim> triangulation;
  FE_DGQ<dim>        fe;
  QGauss<dim>        quadrature;
  QGauss<dim - 1>    face_quadrature;
  MappingQ<dim>      mapping;
  DoFHandler<dim>    dof_handler;
  IndexSet           owned;
};

/** Limits the interpolant of @p f on one cell and checks positivity and the mean. */
template <int dim>
void expect_limited(const unsigned int                               degree,
                    const std::function<double(const Point<dim> &)> &f,
                    const std::string                               &what)
{
  SCOPED_TRACE(what);
  const OneCell<dim>         cell(degree);
  PETScWrappers::MPI::Vector u           = cell.interpolate(f);
  const double               mean_before = cell.mean(u);
  ASSERT_LT(cell.minimum(u), -1e-3) << "the test cell must dip below 0";
  ASSERT_GT(mean_before, 0);

  const ZhangShuLimiter<dim> limiter(cell.space(), true);
  EXPECT_EQ(limiter.limit(u), 1u);
  EXPECT_GE(cell.minimum(u), -1e-14 * mean_before);
  EXPECT_NEAR(cell.mean(u), mean_before, 1e-14 * mean_before);
  // The largest theta that makes it: the minimum is 1e-12 of the mean, not far above.
  EXPECT_LT(cell.minimum(u), 1e-9 * mean_before);
}
} // namespace

TEST(ZhangShuLimiter, NegativeNodeIsScaledToTheMean)
{
  // Q2 in 2D: 1 at every node but -0.5 at the centre; the mean stays positive.
  expect_limited<2>(
      2,
      [](const Point<2> &x) { return x.distance(Point<2>(0.5, 0.5)) < 1e-12 ? -0.5 : 1.0; },
      "Q2, negative centre node");
  // Q1 in 1D and 3D: a linear function that crosses 0 inside the cell.
  expect_limited<1>(
      1, [](const Point<1> &x) { return 3 * x[0] - 0.5; }, "Q1 1D ramp");
  expect_limited<3>(
      1, [](const Point<3> &x) { return x[0] + x[1] + x[2] - 0.4; }, "Q1 3D ramp");
}

TEST(ZhangShuLimiter, DipBetweenNonNegativeNodesIsFound)
{
  // Q2 nodal values 0, 0, 1 along x: rho = x (2x - 1) < 0 for 0 < x < 1/2, although no
  // node is negative. Q3 (Gauss-Lobatto nodes 0, 0.276, 0.724, 1): (x - 0.4)(x - 0.6) is
  // >= 0.04 at the nodes and -0.01 at x = 1/2.
  expect_limited<2>(
      2, [](const Point<2> &x) { return x[0] * (2 * x[0] - 1); }, "Q2 dip between nodes");
  expect_limited<1>(
      3, [](const Point<1> &x) { return (x[0] - 0.4) * (x[0] - 0.6); }, "Q3 dip between nodes");
}

TEST(ZhangShuLimiter, NonNegativeCellIsUntouched)
{
  for (const unsigned int degree : {1u, 2u, 3u})
    {
      const OneCell<2>                 cell(degree);
      const PETScWrappers::MPI::Vector before =
          cell.interpolate([](const Point<2> &x) { return 0.1 + x[0] * x[0] + x[1]; });
      PETScWrappers::MPI::Vector u(before);
      const ZhangShuLimiter<2>   limiter(cell.space(), true);
      EXPECT_EQ(limiter.limit(u), 0u) << "degree " << degree;
      for (unsigned int j = 0; j < cell.fe.n_dofs_per_cell(); ++j)
        EXPECT_EQ(u(j), before(j)) << "degree " << degree << ", node " << j;
    }
}

// Degree >= 2 skips the point values where the Bernstein coefficients prove rho > 0:
// a positive cell whose values span two orders of magnitude (which fails the cheap bound
// min - (max - min) max_x sum_j max(-phi_j(x), 0) >= 0) is left bit for bit,
// and a cell that dips below 0 by 1e-9 of its values between positive nodes is still
// found (its Bernstein coefficients are not all positive, so the points are evaluated).
TEST(ZhangShuLimiter, BernsteinShortcutKeepsTheAnswer)
{
  for (const unsigned int degree : {2u, 3u})
    {
      const OneCell<2>                 cell(degree);
      const PETScWrappers::MPI::Vector tail =
          cell.interpolate([](const Point<2> &x) { return 0.01 + x[0] * x[0] + x[1] * x[1]; });
      PETScWrappers::MPI::Vector u(tail);
      const ZhangShuLimiter<2>   limiter(cell.space(), true);
      EXPECT_EQ(limiter.limit(u), 0u) << "degree " << degree;
      for (unsigned int j = 0; j < cell.fe.n_dofs_per_cell(); ++j)
        EXPECT_EQ(u(j), tail(j)) << "degree " << degree << ", node " << j;

      // (x - 1/2)^2 + y / 100 - 1e-9: -1e-9 at the limiter's point (1/2, 0). Q3's nodes
      // miss x = 1/2, so for Q3 the dip lies between positive nodes.
      PETScWrappers::MPI::Vector dip = cell.interpolate(
          [](const Point<2> &x) { return (x[0] - 0.5) * (x[0] - 0.5) + 0.01 * x[1] - 1e-9; });
      ASSERT_LT(cell.minimum(dip), 0) << "degree " << degree;
      EXPECT_EQ(limiter.limit(dip), 1u) << "degree " << degree;
      EXPECT_GE(cell.minimum(dip), -1e-14 * cell.mean(dip)) << "degree " << degree;
    }
}

// A Q2 or Q3 cell >= 0 at its own limiter points may be negative at its children's
// (and a child's mean could then be negative, which no limiter after the refinement could
// lift): before a refinement the cell is scaled towards its mean until it is >= 0 at the
// children's points. rho(x) dips below 0 between the cell's points only.
TEST(ZhangShuLimiter, CellsToRefineAreLimitedAtTheirChildrensPoints)
{
  const auto check = [](const auto &cell, const auto &f, const std::string &what) {
    SCOPED_TRACE(what);
    constexpr int              dim         = std::decay_t<decltype(cell)>::dimension;
    PETScWrappers::MPI::Vector u           = cell.interpolate(f);
    const double               mean_before = cell.mean(u);
    ASSERT_GE(cell.minimum(u), 0) << "the cell must be >= 0 at its own points";
    ASSERT_LT(cell.minimum_in_children(u), -1e-4) << "and < 0 at a child's point";

    const ZhangShuLimiter<dim>       limiter(cell.space(), true);
    const PETScWrappers::MPI::Vector before(u);
    EXPECT_EQ(limiter.limit(u), 0u);
    EXPECT_EQ(limiter.limit_for_refinement(u, {false}), 0u);
    for (unsigned int j = 0; j < cell.fe.n_dofs_per_cell(); ++j)
      EXPECT_EQ(u(j), before(j));
    EXPECT_EQ(limiter.limit_for_refinement(u, {true}), 1u);
    EXPECT_GE(cell.minimum_in_children(u), -1e-14 * mean_before);
    EXPECT_LT(cell.minimum_in_children(u), 1e-9 * mean_before);
    EXPECT_NEAR(cell.mean(u), mean_before, 1e-14 * mean_before);
  };
  // Q3 in 1D: the cell's points miss (0.2764, 0.5), the left child's 0.3618, 0.3846.
  check(
      OneCell<1>(3),
      [](const Point<1> &x) { return (x[0] - 0.3) * (x[0] - 0.47) * (1.5 - x[0]); },
      "Q3 1D");
  // Q2 in 2D: the cell's points miss (0.33, 0.5) in x, the children's include 0.465.
  check(
      OneCell<2>(2),
      [](const Point<2> &x) { return (x[0] - 0.4) * (x[0] - 0.47) + 0.01 * x[1]; },
      "Q2 2D");
}

TEST(ZhangShuLimiter, DisabledLimiterDoesNothing)
{
  const OneCell<2>           cell(2);
  PETScWrappers::MPI::Vector u =
      cell.interpolate([](const Point<2> &x) { return x[0] * (2 * x[0] - 1); });
  const PETScWrappers::MPI::Vector before(u);
  const ZhangShuLimiter<2>         limiter(cell.space(), false);
  EXPECT_EQ(limiter.limit(u), 0u);
  for (unsigned int j = 0; j < cell.fe.n_dofs_per_cell(); ++j)
    EXPECT_EQ(u(j), before(j));
}

TEST(ZhangShuLimiter, CflBoundOfThePositivityProof)
{
  // The bound is min(first Gauss-Lobatto weight of the proof's rule on [0, 1], the
  // SSP-RK3 stability limit of DG-Q_p: 0.409, 0.209, 0.130 for p = 1, 2, 3).
  const double stability[4] = {1.0, 0.409, 0.209, 0.130};
  for (unsigned int degree = 0; degree <= 3; ++degree)
    {
      const double lobatto = degree == 0 ? 1.0 : QGaussLobatto<1>(degree <= 1 ? 2 : 3).weight(0);
      const double bound   = std::min(lobatto, stability[degree]);
      EXPECT_LE(largest_cfl_number(degree), bound) << "degree " << degree;
      EXPECT_GT(largest_cfl_number(degree), 0.95 * bound) << "degree " << degree;
    }
  EXPECT_DOUBLE_EQ(largest_cfl_number(0), 1.0);
  EXPECT_DOUBLE_EQ(largest_cfl_number(2), 1.0 / 6);
  EXPECT_DOUBLE_EQ(largest_cfl_number(7), largest_cfl_number(3));
}
