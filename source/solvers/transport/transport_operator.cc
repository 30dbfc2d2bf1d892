#include <densityflow/base/compensated_sum.h>
#include <densityflow/base/exceptions.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/petsc_check.h>
#include <densityflow/solvers/transport/inflow.h>
#include <densityflow/solvers/transport/transport_operator.h>

#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/sparsity_tools.h>

#include <petscmat.h>

#include <cmath>
#include <sstream>

namespace densityflow
{
template <int dim>
void DGDiscretization<dim>::reinit_flux_matrix(PETScWrappers::MPI::SparseMatrix &matrix) const
{
  DynamicSparsityPattern pattern(locally_relevant_dofs);
  DoFTools::make_flux_sparsity_pattern(dof_handler, pattern);
  // deal.II 9.4 couples cells across periodic walls only where they are of one level; a
  // hanging face there would have its terms dropped by PETSc without a word (the mass
  // crossing it would vanish). Both directions, since upwinding may go either way.
  const unsigned int                   n = dof_handler.get_fe().n_dofs_per_cell();
  std::vector<types::global_dof_index> these(n), those(n);
  const auto                           couple = [&](const auto &across) {
    across->get_dof_indices(those);
    for (const auto i : these)
      pattern.add_entries(i, those.begin(), those.end());
    for (const auto j : those)
      pattern.add_entries(j, these.begin(), these.end());
  };
  if (!dof_handler.get_triangulation().get_periodic_face_map().empty())
    for (const auto &cell : dof_handler.active_cell_iterators())
      if (cell->is_locally_owned())
        for (const unsigned int f : cell->face_indices())
          if (cell->has_periodic_neighbor(f))
            {
              cell->get_dof_indices(these);
              if (const FaceKind kind = face_kind(cell, f); kind == FaceKind::finer_across)
                for (unsigned int sf = 0; sf < n_subfaces(cell, f); ++sf)
                  couple(across_subface(cell, f, sf).first);
              else if (kind == FaceKind::coarser_across)
                couple(std::get<0>(across_coarser(cell, f)));
            }
  SparsityTools::distribute_sparsity_pattern(
      pattern, locally_owned_dofs, communicator, locally_relevant_dofs);
  matrix.reinit(locally_owned_dofs, locally_owned_dofs, pattern, communicator);
}

template <int dim>
void DGDiscretization<dim>::reinit_cell_matrices(
    std::initializer_list<PETScWrappers::MPI::SparseMatrix *> matrices) const
{
  DynamicSparsityPattern pattern(locally_relevant_dofs);
  DoFTools::make_sparsity_pattern(dof_handler, pattern);
  SparsityTools::distribute_sparsity_pattern(
      pattern, locally_owned_dofs, communicator, locally_relevant_dofs);
  for (auto *matrix : matrices)
    matrix->reinit(locally_owned_dofs, locally_owned_dofs, pattern, communicator);
}

template <int dim>
TransportOperator<dim>::TransportOperator(const DGDiscretization<dim> &space,
                                          const Physics<dim>          &physics,
                                          const bool                   explicit_steps)
    : discretization(space)
    , physics(physics)
    , explicit_steps(explicit_steps)
{
  space.reinit_cell_matrices({&mass, &inverse_mass});
  ones.reinit(space.locally_owned_dofs, space.communicator);
  ones = 1.0;
  assemble_mass();
  if (physics.diffusion() > 0)
    diffusion = std::make_unique<DiffusionOperator<dim>>(space, physics.diffusion());

  // Fixed operators are assembled now; a general b(x, t) at its first use.
  if (!physics.drift_depends_on_time())
    {
      forward = std::make_unique<AdvectionOperator<dim>>();
      assemble_advection([&](const Point<dim> &x) { return physics.drift(x, 0.0); }, 0.0, *forward);
    }
  else if (physics.drift_is_separable())
    {
      forward  = std::make_unique<AdvectionOperator<dim>>();
      backward = std::make_unique<AdvectionOperator<dim>>();
      assemble_advection(
          [&](const Point<dim> &x) { return physics.velocity(x, 0.0); }, 0.0, *forward);
      assemble_advection(
          [&](const Point<dim> &x) { return -physics.velocity(x, 0.0); }, 0.0, *backward);
    }
}

template <int dim>
void TransportOperator<dim>::assemble_mass()
{
  const FiniteElement<dim> &fe = discretization.dof_handler.get_fe();
  FEValues<dim>             fe_values(
      discretization.mapping, fe, discretization.quadrature, update_values | update_JxW_values);
  const unsigned int                   n = fe.n_dofs_per_cell();
  FullMatrix<double>                   cell_mass(n), cell_inverse(n);
  std::vector<types::global_dof_index> dofs(n);
  for (const auto &cell : discretization.dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        cell_mass = 0;
        for (unsigned int q = 0; q < fe_values.n_quadrature_points; ++q)
          for (unsigned int i = 0; i < n; ++i)
            for (unsigned int j = 0; j < n; ++j)
              cell_mass(i, j) +=
                  fe_values.shape_value(i, q) * fe_values.shape_value(j, q) * fe_values.JxW(q);
        cell_inverse.invert(cell_mass);
        cell->get_dof_indices(dofs);
        mass.add(dofs, cell_mass);
        inverse_mass.add(dofs, cell_inverse);
      }
  mass.compress(VectorOperation::add);
  inverse_mass.compress(VectorOperation::add);
}

template <int dim>
void TransportOperator<dim>::assemble_advection(const typename AdvectionOperator<dim>::Velocity &b,
                                                const double                                     t,
                                                AdvectionOperator<dim> &advection) const
{
  // Only an operator assembled once drops the stored zeros of its explicit form.
  const bool once = !physics.drift_depends_on_time() || physics.drift_is_separable();
  advection.assemble(discretization, b, ones, explicit_steps ? &inverse_mass : nullptr, once);
  // A periodic expression differs between the walls by the round-off of evaluating it at
  // coordinates a period apart: far below this. The values are all ranks', so every rank
  // throws the same.
  const auto [jump, scale] = advection.periodic_jump;
  if (jump > 1e-8 * scale)
    {
      std::ostringstream message;
      message << "The transport velocity b (Physics/Velocity, Physics/Potential) is not periodic "
              << "in the periodic directions (Mesh/Periodic): at t = " << t << " it differs by "
              << jump << " between points on opposite walls (largest |b| there " << scale
              << "; the tolerance is 1e-8 of it). Periodic directions need b(x + period) = b(x).";
      if (t > 0)
        throw RunError(message.str());
      throw InputError(message.str());
    }
}

template <int dim>
AdvectionAtTime TransportOperator<dim>::advection_at(const double t)
{
  if (!physics.drift_depends_on_time())
    return {&forward->matrix, forward->explicit_matrix, &forward->outflow_weights, 1.0};
  if (physics.drift_is_separable())
    {
      const double                  f     = physics.velocity_factor(t);
      const AdvectionOperator<dim> &which = f >= 0 ? *forward : *backward;
      return {&which.matrix, which.explicit_matrix, &which.outflow_weights, std::abs(f)};
    }
  if (!forward)
    forward = std::make_unique<AdvectionOperator<dim>>();
  if (assembled_time != t)
    {
      assemble_advection([&](const Point<dim> &x) { return physics.drift(x, t); }, t, *forward);
      assembled_time = t;
    }
  return {&forward->matrix, forward->explicit_matrix, &forward->outflow_weights, 1.0};
}

template <int dim>
void TransportOperator<dim>::set_stage_velocity(StagePreparation                          prepare,
                                                typename AdvectionOperator<dim>::Velocity b)
{
  stage_preparation = std::move(prepare);
  stage_velocity    = std::move(b);
  stage             = std::make_unique<AdvectionOperator<dim>>();
}

template <int dim>
double TransportOperator<dim>::explicit_rate(const PETScWrappers::MPI::Vector &u,
                                             const double                      t,
                                             PETScWrappers::MPI::Vector       &du,
                                             double                           *factor)
{
  if (stage_preparation)
    {
      stage_preparation(u, t);
      // The upwind side changes with the density, so the pattern keeps its zeros.
      stage->assemble(discretization, stage_velocity, ones, &inverse_mass, false);
    }
  const AdvectionAtTime A =
      stage_preparation
          ? AdvectionAtTime{&stage->matrix, stage->explicit_matrix, &stage->outflow_weights, 1.0}
          : advection_at(t);
  DENSITYFLOW_PETSC(MatMult(static_cast<Mat>(A.explicit_matrix), u, du));
  double rate = A.scale * compensated_dot(*A.outflow_weights, u);
  if (factor != nullptr && physics.inflow_is_zero())
    {
      *factor = -A.scale;
      return rate;
    }
  du *= -A.scale;
  if (factor != nullptr)
    *factor = 1;
  if (!physics.inflow_is_zero())
    {
      PETScWrappers::MPI::Vector source(du), scaled(du);
      inflow(t, source);
      inverse_mass.vmult(scaled, source);
      du += scaled;
      rate -= compensated_sum(source);
    }
  return rate;
}

template <int dim>
void TransportOperator<dim>::apply(const AdvectionAtTime            &A,
                                   const PETScWrappers::MPI::Vector &u,
                                   PETScWrappers::MPI::Vector       &result) const
{
  A.matrix->vmult(result, u);
  result *= A.scale;
  if (diffusion)
    {
      PETScWrappers::MPI::Vector work(u);
      diffusion->matrix.vmult(work, u);
      result += work;
    }
}

template <int dim>
void TransportOperator<dim>::inflow(const double t, PETScWrappers::MPI::Vector &source) const
{
  assemble_inflow(discretization, physics, t, source);
}

template <int dim>
double TransportOperator<dim>::cfl_rate(const double t) const
{
  if (!physics.drift_depends_on_time())
    return forward->rate;
  if (physics.drift_is_separable())
    return std::abs(physics.velocity_factor(t)) * std::max(forward->rate, backward->rate);
  // A general b(x, t): max_K |b|_1 / h_K at the quadrature points, without assembling.
  FEValues<dim> fe_values(discretization.mapping,
                          discretization.dof_handler.get_fe(),
                          discretization.quadrature,
                          update_quadrature_points);
  double        rate = 0;
  for (const auto &cell : discretization.dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        const double h = cell->minimum_vertex_distance();
        for (unsigned int q = 0; q < fe_values.n_quadrature_points; ++q)
          {
            const Tensor<1, dim> b  = physics.drift(fe_values.quadrature_point(q), t);
            double               l1 = 0;
            for (unsigned int d = 0; d < dim; ++d)
              l1 += std::abs(b[d]);
            rate = std::max(rate, l1 / h);
          }
      }
  return Utilities::MPI::max(rate, discretization.communicator);
}

template <int dim>
bool TransportOperator<dim>::reassembled() const
{
  return physics.drift_depends_on_time() && !physics.drift_is_separable();
}

template <int dim>
const PETScWrappers::MPI::SparseMatrix &TransportOperator<dim>::mass_matrix() const
{
  return mass;
}

template <int dim>
const PETScWrappers::MPI::SparseMatrix &TransportOperator<dim>::inverse_mass_matrix() const
{
  return inverse_mass;
}

template <int dim>
const PETScWrappers::MPI::SparseMatrix *TransportOperator<dim>::diffusion_matrix() const
{
  return diffusion ? &diffusion->matrix : nullptr;
}

template <int dim>
const DGDiscretization<dim> &TransportOperator<dim>::space() const
{
  return discretization;
}

template struct DGDiscretization<1>;
template struct DGDiscretization<2>;
template struct DGDiscretization<3>;
template class TransportOperator<1>;
template class TransportOperator<2>;
template class TransportOperator<3>;
} // namespace densityflow
