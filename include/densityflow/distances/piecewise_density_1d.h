#pragma once

#include <densityflow/distances/sorted_atoms.h>

#include <cstddef>
#include <utility>
#include <vector>

namespace densityflow
{
/**
 * A density on the line given by its values at the n Gauss points of each of a set of
 * intervals (cells), interpolated by the polynomial of degree n - 1 on each: exact for
 * piecewise polynomials of that degree. Negative values are set to zero. It gives the
 * exact W1 and W2 of a weighted sample against rho_h in 1D.
 */
class PiecewiseDensity1D
{
public:
  /**
   * @param intervals the cells, disjoint, in any order
   * @param values    n values per cell, at the Gauss points of QGauss<1>(n)
   */
  PiecewiseDensity1D(const std::vector<std::pair<double, double>> &intervals,
                     const std::vector<double>                    &values,
                     const unsigned int                            n);

  double mass() const;

  /** W_p^p between the weighted sample @p atoms (normalised) and this density
      (normalised), through the quantile function; p = 1 or 2. Normalises and sorts
      @p atoms (with the scratch of @p workspace). */
  double
  wasserstein_power(std::vector<Atom> &atoms, const unsigned int p, SortWorkspace &workspace) const;

private:
  /** int_{a_c}^{y} rho(x) x^k dx within cell c. */
  double partial(const std::size_t c, const double y, const unsigned int k) const;
  double value(const std::size_t c, const double y) const;
  /** The point y with G(y) = s (G the CDF, unnormalised). */
  double quantile(const double s) const;
  /** int_alpha^beta |c - y|^p rho(y) dy, across cells. */
  double
  moment_between(const double alpha, const double beta, const double c, const unsigned int p) const;

  unsigned int                           n;
  std::vector<double>                    nodes, barycentric;
  std::vector<std::pair<double, double>> cells;
  std::vector<double>                    cell_values, cumulative;
  /** Gauss rules (points on [0, 1], weights) with n + 2 points (exact for the
      interpolant times x^k, k <= 2) and n + 3 points (for |c - y|^p rho). */
  std::vector<std::pair<double, double>> gauss_partial, gauss_moment;
};
} // namespace densityflow
