#include <densityflow/solvers/fokker_planck/weighted_cell_matrices.h>

#include <algorithm>
#include <cmath>

// The cell matrices of the Fokker-Planck solver's symmetric weighted (Slotboom) form. The
// scaled entries weigh by exp(-(V_q - (V_i + V_j)/2)/eps), differences of V only.

namespace densityflow
{
namespace
{
/** One exponential per quadrature point and pair: the reference (and the steep cells). */
template <int dim>
void direct_weights(const FEValues<dim>       &fe_values,
                    const double              *V_q,
                    const std::vector<double> &V,
                    const double               eps,
                    const bool                 consistent_mass,
                    const bool                 eafe,
                    WeightedCellMatrices      &cell)
{
  const unsigned int n_q = fe_values.n_quadrature_points, dofs_per_cell = V.size();
  for (unsigned int q = 0; q < n_q; ++q)
    for (unsigned int i = 0; i < dofs_per_cell; ++i)
      {
        cell.lumped(i) +=
            std::exp(-(V_q[q] - V[i]) / eps) * fe_values.shape_value(i, q) * fe_values.JxW(q);
        for (unsigned int j = 0; j < dofs_per_cell; ++j)
          {
            const double weight = eafe ? 1.0 : std::exp(-(V_q[q] - (V[i] + V[j]) / 2) / eps);
            if (consistent_mass)
              cell.mass(i, j) += std::exp(-(V_q[q] - (V[i] + V[j]) / 2) / eps) *
                                 fe_values.shape_value(i, q) * fe_values.shape_value(j, q) *
                                 fe_values.JxW(q);
            // Q1 weighs the geometric stiffness by edge averages (EAFE) afterwards.
            cell.stiffness(i, j) += eps * weight * fe_values.shape_grad(i, q) *
                                    fe_values.shape_grad(j, q) * fe_values.JxW(q);
          }
      }
}

/** Degree 1: the direct lumped mass and geometric stiffness, the same operations as above. */
template <int dim>
void geometric_stiffness_and_lumped_mass(const FEValues<dim>       &fe_values,
                                         const double              *V_q,
                                         const std::vector<double> &V,
                                         const double               eps,
                                         WeightedCellMatrices      &cell)
{
  const unsigned int n_q = fe_values.n_quadrature_points, dofs_per_cell = V.size();
  const double       weight = 1.0;
  for (unsigned int q = 0; q < n_q; ++q)
    for (unsigned int i = 0; i < dofs_per_cell; ++i)
      {
        cell.lumped(i) +=
            std::exp(-(V_q[q] - V[i]) / eps) * fe_values.shape_value(i, q) * fe_values.JxW(q);
        for (unsigned int j = 0; j < dofs_per_cell; ++j)
          cell.stiffness(i, j) += eps * weight * fe_values.shape_grad(i, q) *
                                  fe_values.shape_grad(j, q) * fe_values.JxW(q);
      }
}

/**
 * exp(-(V_q - (V_i + V_j)/2)/eps) = w_q e_i e_j with w_q = exp(-(V_q - c)/eps) and
 * e_i = exp((V_i - c)/(2 eps)): M_ij = e_i e_j sum_q w_q JxW_q phi_i phi_j, the same for K
 * with the gradients, and the row sums int pi phi_i / pi_i = e_i^2 sum_q w_q JxW_q phi_i.
 * The sums are B^T B with B_qi = sqrt(w_q JxW_q) phi_i(q) (BLAS gemm); the lower triangle is
 * kept and mirrored, so that the matrices are symmetric bit for bit.
 */
template <int dim>
void factorised_weights(const FEValues<dim>       &fe_values,
                        const double              *V_q,
                        const std::vector<double> &V,
                        const double               eps,
                        const double               c,
                        const bool                 consistent_mass,
                        const bool                 eafe,
                        WeightedCellMatrices      &cell)
{
  const unsigned int n_q = fe_values.n_quadrature_points, n = V.size();
  auto              &s = cell.point_factor, &e = cell.node_factor;
  auto              &values = cell.weighted_values, &gradients = cell.weighted_gradients;
  s.resize(n_q);
  e.resize(n);
  values.reinit(n_q, n, true);
  if (!eafe)
    gradients.reinit(n_q * dim, n, true);
  for (unsigned int q = 0; q < n_q; ++q)
    s[q] = std::exp(-(V_q[q] - c) / (2 * eps)) * std::sqrt(fe_values.JxW(q));
  for (unsigned int i = 0; i < n; ++i)
    e[i] = std::exp((V[i] - c) / (2 * eps));

  for (unsigned int q = 0; q < n_q; ++q)
    for (unsigned int i = 0; i < n; ++i)
      {
        values(q, i) = s[q] * fe_values.shape_value(i, q);
        if (!eafe)
          {
            cell.lumped(i) += s[q] * values(q, i);
            const Tensor<1, dim> &gradient = fe_values.shape_grad(i, q);
            for (unsigned int d = 0; d < dim; ++d)
              gradients(q * dim + d, i) = s[q] * gradient[d];
          }
      }
  if (consistent_mass)
    values.Tmmult(cell.mass, values);
  if (!eafe)
    gradients.Tmmult(cell.stiffness, gradients);

  for (unsigned int i = 0; i < n; ++i)
    {
      for (unsigned int j = 0; j <= i; ++j)
        {
          if (consistent_mass)
            cell.mass(j, i) = cell.mass(i, j) = e[i] * e[j] * cell.mass(i, j);
          if (!eafe)
            cell.stiffness(j, i) = cell.stiffness(i, j) = eps * e[i] * e[j] * cell.stiffness(i, j);
        }
      if (!eafe)
        cell.lumped(i) *= e[i] * e[i];
    }
}
} // namespace

template <int dim>
void weighted_cell_matrices(const FEValues<dim>       &fe_values,
                            const double              *V_q,
                            const std::vector<double> &V,
                            const double               eps,
                            const bool                 consistent_mass,
                            const bool                 eafe,
                            const WeightEvaluation     evaluation,
                            WeightedCellMatrices      &cell)
{
  const unsigned int n_q = fe_values.n_quadrature_points, n = V.size();
  cell.mass.reinit(consistent_mass ? n : 0, consistent_mass ? n : 0);
  cell.stiffness.reinit(n, n);
  cell.lumped.reinit(n);

  // c is the midpoint of V's range over the cell, so that w_q and e_i e_j lie on either side
  // of 1 symmetrically: see max_factorised_spread.
  const auto [q_low, q_high] = std::minmax_element(V_q, V_q + n_q);
  const auto [n_low, n_high] = std::minmax_element(V.begin(), V.end());
  const double low = std::min(*q_low, *n_low), high = std::max(*q_high, *n_high);
  cell.direct_fallback =
      evaluation == WeightEvaluation::direct || !((high - low) / eps <= max_factorised_spread);
  if (cell.direct_fallback)
    {
      direct_weights(fe_values, V_q, V, eps, consistent_mass, eafe, cell);
      return;
    }
  if (eafe)
    geometric_stiffness_and_lumped_mass(fe_values, V_q, V, eps, cell);
  if (!eafe || consistent_mass)
    factorised_weights(fe_values, V_q, V, eps, low + (high - low) / 2, consistent_mass, eafe, cell);
}

#define DENSITYFLOW_INSTANTIATE(dim)                                                               \
  template void weighted_cell_matrices(const FEValues<dim> &,                                      \
                                       const double *,                                             \
                                       const std::vector<double> &,                                \
                                       const double,                                               \
                                       const bool,                                                 \
                                       const bool,                                                 \
                                       const WeightEvaluation,                                     \
                                       WeightedCellMatrices &);
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
#undef DENSITYFLOW_INSTANTIATE
} // namespace densityflow
