#include <densityflow/base/compensated_sum.h>
#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/cell_matrix_writer.h>
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>
#include <densityflow/solvers/fokker_planck/weighted_cell_matrices.h>
#include <densityflow/solvers/petsc_check.h>

#include <deal.II/lac/full_matrix.h>

#include <petscmat.h>

#include <algorithm>
#include <cmath>
#include <sstream>

// The weighted matrices of the Fokker-Planck solver: V on the mesh, the scaled mass and
// stiffness matrices (EAFE for Q1) and what the log says about them.

namespace densityflow
{
namespace
{
template <int dim>
std::string point_to_string(const Point<dim> &p)
{
  std::ostringstream out;
  out << "(" << p << ")";
  return out.str();
}

/** The Bernoulli function B(s) = s / (e^s - 1), B(0) = 1, finite for all s. */
double bernoulli(const double s)
{
  if (std::abs(s) < 1e-8)
    return 1.0 - s / 2;
  if (s > 0)
    return s * std::exp(-s) / -std::expm1(-s);
  return s / std::expm1(s);
}

/**
 * EAFE for Q1: turns the geometric stiffness of a cell into the weighted one. The pair
 * (i, j) is weighted by the harmonic mean of pi along the segment x_i x_j for V linear
 * on it, pi_low B(|dV|/eps). Scaled by sqrt(pi_i pi_j) this is B(|s|) e^{|s|/2} =
 * |s| / (2 sinh(|s|/2)), and the diagonal that makes K annihilate root_pi is
 * -sum_j G_ij B(-s_ij), with s_ij = (V_i - V_j)/eps.
 */
void apply_eafe_weights(const std::vector<double> &V,
                        const double               eps,
                        FullMatrix<double>        &cell_stiffness)
{
  const unsigned int dofs_per_cell = V.size();
  for (unsigned int i = 0; i < dofs_per_cell; ++i)
    {
      double diagonal = 0;
      for (unsigned int j = 0; j < dofs_per_cell; ++j)
        if (j != i)
          {
            const double s        = (V[i] - V[j]) / eps;
            const double geometry = cell_stiffness(i, j);
            cell_stiffness(i, j) =
                geometry * (std::abs(s) < 1e-8 ? 1.0 : s / (2 * std::sinh(s / 2)));
            diagonal -= geometry * bernoulli(-s);
          }
      cell_stiffness(i, i) = diagonal;
    }
}

} // namespace

template <int dim>
double FokkerPlanckSolver<dim>::evaluate_potential(const double                t,
                                                   PETScWrappers::MPI::Vector &owned_potential)
{
  const Quadrature<dim> support_quadrature(fe.get_unit_support_points());
  FEValues<dim>         fe_values(mapping, fe, quadrature, update_quadrature_points);
  FEValues<dim>         support_values(mapping, fe, support_quadrature, update_quadrature_points);
  const unsigned int    n_q = quadrature.size(), dofs_per_cell = fe.n_dofs_per_cell();
  std::vector<types::global_dof_index> dof_indices(dofs_per_cell);

  potential_at_quadrature_points.assign(mesh.triangulation().n_active_cells() * n_q, 0.);
  std::vector<bool> done(locally_owned_dofs.n_elements(), false);

  double      minimum = std::numeric_limits<double>::infinity();
  bool        failed  = false;
  std::string message;
  const auto  evaluate = [&](const Point<dim> &x) {
    const double value = physics.potential().value(x, t);
    if (!std::isfinite(value) && !failed)
      {
        failed = true;
        std::ostringstream out;
        out << physics.potential().description() << " is not finite at x = " << point_to_string(x)
            << ", t = " << t << " (value " << value << ").";
        message = out.str();
      }
    minimum = std::min(minimum, value);
    return value;
  };
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        const unsigned int c = cell->active_cell_index();
        fe_values.reinit(cell);
        for (unsigned int q = 0; q < n_q; ++q)
          potential_at_quadrature_points[c * n_q + q] = evaluate(fe_values.quadrature_point(q));
        // Each node's V is evaluated once, by its owner, so that all cells and ranks
        // see the same value and K annihilates the stationary state exactly.
        support_values.reinit(cell);
        cell->get_dof_indices(dof_indices);
        for (unsigned int i = 0; i < dofs_per_cell; ++i)
          if (locally_owned_dofs.is_element(dof_indices[i]))
            {
              const auto k = locally_owned_dofs.index_within_set(dof_indices[i]);
              if (!done[k])
                {
                  owned_potential(dof_indices[i]) = evaluate(support_values.quadrature_point(i));
                  done[k]                         = true;
                }
            }
      }
  owned_potential.compress(VectorOperation::insert);
  throw_if_any(failed, message, mpi_communicator, t > 0);
  return minimum;
}

template <int dim>
void FokkerPlanckSolver<dim>::update_potential(const double t)
{
  if (potential_evaluated && !physics.potential().depends_on_time())
    return;

  PETScWrappers::MPI::Vector owned_potential(locally_owned_dofs, mpi_communicator);
  const double               minimum = evaluate_potential(t, owned_potential);
  if (periodic)
    make_potential_periodic(owned_potential, t);
  const double old_shift = shift;
  shift                  = Utilities::MPI::min(minimum, mpi_communicator);
  for (const auto j : locally_owned_dofs)
    root_pi(j) = std::exp(-(owned_potential(j) - shift) / (2 * physics.diffusion()));
  root_pi.compress(VectorOperation::insert);

  if (potential_evaluated)
    {
      // V changed: carry the stored vectors over to the new scaling. Vectors of
      // values (y) scale by root_pi_new / root_pi_old, tested vectors (M y, K y) by
      // the inverse; both from exponent differences, so nothing over- or underflows.
      PETScWrappers::MPI::Vector up(root_pi), down(root_pi);
      for (const auto j : locally_owned_dofs)
        {
          const double change = (-(owned_potential(j) - shift) + (nodal_potential(j) - old_shift)) /
                                (2 * physics.diffusion());
          up(j)   = std::exp(change);
          down(j) = std::exp(-change);
        }
      up.compress(VectorOperation::insert);
      down.compress(VectorOperation::insert);
      for (auto *v : {&solution, &old_solution})
        v->scale(up);
      for (auto *v : {&mass_solution, &old_mass_solution, &stiffness_solution})
        v->scale(down);
    }
  nodal_potential     = owned_potential;
  potential_evaluated = true;
  matrices_changed    = true;
}

template <int dim>
void FokkerPlanckSolver<dim>::assemble_matrices()
{
  const double  eps = physics.diffusion();
  FEValues<dim> fe_values(
      mapping, fe, quadrature, update_values | update_gradients | update_JxW_values);
  const unsigned int   n_q = quadrature.size(), dofs_per_cell = fe.n_dofs_per_cell();
  const bool           consistent_mass = !discretization.mass_lumping, eafe = fe.degree == 1;
  WeightedCellMatrices cell_matrices;
  std::vector<double>  V(dofs_per_cell);
  std::vector<types::global_dof_index> dof_indices(dofs_per_cell), cell_dofs;

  stiffness_matrix = 0;
  lumped_mass      = 0;
  if (consistent_mass)
    mass_matrix = 0;

  // M and K share one pattern: each cell's positions in it are found once for both.
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        cell->get_dof_indices(dof_indices);
        cell_dofs.insert(cell_dofs.end(), dof_indices.begin(), dof_indices.end());
      }
  CellMatrixWriter         writer(stiffness_matrix, cell_dofs, dofs_per_cell, false);
  CellMatrixWriter::Target stiffness = writer.open(stiffness_matrix), mass;
  if (consistent_mass)
    mass = writer.open(mass_matrix);

  std::size_t c = 0;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        std::copy(cell_dofs.begin() + c * dofs_per_cell,
                  cell_dofs.begin() + (c + 1) * dofs_per_cell,
                  dof_indices.begin());
        // One access to the ghosted vector per cell, not one per entry.
        nodal_potential.extract_subvector_to(dof_indices.begin(), dof_indices.end(), V.begin());
        // Scaled entries: M_ij = int pi phi_i phi_j / sqrt(pi_i pi_j), whose weight
        // exp(-(V - (V_i + V_j)/2)/eps) involves differences of V only.
        weighted_cell_matrices(fe_values,
                               &potential_at_quadrature_points[cell->active_cell_index() * n_q],
                               V,
                               eps,
                               consistent_mass,
                               eafe,
                               WeightEvaluation::factorised,
                               cell_matrices);
        if (eafe)
          apply_eafe_weights(V, eps, cell_matrices.stiffness);

        writer.add(stiffness, c, cell_matrices.stiffness);
        lumped_mass.add(dof_indices, cell_matrices.lumped);
        if (consistent_mass)
          writer.add(mass, c, cell_matrices.mass);
        ++c;
      }
  writer.close(stiffness);
  if (consistent_mass)
    writer.close(mass);
  stiffness_matrix.compress(VectorOperation::add);
  lumped_mass.compress(VectorOperation::add);
  if (!discretization.mass_lumping)
    mass_matrix.compress(VectorOperation::add);

  // Z_h = 1^T M_unscaled 1 = sum_j lumped_j pi_j (row sums, lumped or not).
  PETScWrappers::MPI::Vector pi(root_pi);
  pi.scale(root_pi);
  partition_function = compensated_dot(lumped_mass, pi);
  matrices_changed   = true;
  projection.reset();
}

template <int dim>
types::global_dof_index FokkerPlanckSolver<dim>::n_positive_off_diagonals() const
{
  types::global_dof_index count = 0;
  for (const auto row : locally_owned_dofs)
    for (auto entry = stiffness_matrix.begin(row); entry != stiffness_matrix.end(row); ++entry)
      if (entry->column() != row &&
          entry->value() > 1e-14 * std::abs(stiffness_matrix.diag_element(row)))
        ++count;
  return Utilities::MPI::sum(count, mpi_communicator);
}

#define DENSITYFLOW_INSTANTIATE(dim)                                                                          \
  template double                  FokkerPlanckSolver<dim>::evaluate_potential(const double,                  \
                                                              PETScWrappers::MPI::Vector &); \
  template void                    FokkerPlanckSolver<dim>::update_potential(const double);                   \
  template void                    FokkerPlanckSolver<dim>::assemble_matrices();                              \
  template types::global_dof_index FokkerPlanckSolver<dim>::n_positive_off_diagonals() const;
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
#undef DENSITYFLOW_INSTANTIATE
} // namespace densityflow
