#include <densityflow/solvers/petsc_array.h>
#include <densityflow/solvers/petsc_check.h>
#include <densityflow/solvers/transport/zhang_shu_limiter.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/lac/full_matrix.h>

#include <petscvec.h>

#include <cmath>
#include <limits>

namespace densityflow
{
namespace
{
/**
 * The tensor-product Bernstein polynomial of degree @p p in each coordinate with
 * exponents given by the lexicographic index @p k, at @p x of the unit cell.
 */
template <int dim>
double bernstein(const unsigned int p, unsigned int k, const Point<dim> &x)
{
  double value = 1;
  for (unsigned int d = 0; d < dim; ++d, k /= p + 1)
    {
      const unsigned int i        = k % (p + 1);
      double             binomial = 1;
      for (unsigned int m = 1; m <= i; ++m)
        binomial = binomial * (p - i + m) / m;
      value *= binomial * std::pow(x[d], i) * std::pow(1 - x[d], p - i);
    }
  return value;
}

/**
 * The (p + 1) x (p + 1) matrix F with @p full = F x ... x F (dim factors, the first index
 * running fastest, as FE_DGQ numbers its nodes), or nothing if @p full is not such a
 * product to 1e-12 of its largest entry.
 */
template <int dim>
std::vector<double> tensor_factor(const FiniteElement<dim, dim> &fe,
                                  const std::vector<double>     &full)
{
  const unsigned int m = fe.degree + 1, n = fe.n_dofs_per_cell();
  if (Utilities::fixed_power<dim>(m) != n)
    return {};
  // The 1D nodes are the first m nodes (along x); the factor is the 1D inverse.
  const std::vector<Point<dim>> &nodes = fe.get_unit_support_points();
  FullMatrix<double>             V(m, m);
  for (unsigned int i = 0; i < m; ++i)
    for (unsigned int k = 0; k < m; ++k)
      V(i, k) = bernstein<1>(fe.degree, k, Point<1>(nodes[i][0]));
  V.gauss_jordan();
  double largest = 0;
  for (const double v : full)
    largest = std::max(largest, std::abs(v));
  for (unsigned int k = 0; k < n; ++k)
    for (unsigned int j = 0; j < n; ++j)
      {
        double product = 1;
        for (unsigned int d = 0, kd = k, jd = j; d < dim; ++d, kd /= m, jd /= m)
          product *= V(kd % m, jd % m);
        if (std::abs(product - full[k * n + j]) > 1e-12 * largest)
          return {};
      }
  std::vector<double> factor(m * m);
  for (unsigned int k = 0; k < m; ++k)
    for (unsigned int j = 0; j < m; ++j)
      factor[k * m + j] = V(k, j);
  return factor;
}

/**
 * Whether all coefficients (F x ... x F) rho (dim factors of the m x m matrix @p F, the
 * first index fastest) exceed @p threshold: F applied along x, y, (z) in turn, with m
 * known to the compiler.
 */
template <unsigned int m, int dim>
bool tensor_coefficients_exceed(const double *F, const double *rho, const double threshold)
{
  constexpr unsigned int n = Utilities::pow(m, dim);
  double                 buffer[2][n];
  const double          *from = rho;
  for (unsigned int d = 0, stride = 1; d < dim; ++d, stride *= m)
    {
      double *to = buffer[d % 2];
      // The lines along d start at outer + inner, outer a multiple of m stride.
      for (unsigned int outer = 0; outer < n; outer += m * stride)
        for (unsigned int i = outer; i < outer + stride; ++i)
          for (unsigned int k = 0; k < m; ++k)
            {
              double sum = 0;
              for (unsigned int j = 0; j < m; ++j)
                sum += F[k * m + j] * from[i + j * stride];
              to[i + k * stride] = sum;
            }
      from = to;
    }
  for (unsigned int k = 0; k < n; ++k)
    if (!(from[k] > threshold))
      return false;
  return true;
}
} // namespace

double largest_cfl_number(const unsigned int degree)
{
  // min(Zhang-Shu's first Gauss-Lobatto weight, the SSP-RK3 stability limit of DG-Q_p):
  // degree 0: 1 (upwind); 1: min(1/2, 0.409); 2: min(1/6, 0.209); 3: min(1/6, 0.130).
  static const double bound[4] = {1.0, 0.4, 1.0 / 6, 0.13};
  return bound[std::min(degree, 3u)];
}

template <int dim>
std::vector<Point<dim>> ZhangShuLimiter<dim>::points(const FiniteElement<dim, dim> &fe,
                                                     const Quadrature<dim>         &quadrature,
                                                     const Quadrature<dim - 1>     &face_quadrature,
                                                     const bool                     subfaces)
{
  const unsigned int      n = fe.degree <= 1 ? 2 : 3;
  const QGaussLobatto<1>  lobatto(n);
  std::vector<Point<dim>> result;
  for (unsigned int direction = 0; direction < dim; ++direction)
    for (unsigned int i = 0; i < n; ++i)
      for (unsigned int q = 0; q < face_quadrature.size(); ++q)
        {
          Point<dim> p;
          for (unsigned int d = 0, k = 0; d < dim; ++d)
            p[d] = d == direction ? lobatto.point(i)[0] : face_quadrature.point(q)[k++];
          result.push_back(p);
        }
  result.insert(
      result.end(), fe.get_unit_support_points().begin(), fe.get_unit_support_points().end());
  result.insert(result.end(), quadrature.get_points().begin(), quadrature.get_points().end());
  // A coarse cell's hanging face is integrated by the face rule on each subface: its
  // outflow (and the finer neighbours' inflow) sees rho there. The proof's decomposition
  // of the cell mean holds as well with the composite rule over the subfaces
  // (Gauss-Lobatto across, the face rule on each half along), so these points join it.
  if (subfaces && dim > 1)
    for (unsigned int direction = 0; direction < dim; ++direction)
      for (unsigned int i = 0; i < n; ++i)
        for (unsigned int child = 0; child < (1u << (dim - 1)); ++child)
          for (unsigned int q = 0; q < face_quadrature.size(); ++q)
            {
              Point<dim> p;
              for (unsigned int d = 0, k = 0; d < dim; ++d)
                if (d == direction)
                  p[d] = lobatto.point(i)[0];
                else
                  {
                    p[d] = (face_quadrature.point(q)[k] + ((child >> k) & 1)) / 2;
                    ++k;
                  }
              result.push_back(p);
            }
  return result;
}

template <int dim>
typename ZhangShuLimiter<dim>::PointTable
ZhangShuLimiter<dim>::point_table(const FiniteElement<dim, dim> &fe,
                                  const std::vector<Point<dim>> &unit_points)
{
  const unsigned int n = fe.n_dofs_per_cell();
  PointTable         table;
  table.values.resize(unit_points.size() * n);
  for (unsigned int k = 0; k < unit_points.size(); ++k)
    {
      double negative = 0;
      for (unsigned int j = 0; j < n; ++j)
        {
          table.values[k * n + j] = fe.shape_value(j, unit_points[k]);
          negative += std::max(-table.values[k * n + j], 0.0);
        }
      table.negative_shape_sum = std::max(table.negative_shape_sum, negative);
    }
  return table;
}

template <int dim>
ZhangShuLimiter<dim>::ZhangShuLimiter(const DGDiscretization<dim> &space, const bool enabled)
    : fe(space.dof_handler.get_fe())
    , enabled(enabled && fe.degree > 0)
{
  const std::vector<Point<dim>> unit_points =
      points(fe,
             space.quadrature,
             space.face_quadrature,
             space.dof_handler.get_triangulation().has_hanging_nodes());
  const unsigned int n = fe.n_dofs_per_cell();
  cell_points          = point_table(fe, unit_points);
  if (fe.degree >= 2)
    {
      // The children's points: a refined mesh has hanging faces, hence the subfaces'.
      std::vector<Point<dim>> in_parent;
      for (unsigned int child = 0; child < GeometryInfo<dim>::max_children_per_cell; ++child)
        for (const Point<dim> &x : points(fe, space.quadrature, space.face_quadrature, true))
          {
            Point<dim> parent;
            for (unsigned int d = 0; d < dim; ++d)
              parent[d] = (x[d] + ((child >> d) & 1)) / 2;
            in_parent.push_back(parent);
          }
      child_points = point_table(fe, in_parent);
    }

  if (fe.degree >= 2)
    {
      // rho_i = sum_k beta_k B_k(x_i) at the nodes x_i: beta = V^{-1} rho, V_ik = B_k(x_i).
      const std::vector<Point<dim>> &nodes = fe.get_unit_support_points();
      FullMatrix<double>             V(n, n);
      for (unsigned int i = 0; i < n; ++i)
        for (unsigned int k = 0; k < n; ++k)
          V(i, k) = bernstein(fe.degree, k, nodes[i]);
      V.gauss_jordan(); // V holds V^{-1} from here on
      to_bernstein.resize(n * n);
      double conversion_norm = 0, lebesgue = 0;
      for (unsigned int k = 0; k < n; ++k)
        {
          double row = 0;
          for (unsigned int j = 0; j < n; ++j)
            {
              to_bernstein[k * n + j] = V(k, j);
              row += std::abs(V(k, j));
            }
          conversion_norm = std::max(conversion_norm, row);
        }
      for (const PointTable *table : {&cell_points, &child_points})
        for (std::size_t k = 0; k < table->values.size() / n; ++k)
          {
            double row = 0;
            for (unsigned int j = 0; j < n; ++j)
              row += std::abs(table->values[k * n + j]);
            lebesgue = std::max(lebesgue, row);
          }
      // A sum of n products is off by at most n u times the sum of their magnitudes
      // (u = 2^-53), for the coefficients and for the point values alike; the inverse
      // itself is off in its last digits times V's condition. Ten times the first, and
      // never below 1e-10, so that a coefficient above the margin means a positive
      // computed point value: the limiter's answer is the same to the bit.
      bernstein_margin = std::max(
          1e-10, 10 * n * std::numeric_limits<double>::epsilon() * (conversion_norm + lebesgue));
      // Applied direction by direction, a coefficient is rounded in dim sums of p + 1
      // terms: off by at most dim (p + 1) u times the conversion norm times max |rho_j|,
      // within the margin above (n >= dim (p + 1)).
      if (fe.degree <= 3)
        to_bernstein_1d = tensor_factor(fe, to_bernstein);
      for (unsigned int v = 0; v < GeometryInfo<dim>::vertices_per_cell; ++v)
        for (unsigned int i = 0; i < n; ++i)
          if (nodes[i].distance(GeometryInfo<dim>::unit_cell_vertex(v)) < 1e-12)
            corner_nodes.push_back(i);
      if (corner_nodes.size() != GeometryInfo<dim>::vertices_per_cell)
        corner_nodes.clear();
    }

  FEValues<dim> fe_values(space.mapping, fe, space.quadrature, update_values | update_JxW_values);
  std::vector<types::global_dof_index> dofs(n);
  // (A rank may own no cells at all on a coarse mesh.)
  const IndexSet               &owned = space.locally_owned_dofs;
  const types::global_dof_index first = owned.n_elements() > 0 ? owned.nth_index_in_set(0) : 0;
  for (const auto &cell : space.dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        cell->get_dof_indices(dofs);
        // A DG cell's dofs are numbered consecutively; the limiter relies on it.
        for (unsigned int j = 1; j < n; ++j)
          AssertThrow(dofs[j] == dofs[0] + j, ExcInternalError());
        cell_first_dof.push_back(dofs[0] - first);
        fe_values.reinit(cell);
        std::vector<double> weights(n, 0.0);
        double              volume = 0;
        for (unsigned int q = 0; q < fe_values.n_quadrature_points; ++q)
          {
            volume += fe_values.JxW(q);
            for (unsigned int j = 0; j < n; ++j)
              weights[j] += fe_values.shape_value(j, q) * fe_values.JxW(q);
          }
        for (const double w : weights)
          mean_weights.push_back(w / volume);
      }
}

template <int dim>
unsigned int ZhangShuLimiter<dim>::limit(PETScWrappers::MPI::Vector &u) const
{
  return limit_cells(u, cell_points, {});
}

template <int dim>
unsigned int ZhangShuLimiter<dim>::limit_for_refinement(PETScWrappers::MPI::Vector &u,
                                                        const std::vector<bool>    &refine) const
{
  AssertDimension(refine.size(), cell_first_dof.size());
  return child_points.values.empty() ? 0 : limit_cells(u, child_points, refine);
}

template <int dim>
unsigned int ZhangShuLimiter<dim>::limit_cells(PETScWrappers::MPI::Vector &u,
                                               const PointTable           &table,
                                               const std::vector<bool>    &only) const
{
  if (!enabled)
    return 0;
  const unsigned int n       = fe.n_dofs_per_cell();
  unsigned int       limited = 0;
  WriteArray         values(static_cast<const Vec &>(u));
  for (std::size_t c = 0; c < cell_first_dof.size(); ++c)
    if ((only.empty() || only[c]) &&
        limit_cell(values.data() + cell_first_dof[c], &mean_weights[c * n], table))
      ++limited;
  return limited;
}

template <int dim>
bool ZhangShuLimiter<dim>::limit_cell(double *rho, const double *w, const PointTable &table) const
{
  const unsigned int n = fe.n_dofs_per_cell(), n_points = table.values.size() / n;
  // A multilinear function takes its extremes at the vertices, which are the nodes of Q1.
  const bool    nodal_minimum = fe.degree == 1;
  const double *P             = table.values.data();
  double        minimum       = std::numeric_limits<double>::infinity();
  double        maximum       = -std::numeric_limits<double>::infinity();
  for (unsigned int j = 0; j < n; ++j)
    {
      minimum = std::min(minimum, rho[j]);
      maximum = std::max(maximum, rho[j]);
    }
  // rho(x) = m + sum_j (rho_j - m) phi_j(x) >= m - (M - m) sum_j max(-phi_j(x), 0):
  // where that bound is >= 0, no point can be negative.
  if (!nodal_minimum && minimum - (maximum - minimum) * table.negative_shape_sum < 0 &&
      !bernstein_positive(rho, std::max(std::abs(minimum), std::abs(maximum))))
    for (unsigned int k = 0; k < n_points; ++k)
      {
        double value = 0;
        for (unsigned int j = 0; j < n; ++j)
          value += P[k * n + j] * rho[j];
        minimum = std::min(minimum, value);
      }
  if (minimum >= 0)
    return false;

  double mean = 0;
  for (unsigned int j = 0; j < n; ++j)
    mean += w[j] * rho[j];
  // Scale towards the mean until the minimum is 1e-12 of the mean, which leaves it
  // >= 0 after round-off. A negative mean (impossible under the CFL bound) is left
  // as it is and shows in min_density.
  const double theta = mean > 0 ? std::min(1.0, (1 - 1e-12) * mean / (mean - minimum)) : 1.0;
  if (theta >= 1)
    return false;
  for (unsigned int j = 0; j < n; ++j)
    rho[j] = mean + theta * (rho[j] - mean);
  return true;
}

template <int dim>
bool ZhangShuLimiter<dim>::bernstein_positive(const double *rho, const double largest) const
{
  if (to_bernstein.empty() || !(largest > 0))
    return false;
  const unsigned int n         = fe.n_dofs_per_cell();
  const double       threshold = bernstein_margin * largest;
  // A corner's coefficient is the value at that corner (the other Bernstein polynomials
  // vanish there), which is a node: most cells that fail do so here, before any product.
  // (A false answer is always safe: the limiter then evaluates the points.)
  for (const unsigned int corner : corner_nodes)
    if (!(rho[corner] > threshold))
      return false;
  if (fe.degree == 2 && !to_bernstein_1d.empty())
    return tensor_coefficients_exceed<3, dim>(to_bernstein_1d.data(), rho, threshold);
  if (fe.degree == 3 && !to_bernstein_1d.empty())
    return tensor_coefficients_exceed<4, dim>(to_bernstein_1d.data(), rho, threshold);
  for (unsigned int k = 0; k < n; ++k)
    {
      double beta = 0;
      for (unsigned int j = 0; j < n; ++j)
        beta += to_bernstein[k * n + j] * rho[j];
      if (!(beta > threshold))
        return false;
    }
  return true;
}

template class ZhangShuLimiter<1>;
template class ZhangShuLimiter<2>;
template class ZhangShuLimiter<3>;
} // namespace densityflow
