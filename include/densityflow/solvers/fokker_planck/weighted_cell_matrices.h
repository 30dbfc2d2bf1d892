#pragma once

#include <deal.II/fe/fe_values.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/vector.h>

#include <vector>

namespace densityflow
{
using namespace dealii;

/**
 * How the Fokker-Planck weights exp(-(V_q - (V_i + V_j)/2)/eps) of a cell are evaluated:
 * - direct: one exponential per quadrature point and pair (i, j), n_q n^2 of them;
 * - factorised: exp(-(V_q - c)/eps) exp((V_i - c)/(2 eps)) exp((V_j - c)/(2 eps)), n_q + n
 *   exponentials, with c the midpoint of V's range over the cell (see
 *   weighted_cell_matrices()).
 * The direct form is kept as the reference of the factorised one (fokker_planck_weights_test).
 */
enum class WeightEvaluation
{
  direct,
  factorised
};

/**
 * The largest spread (V_max - V_min)/eps over one cell (its nodes and quadrature points)
 * that the factorised weights accept. With c the midpoint of that range every factor lies in
 * [e^{-spread/2}, e^{spread/2}] and every partial product in [e^{-spread}, e^{spread}], so
 * up to 600 all of them are normal doubles (1e-261 to 1e261) and each carries a few units of
 * round-off like the direct weight. Beyond it the cell takes the direct formula: the weights
 * themselves reach e^{+-600} there, and past 709 the direct ones overflow as before.
 */
constexpr double max_factorised_spread = 600;

/** A cell's scaled Fokker-Planck matrices, and the workspace that makes them. */
struct WeightedCellMatrices
{
  /** M_ij = int pi phi_i phi_j / sqrt(pi_i pi_j) (only if asked for: consistent mass). */
  FullMatrix<double> mass;
  /**
   * K_ij = eps int pi grad phi_i . grad phi_j / sqrt(pi_i pi_j) for degree >= 2; for degree 1
   * the geometric eps int grad phi_i . grad phi_j, which the EAFE weights then turn into K.
   */
  FullMatrix<double> stiffness;
  /** The row sums of M: int pi phi_i / pi_i. */
  Vector<double> lumped;
  /** Whether the last cell was too steep for the factorised weights (direct formula). */
  bool direct_fallback = false;

  /** sqrt(exp(-(V_q - c)/eps) JxW_q) and exp((V_i - c)/(2 eps)). */
  std::vector<double> point_factor, node_factor;
  /** The values and gradients (rows q dim + d) of the phi_i, times sqrt(w_q JxW_q). */
  FullMatrix<double> weighted_values, weighted_gradients;
};

/**
 * Fills @p cell with the scaled weighted mass (if @p consistent_mass), stiffness and lumped
 * mass of the cell of @p fe_values (values, gradients, JxW), where V is @p V_q at the
 * quadrature points and @p V at the nodes, by the @p evaluation given. @p eafe: degree 1, whose
 * stiffness stays geometric here. Degree 1 keeps the direct lumped mass and stiffness in both
 * evaluations, so that its default (lumped) path does not change by a bit.
 */
template <int dim>
void weighted_cell_matrices(const FEValues<dim>       &fe_values,
                            const double              *V_q,
                            const std::vector<double> &V,
                            const double               eps,
                            const bool                 consistent_mass,
                            const bool                 eafe,
                            const WeightEvaluation     evaluation,
                            WeightedCellMatrices      &cell);
} // namespace densityflow
