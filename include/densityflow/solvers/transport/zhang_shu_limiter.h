#pragma once

#include <densityflow/solvers/transport/dg_discretization.h>

#include <deal.II/base/point.h>
#include <deal.II/lac/petsc_vector.h>

#include <vector>

namespace dealii
{
template <int dim, int spacedim>
class FiniteElement;
} // namespace dealii

namespace densityflow
{
using namespace dealii;

/**
 * The largest CFL number dt max_K |b|_1 / h_K for which SSP-RK3 with the Zhang-Shu
 * limiter keeps rho >= 0 on DG-Q_@p degree: the smaller of the first Gauss-Lobatto
 * weight of the positivity proof and the SSP-RK3 stability limit of DG-Q_p.
 */
double largest_cfl_number(const unsigned int degree);

/**
 * The Zhang-Shu bound-preserving limiter of a DG density: each cell's polynomial is
 * scaled towards its mean, rho_K <- m + theta (rho_K - m), with the largest theta <= 1
 * that makes rho_K >= 0 at the limiter points. The mean, hence mass, is kept; a cell
 * that is non-negative there is left untouched.
 */
template <int dim>
class ZhangShuLimiter
{
public:
  /**
   * Prepares the limiter for the locally owned cells of @p space (with the subface points
   * where the mesh has hanging faces: collective). With @p enabled
   * false (or degree 0, where the cell mean is all there is), limit() does nothing.
   */
  ZhangShuLimiter(const DGDiscretization<dim> &space, const bool enabled);

  /**
   * Limits every locally owned cell of @p u (owned layout of the space); returns the
   * number of cells this rank scaled.
   */
  unsigned int limit(PETScWrappers::MPI::Vector &u) const;

  /**
   * Before an adaptation refines the locally owned cells c with @p refine[c] (in the
   * order of the owned cells): limits each such cell of @p u at the limiter's points of
   * its children, so that after the refinement every child's mean is >= 0 (a positive
   * combination of the child's quadrature point values) and the children's limiter can
   * make them >= 0 at their points. Degree >= 2 only: a multilinear function >= 0 at the
   * vertices is >= 0 everywhere. Keeps each cell's mean; returns the cells it scaled.
   */
  unsigned int limit_for_refinement(PETScWrappers::MPI::Vector &u,
                                    const std::vector<bool>    &refine) const;

  /**
   * Points of the unit cell where the limiter makes rho >= 0: those the Zhang-Shu proof
   * needs (N-point Gauss-Lobatto with 2N - 3 >= degree in one direction, the face
   * quadrature's points in the others, over all directions), and also the nodes and
   * the volume quadrature points, so that every integral of the diagnostics sees
   * rho >= 0 too. With @p subfaces (a mesh with hanging faces), also the Gauss-Lobatto
   * points across times the face quadrature's points on each subface along every
   * direction, where the faces of coarser cells are integrated.
   */
  static std::vector<Point<dim>> points(const FiniteElement<dim, dim> &fe,
                                        const Quadrature<dim>         &quadrature,
                                        const Quadrature<dim - 1>     &face_quadrature,
                                        const bool                     subfaces = false);

private:
  /** Points of the unit cell where the limiter makes rho >= 0, as what it needs of them. */
  struct PointTable
  {
    /** The shape functions' values at the points, row-major (n_dofs_per_cell() a point). */
    std::vector<double> values;
    /** max over the points of sum_j max(-phi_j, 0), for a cheap bound from below. */
    double negative_shape_sum = 0;
  };

  static PointTable point_table(const FiniteElement<dim, dim> &fe,
                                const std::vector<Point<dim>> &unit_points);

  /**
   * Limits the owned cells c of @p u with @p only[c] (all where @p only is empty) at the
   * points of @p table; returns the cells it scaled.
   */
  unsigned int limit_cells(PETScWrappers::MPI::Vector &u,
                           const PointTable           &table,
                           const std::vector<bool>    &only) const;
  /**
   * Scales one cell's values @p rho with mean weights @p w so that rho >= 0 at the points
   * of @p table; whether it did.
   */
  bool limit_cell(double *rho, const double *w, const PointTable &table) const;
  /**
   * Whether the Bernstein coefficients of @p rho all exceed the margin (@p largest:
   * max |rho_j|), which proves rho > 0 at every point; false when unsure.
   */
  bool bernstein_positive(const double *rho, const double largest) const;

  const FiniteElement<dim, dim> &fe;
  const bool                     enabled;
  /** Each owned cell's first local dof and its mean weights (n per cell). */
  std::vector<unsigned int> cell_first_dof;
  std::vector<double>       mean_weights;
  /** The limiter's points, and those of the children (degree >= 2; else empty). */
  PointTable cell_points, child_points;
  /**
   * Degree >= 2: the Bernstein coefficients of a cell's polynomial from its nodal values,
   * row-major. The polynomial is a convex combination of them, so where all exceed
   * bernstein_margin times the largest |rho_j| the cell is non-negative everywhere, and
   * the point values need not be computed: the same answer at a fraction of the cost.
   */
  std::vector<double> to_bernstein;
  /**
   * The same map as a tensor product, (p + 1) x (p + 1) row-major, applied along each
   * direction in turn: dim (p + 1)^(dim + 1) products a cell instead of (p + 1)^(2 dim)
   * (128 instead of 256 for Q3 in 2D). Empty where the element's nodes are not the
   * lexicographic tensor product of one set of 1D nodes.
   */
  std::vector<double> to_bernstein_1d;
  /**
   * The nodes at the cell's vertices, where a Bernstein coefficient is the value; empty
   * where some vertex is not a node.
   */
  std::vector<unsigned int> corner_nodes;
  /**
   * Larger than the rounding of the coefficients and of the point values (relative to
   * max |rho_j|, and at least 1e-10): a cell it lets through has every computed point
   * value > 0 as well.
   */
  double bernstein_margin = 0;
};
} // namespace densityflow
