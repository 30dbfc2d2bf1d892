#pragma once

#include <densityflow/distances/sorted_atoms.h>
#include <densityflow/solvers/interaction/interaction_kernel.h>
#include <densityflow/solvers/interaction/interaction_parameters.h>

#include <deal.II/base/point.h>
#include <deal.II/base/tensor.h>

#include <cstdint>
#include <memory>
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
 * 1D with r = 1, sorted: mu(y < x) - mu(y > x) from prefix sums (O(log N) per point), or,
 * in 2D/3D with r = 1, sliced: |z| = c_d E_theta |<theta, z>|, so
 * -grad(W * mu)(x) = c_d E_theta theta (mu(<theta, y> < <theta, x>) - mu(> ...)), averaged over
 * the P fixed directions of sliced_directions(): exactly the flow of the kernel
 * W_P(z) = -c_d / P sum_p |<theta_p, z>|, within a Monte-Carlo error of W's (reported).
 *
 * Evaluating many points at once: velocities() (one sort and merge per direction); for a
 * fixed set of points evaluated at every set_atoms() (a solver's quadrature points),
 * set_evaluation_points() makes velocity(x) there a lookup.
 */
/** Lexicographic order of points (the order of the atoms and of the evaluation points). */
template <int dim>
bool lexicographic_less(const Point<dim> &a, const Point<dim> &b);

template <int dim>
class InteractionField
{
public:
  /**
   * @param exponent  r, 0 < r < 2
   * @param summation automatic resolves to sorted in 1D with r = 1, else direct (the
   *                  solver resolves it by the number of atoms first: resolve_summation());
   *                  InputError for sorted or sliced where they do not apply.
   * @param slicing   the directions of sliced summation
   */
  InteractionField(const double               exponent,
                   const InteractionSummation summation,
                   const SlicingParameters   &slicing = SlicingParameters());

  /**
   * Any kernel (interaction_kernel.h); summed directly unless it is Riesz with r = 1 (sorted
   * in 1D, sliced in 2D/3D; InputError for those otherwise). Its energy counts W(0) w_i^2 on
   * the diagonal.
   */
  InteractionField(const RadialKernel        &kernel,
                   const InteractionSummation summation,
                   const SlicingParameters   &slicing = SlicingParameters());

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

  /**
   * Sliced: the points at which every set_atoms() evaluates the velocity by one merge per
   * direction, so that velocity(x) is a lookup there (elsewhere it is P binary searches if
   * the sorted projections are kept, at most stored_slices numbers, else O(P N)). Other
   * methods ignore it.
   */
  void set_evaluation_points(const std::vector<Point<dim>> &points);

  /**
   * Sliced: keeps the orders of set_evaluation_points() in one table with @p other (a
   * solver's fields for the current density and for its stages, which have the same atom
   * positions and evaluation points): half the memory, and they are sorted once.
   */
  void share_orders_with(InteractionField &other);

  /** -grad(W * mu)(@p x). */
  Tensor<1, dim> velocity(const Point<dim> &x) const;

  /**
   * -grad(W * mu) at all @p x into @p v: sorted (1D) and sliced by one sort of the points and
   * one merge per direction, O(P (N + M) log), the same numbers velocity() gives up to
   * round-off (sorted: exactly). Sliced, @p standard_error (if not null) receives at each
   * point the standard error of the estimate, |v_1 - v|^2 summed over the components, from
   * the spread of the direction sets: sqrt(sum_s |v_s - v|^2 / (S (S - 1))); 0 otherwise.
   */
  void velocities(const std::vector<Point<dim>> &x,
                  std::vector<Tensor<1, dim>>   &v,
                  std::vector<double>           *standard_error = nullptr) const;

  /** The same by direct summation whatever the method (the reference of the tests). */
  Tensor<1, dim> velocity_direct(const Point<dim> &x) const;

  /**
   * 1/2 sum_ij W(y_i - y_j) w_i w_j (sorted where the velocity is, sliced where it is: of the
   * sliced kernel W_P, else O(N^2)).
   */
  double energy() const;

  /** Sliced: the standard error of energy() from the spread of the direction sets; else 0. */
  double energy_standard_error() const;

  /** Sliced: the directions theta_p (set-major); else empty. */
  const std::vector<Tensor<1, dim>> &directions() const;

  /** Sliced: how many velocity() calls missed the evaluation points since construction. */
  std::size_t evaluation_misses() const;

  /** The most projected atoms (P N) whose sorted positions and prefix sums are kept. */
  static constexpr std::size_t stored_slices = std::size_t(1) << 23;
  /** The most cached order entries P (N + 2 M) (4 bytes each). */
  static constexpr std::size_t stored_orders = std::size_t(1) << 27;

  /** The method in use: sorted, sliced or direct. */
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

  /** Sliced: the directions; per direction the sorted projections and their prefix sums,
   * made at the first velocity() off the evaluation points if P N <= stored_slices. */
  const SlicingParameters                  slicing;
  std::vector<Tensor<1, dim>>              theta;
  mutable std::vector<std::vector<Atom>>   slices;
  mutable std::vector<std::vector<double>> slice_prefix;
  /** The energy and its standard error, computed at the first energy() after set_atoms(). */
  mutable bool   energy_ready  = false;
  mutable double sliced_energy = 0, sliced_energy_error = 0;
  /** The evaluation points in lexicographic order, and the velocity at each. */
  std::vector<Point<dim>>     evaluation_points;
  std::vector<Tensor<1, dim>> evaluation_velocity;
  mutable std::size_t         misses = 0;
  /**
   * The atoms and evaluation points do not move between the stages of a solver, only the
   * weights change: per direction, the order of the projected atoms and, for each
   * evaluation point, the number of atoms projected below and not above it. With them a
   * stage is a prefix sum and a lookup per direction, no sort. Kept while P (N + 2 M) <=
   * stored_orders, for the atom positions and evaluation points they were made for.
   */
  struct SlicedOrders
  {
    std::vector<Point<dim>>                 points, evaluation_points;
    std::vector<std::vector<std::uint32_t>> atom_order, below, not_above;
  };
  /** Shared between fields by share_orders_with(). */
  std::shared_ptr<SlicedOrders> orders;

  /** Whether the orders are those of the current atoms (and evaluation points). */
  bool orders_valid() const;
  /** Fills the orders for the current points (false: over budget). */
  bool cache_orders();
  /** The velocity at the evaluation points from the cached orders. */
  void evaluate_cached();
  /**
   * The sliced sums over the current atoms: the velocity (and its standard error) at @p x
   * if not empty, the energy and its error into @p energy and @p energy_error if not null;
   * keeps the sorted projections in @p keep_atoms, @p keep_prefix if not null; uses the
   * kept ones if there are.
   */
  void slice(const std::vector<Point<dim>>    &x,
             std::vector<Tensor<1, dim>>      &v,
             std::vector<double>              *standard_error,
             double                           *energy,
             double                           *energy_error,
             std::vector<std::vector<Atom>>   *keep_atoms,
             std::vector<std::vector<double>> *keep_prefix) const;
  /** Sliced velocity at a point that is not an evaluation point. */
  Tensor<1, dim> sliced_velocity(const Point<dim> &x) const;

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
