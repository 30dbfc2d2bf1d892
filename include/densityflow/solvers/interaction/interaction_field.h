#pragma once

#include <densityflow/distances/sorted_atoms.h>
#include <densityflow/solvers/interaction/interaction_kernel.h>
#include <densityflow/solvers/interaction/interaction_parameters.h>

#include <deal.II/base/point.h>
#include <deal.II/base/tensor.h>

#include <vector>

namespace densityflow
{
using namespace dealii;

/**
 * The interaction of a signed point measure mu = sum_j w_j delta_{y_j} (the quadrature
 * atoms of rho_h - nu) through the Riesz kernel W(z) = -|z|^r (or another RadialKernel,
 * summed directly): the velocity -grad(W * mu)(x) = r sum_j w_j |x - y_j|^{r - 2} (x - y_j)
 * at any x (an atom at x itself counts 0) and the energy 1/2 sum_ij W(y_i - y_j) w_i w_j.
 *
 * The atoms are kept in one order whatever the MPI layout they came from (sorted by
 * position, lexicographically in 2D/3D), so that sums over them, hence the velocity and the
 * energy, are the same on any number of ranks. Summation is direct (O(N) per point) or, in
 * 1D with r = 1, sorted: mu(y < x) - mu(y > x) from prefix sums (O(log N) per point).
 */
template <int dim>
class InteractionField
{
public:
  /**
   * @param exponent  r, 0 < r < 2
   * @param summation automatic resolves to sorted in 1D with r = 1, else direct;
   *                  InputError for sorted where it is not exact.
   */
  InteractionField(const double exponent, const InteractionSummation summation);

  /**
   * Any kernel (interaction_kernel.h); summed directly unless it is Riesz with r = 1 in 1D
   * (InputError for sorted otherwise). Its energy counts W(0) w_i^2 on the diagonal.
   */
  InteractionField(const RadialKernel &kernel, const InteractionSummation summation);

  /** Takes the atoms (the same on every rank, in any order). */
  void set_atoms(std::vector<Point<dim>> points, std::vector<double> weights);

  /**
   * 1D, r = 1: the atoms are the n-point Gauss rule (@p unit_points, @p unit_weights on
   * [0, 1]) of each cell of a mesh, weighted by a density of degree < n. At an atom x_q of
   * cell K the velocity then takes mu(K ∩ (-inf, x_q)) from the integral of the density's
   * interpolant at the cell's Gauss points (exact for rho_h) instead of the atoms' step
   * function, which is off by O(h) with a sawtooth that costs DG-Q_p, p >= 2, its order.
   * Elsewhere (cell faces, output) nothing changes: at faces the atoms' sum is exact.
   */
  void set_cell_rule(const std::vector<double> &unit_points,
                     const std::vector<double> &unit_weights);

  /** -grad(W * mu)(@p x). */
  Tensor<1, dim> velocity(const Point<dim> &x) const;

  /** The same by direct summation whatever the method (the reference of the tests). */
  Tensor<1, dim> velocity_direct(const Point<dim> &x) const;

  /** 1/2 sum_ij W(y_i - y_j) w_i w_j (sorted where the velocity is, else O(N^2)). */
  double energy() const;

  /** The method in use: sorted or direct. */
  InteractionSummation summation() const;

  std::size_t n_atoms() const;

private:
  const RadialKernel kernel;
  /** The Riesz exponent; NaN for the other kernels. */
  const double               r;
  const InteractionSummation method;
  /** The atoms in their fixed order. */
  std::vector<Point<dim>> points;
  std::vector<double>     weights;
  /** 1D: the same atoms as (position, weight) and their prefix sums. */
  std::vector<Atom>   atoms;
  std::vector<double> prefix;
  SortWorkspace       workspace;
  /** set_cell_rule(): atoms per cell and C_qj = int_0^{xi_q} L_j / w_j (row-major). */
  unsigned int        cell_size = 0;
  std::vector<double> cell_integrals;

  /**
   * The correction at an atom @p k of the sorted atoms: mu(K ∩ (-inf, x)) from the cell rule
   * minus what the atoms of K give, times 2 (sign sums count mu(< x) - mu(> x)).
   */
  double cell_correction(const std::size_t k) const;

  /** velocity_direct() and energy() for a kernel other than Riesz. */
  Tensor<1, dim> velocity_of_kernel(const Point<dim> &x) const;
  double         energy_of_kernel() const;
};
} // namespace densityflow
