#include <densityflow/base/compensated_sum.h>
#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>
#include <densityflow/solvers/fokker_planck/weighted_cell_matrices.h>
#include <densityflow/solvers/petsc_check.h>

#include <deal.II/distributed/solution_transfer.h>
#include <deal.II/distributed/tria.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_dgq.h>
#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/la_parallel_vector.h>

#include <petscmat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <tuple>

// Mesh adaptation of the Fokker-Planck solver (Mesh/Adaptivity): marking, refinement and
// the transfer of the solution and its BDF2 history to the new mesh.
//
// The unknown is y = rho / sqrt(pi) and the mass root_pi^T M y = int_h pi u_h, u = rho / pi,
// by each cell's Gauss rule. On a refined cell the function rho_h = pi u_h does not change if
// u_h is interpolated (u_h is in the finer space); only its Gauss rule does. On a coarsened
// family no Q_p function u on the parent has the children's rho_h, and interpolation loses
// mass; what can be kept exactly is every moment int rho_h v against the parent's Q_p
// functions v (the children's Gauss rules), whose v = 1 is the family's mass. Both are
// carried by deal.II's DG SolutionTransfer on FE_DGQ(p): u_h copied into it (refinement
// interpolates, which is exact), and the cellwise L2 projection of rho_h (coarsening is the
// L2 projection onto the parent, which keeps exactly these moments). On the new mesh the load
// b_i = int rho phi_i takes the moments on coarsened parents and the new Gauss rule of pi u_h
// elsewhere, and y solves the weighted projection M y = b / root_pi: where nothing was
// coarsened it gives back u_h itself. Its mass is sum_i b_i, the old mass up to the Gauss
// rules' difference on refined cells, which a final scaling removes (it keeps u = const).

namespace densityflow
{
namespace
{
using DGVector = LinearAlgebra::distributed::Vector<double>;
/** u on the solver's own (continuous) DoFs, ghosted, as deal.II's evaluations read it fast. */
using NodalVector = LinearAlgebra::distributed::Vector<double>;

/** The fields carried by the DG transfer: u and rho of y and of the BDF2 history, the level. */
enum Field : unsigned int
{
  u_now,
  rho_now,
  u_old,
  rho_old,
  old_level,
  n_fields
};

double seconds_between(const std::chrono::steady_clock::time_point from,
                       const std::chrono::steady_clock::time_point to)
{
  return std::chrono::duration<double>(to - from).count();
}

/** y_j e^{(V_j - shift) / (2 eps)} = u_j without overflowing where y_j is small. */
double nodal_u(const double y, const double V, const double shift, const double eps)
{
  const double a = (V - shift) / (2 * eps);
  if (a < 600 || y == 0)
    return y * std::exp(a);
  return std::copysign(std::exp(std::log(std::abs(y)) + a), y);
}
} // namespace

template <int dim>
struct FokkerPlanckSolver<dim>::TransferFields
{
  explicit TransferFields(const Triangulation<dim> &triangulation)
      : dg(triangulation)
  {}
  DoFHandler<dim>       dg;
  std::vector<DGVector> values;
  /**
   * The projection onto the new mesh, set up by the first state and used by both: the
   * consistent weighted mass (own_mass where the scheme lumps it; condensed by Q with
   * hanging nodes), the constrained space's lumped mass, and the CG solver with its
   * preconditioner (one MatPtAP and one set-up per adaptation, not one per state).
   */
  mutable PETScWrappers::MPI::SparseMatrix own_mass, condensed_mass;
  mutable PETScWrappers::MPI::Vector       lumped;
  mutable std::unique_ptr<LinearSolver>    projection;
};

template <int dim>
void FokkerPlanckSolver<dim>::enable_adaptivity(
    const AdaptivityParameters                     &parameters,
    parallel::distributed::Triangulation<dim, dim> &triangulation)
{
  AssertThrow(&triangulation == &mesh.triangulation(),
              ExcMessage("enable_adaptivity() needs the solver's own triangulation."));
  if (!parameters.enabled())
    return;
  if (absorbing)
    throw InputError("Mesh/Adaptivity/Interval: adaptive meshes are not yet supported with "
                     "absorbing walls or windows (Mesh/Absorbing walls, Absorbing windows).");
  if (physics.potential().depends_on_time())
    throw InputError("Mesh/Adaptivity/Interval: adaptive meshes are not yet supported for a "
                     "potential that depends on t (Physics/Potential).");
  adaptivity             = parameters;
  adaptive_triangulation = &triangulation;
  // Periodic walls and later meshes' hanging nodes share one map Q (set_up_hanging_nodes()),
  // from the first mesh on: a restart, which rebuilds the loaded mesh, then continues the
  // same run to the bit. (V's periodicity has been checked on the first mesh.)
  if (periodic)
    rebuild_after_mesh_change();
}

template <int dim>
void FokkerPlanckSolver<dim>::rebuild_after_mesh_change()
{
  dof_handler.distribute_dofs(fe);
  locally_owned_dofs = dof_handler.locally_owned_dofs();
  DoFTools::extract_locally_relevant_dofs(dof_handler, locally_relevant_dofs);
  ghosted_solution.reinit(locally_owned_dofs, locally_relevant_dofs, mpi_communicator);
  linear_solver = std::make_unique<LinearSolver>(linear_solver_parameters, mpi_communicator);
  set_up_system();

  // V on the new nodes and Gauss points. The shift stays: u = rho / pi of the carried
  // fields refers to it, and it only keeps the exponents in range.
  PETScWrappers::MPI::Vector owned_potential(locally_owned_dofs, mpi_communicator);
  evaluate_potential(current_time, owned_potential);
  for (const auto j : locally_owned_dofs)
    root_pi(j) = std::exp(-(owned_potential(j) - shift) / (2 * physics.diffusion()));
  root_pi.compress(VectorOperation::insert);
  nodal_potential = owned_potential;
  set_up_hanging_nodes();
  assemble_matrices();
  matrices_changed = true;

  patch_values.reset();
}

template <int dim>
void FokkerPlanckSolver<dim>::set_up_hanging_nodes()
{
  // The same map Q as for periodic walls (fokker_planck_periodicity.cc), with u's weights
  // carried over to y = u root_pi: y_j = sum_m c_jm (root_pi_j / root_pi_m) y_m. On a
  // periodic mesh the walls' identities join the hanging nodes' constraints (a hanging
  // node on an upper wall, or a wall's cells finer than their images across it, make
  // chains that close() resolves); V is not copied to the upper walls here, the weights
  // carry its round-off.
  DENSITYFLOW_PETSC(MatDestroy(&condensed_product)); // a product of the old Q
  AffineConstraints<double> constraints(locally_relevant_dofs);
  DoFTools::make_hanging_node_constraints(dof_handler, constraints);
  for (unsigned int d = 0; d < dim; ++d)
    if (mesh.periodic_directions()[d])
      DoFTools::make_periodicity_constraints(dof_handler, 2 * d, 2 * d + 1, d, constraints);
  // A rank may lack a wall's identity that a chain through its nodes needs (the image
  // cell is another rank's and no ghost here): the ranks share their lines first.
  if (mesh.is_periodic())
    constraints.make_consistent_in_parallel(
        locally_owned_dofs, locally_relevant_dofs, mpi_communicator);
  constraints.close();
  periodic_nodes.clear();
  bool any = false;
  for (const auto j : locally_owned_dofs)
    any |= constraints.is_constrained(j);
  hanging_nodes = Utilities::MPI::logical_or(any, mpi_communicator);
  periodic      = hanging_nodes;
  if (!hanging_nodes)
    return;
  const double           eps = physics.diffusion();
  DynamicSparsityPattern pattern(dof_handler.n_dofs(), dof_handler.n_dofs(), locally_owned_dofs);
  for (const auto j : locally_owned_dofs)
    if (constraints.is_constrained(j))
      for (const auto &[m, c] : *constraints.get_constraint_entries(j))
        pattern.add(j, m);
    else
      pattern.add(j, j);
  periodicity.reinit(locally_owned_dofs, locally_owned_dofs, pattern, mpi_communicator);
  for (const auto j : locally_owned_dofs)
    if (constraints.is_constrained(j))
      {
        for (const auto &[m, c] : *constraints.get_constraint_entries(j))
          periodicity.set(
              j, m, c * std::exp((nodal_potential(m) - nodal_potential(j)) / (2 * eps)));
        periodic_nodes.push_back(static_cast<PetscInt>(j));
      }
    else
      periodicity.set(j, j, 1.0);
  periodicity.compress(VectorOperation::insert);

  // Where V changes by much over a coarse cell the weights reach e^{dV/(2 eps)}, and so do
  // the condensed matrices' entries of those masters (1e14 measured on a 4 x 4 OU mesh):
  // the solvers' unpreconditioned residuals then stall. The unknowns of the masters are
  // scaled, y = Q D z with D_m = 1 / max(1, max_j |Q_jm|), which keeps Q D (D^{-1} root_pi)
  // = root_pi.
  Mat transpose;
  DENSITYFLOW_PETSC(MatTranspose(static_cast<Mat>(periodicity), MAT_INITIAL_MATRIX, &transpose));
  column_scale.reinit(locally_owned_dofs, mpi_communicator);
  DENSITYFLOW_PETSC(MatGetRowMaxAbs(transpose, column_scale, nullptr));
  DENSITYFLOW_PETSC(MatDestroy(&transpose));
  for (const auto j : locally_owned_dofs)
    column_scale(j) = 1 / std::max(1.0, static_cast<double>(column_scale(j)));
  column_scale.compress(VectorOperation::insert);
  DENSITYFLOW_PETSC(MatDiagonalScale(periodicity.petsc_matrix(), nullptr, column_scale));
}

template <int dim>
void FokkerPlanckSolver<dim>::condense_lumped_mass(PETScWrappers::MPI::Vector &lumped) const
{
  // With y = Q D z, the lumped projection z_m = (D Q^T rhs)_m / l_m keeps the mass r^T rhs
  // for l = (Q D)^T (m root_pi) / (D^{-1} root_pi) (m the scaled lumped mass).
  lumped.scale(root_pi);
  condense(lumped);
  for (const auto j : locally_owned_dofs)
    lumped(j) = lumped(j) * column_scale(j) / root_pi(j);
  lumped.compress(VectorOperation::insert);
}

template <int dim>
void FokkerPlanckSolver<dim>::refine_without_transfer()
{
  if constexpr (dim == 1)
    {
      AssertThrow(false, ExcMessage("Adaptivity needs p4est (2D, 3D)."));
    }
  else
    {
      PETScWrappers::MPI::Vector rho(solution);
      rho.scale(root_pi);
      PETScWrappers::MPI::Vector ghosted(
          locally_owned_dofs, locally_relevant_dofs, mpi_communicator);
      ghosted = rho;
      mark_cells(adaptivity, mapping, dof_handler, ghosted, *adaptive_triangulation);
      prepare_adaptation(*adaptive_triangulation);
      adaptive_triangulation->execute_coarsening_and_refinement();
      rebuild_after_mesh_change();
    }
}

/**
 * The DG fields of one state y on the old mesh (values at the FE_DGQ support points): u_h
 * itself and the cellwise L2 projection of rho_h = pi u_h by the solver's Gauss rule.
 */
template <int dim>
static void fill_dg_fields(const DoFHandler<dim>     &dof_handler,
                           const DoFHandler<dim>     &dg,
                           const Mapping<dim>        &mapping,
                           const Quadrature<dim>     &quadrature,
                           const std::vector<double> &pi_at_quadrature_points,
                           const NodalVector         &ghosted_u,
                           DGVector                  &u_field,
                           DGVector                  &rho_field)
{
  const auto        &fe = dof_handler.get_fe(), &fe_dg = dg.get_fe();
  const unsigned int n_q = quadrature.size(), n_dg = fe_dg.n_dofs_per_cell();
  FEValues<dim>      u_values(mapping, fe, quadrature, update_values);
  FEValues<dim>      u_at_support(
      mapping, fe, Quadrature<dim>(fe_dg.get_unit_support_points()), update_values);
  FEValues<dim>       dg_values(mapping, fe_dg, quadrature, update_values | update_JxW_values);
  std::vector<double> u_q(n_q), u_support(n_dg);
  std::vector<types::global_dof_index> dg_indices(n_dg);
  FullMatrix<double>                   cell_mass(n_dg, n_dg);
  Vector<double>                       moments(n_dg), coefficients(n_dg);
  std::vector<double>                  inverted_for;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        const typename DoFHandler<dim>::active_cell_iterator dg_cell(
            &dof_handler.get_triangulation(), cell->level(), cell->index(), &dg);
        u_values.reinit(cell);
        u_at_support.reinit(cell);
        dg_values.reinit(dg_cell);
        u_values.get_function_values(ghosted_u, u_q);
        u_at_support.get_function_values(ghosted_u, u_support);
        dg_cell->get_dof_indices(dg_indices);
        moments          = 0;
        const double *pi = &pi_at_quadrature_points[cell->active_cell_index() * n_q];
        for (unsigned int q = 0; q < n_q; ++q)
          for (unsigned int i = 0; i < n_dg; ++i)
            moments(i) += pi[q] * u_q[q] * (dg_values.shape_value(i, q) * dg_values.JxW(q));
        // The inverse mass matrix depends on the cell through JxW only: cells of one size on
        // a box share it, so it is inverted again only when JxW changes (to the bit).
        const std::vector<double> &JxW = dg_values.get_JxW_values();
        if (JxW != inverted_for)
          {
            cell_mass = 0;
            for (unsigned int q = 0; q < n_q; ++q)
              for (unsigned int i = 0; i < n_dg; ++i)
                {
                  const double psi = dg_values.shape_value(i, q) * dg_values.JxW(q);
                  for (unsigned int j = 0; j < n_dg; ++j)
                    cell_mass(i, j) += psi * dg_values.shape_value(j, q);
                }
            cell_mass.gauss_jordan();
            inverted_for = JxW;
          }
        cell_mass.vmult(coefficients, moments);
        for (unsigned int i = 0; i < n_dg; ++i)
          {
            u_field(dg_indices[i])   = u_support[i];
            rho_field(dg_indices[i]) = coefficients(i);
          }
      }
}

template <int dim>
AdaptationReport FokkerPlanckSolver<dim>::adapt_mesh(const bool estimate_and_mark)
{
  AssertThrow(adaptive_triangulation != nullptr, ExcMessage("enable_adaptivity() first."));
  if constexpr (dim == 1)
    {
      (void)estimate_and_mark;
      AssertThrow(false, ExcMessage("Adaptivity needs p4est (2D, 3D)."));
      return {};
    }
  else
    {
      auto            &tria  = *adaptive_triangulation;
      const auto       start = std::chrono::steady_clock::now();
      AdaptationReport report;
      report.cells_before           = tria.n_global_active_cells();
      report.mass_before            = current_mass();
      const double eps              = physics.diffusion(),
                   old_history_mass = compensated_dot(root_pi, old_mass_solution);

      // u of both states (ghosted; from PETSc's arrays, since a call per value cost more
      // than the arithmetic), and the flags.
      std::array<NodalVector, 2> u;
      {
        const PetscScalar *V;
        DENSITYFLOW_PETSC(VecGetArrayRead(static_cast<const Vec &>(nodal_potential), &V));
        for (unsigned int s = 0; s < 2; ++s)
          {
            const PETScWrappers::MPI::Vector &y = s == 0 ? solution : old_solution;
            const PetscScalar                *values;
            u[s].reinit(locally_owned_dofs, locally_relevant_dofs, mpi_communicator);
            DENSITYFLOW_PETSC(VecGetArrayRead(static_cast<const Vec &>(y), &values));
            for (unsigned int k = 0; k < u[s].locally_owned_size(); ++k)
              u[s].local_element(k) = nodal_u(values[k], V[k], shift, eps);
            DENSITYFLOW_PETSC(VecRestoreArrayRead(static_cast<const Vec &>(y), &values));
            u[s].update_ghost_values();
          }
        DENSITYFLOW_PETSC(VecRestoreArrayRead(static_cast<const Vec &>(nodal_potential), &V));
      }
      if (estimate_and_mark)
        {
          PETScWrappers::MPI::Vector rho(solution);
          rho.scale(root_pi);
          PETScWrappers::MPI::Vector ghosted(
              locally_owned_dofs, locally_relevant_dofs, mpi_communicator);
          ghosted = rho;
          mark_cells(adaptivity, mapping, dof_handler, ghosted, tria);
        }
      prepare_adaptation(tria);
      std::tie(report.refined, report.coarsened) = count_flagged_cells(tria);
      if (report.refined == 0 && report.coarsened == 0)
        {
          // Nothing to change (the band is already where the indicator wants it): the
          // DoFs, matrices, solver and both states stay as they are.
          report.cells_after      = report.cells_before;
          report.mass_transferred = report.mass_after = report.mass_before;
          double smallest                             = std::numeric_limits<double>::infinity();
          for (const auto j : locally_owned_dofs)
            smallest = std::min(smallest, static_cast<double>(solution(j)));
          report.min_consistent = Utilities::MPI::min(smallest, mpi_communicator);
          last_report           = report;
          return report;
        }

      std::vector<double> pi_q(potential_at_quadrature_points.size());
      for (std::size_t k = 0; k < pi_q.size(); ++k)
        pi_q[k] = std::exp(-(potential_at_quadrature_points[k] - shift) / eps);

      const FE_DGQ<dim> fe_dg(fe.degree);
      TransferFields    carried(tria);
      DoFHandler<dim>  &dg = carried.dg;
      dg.distribute_dofs(fe_dg);
      IndexSet dg_relevant;
      DoFTools::extract_locally_relevant_dofs(dg, dg_relevant);
      std::vector<DGVector> fields(n_fields);
      for (auto &f : fields)
        f.reinit(dg.locally_owned_dofs(), dg_relevant, mpi_communicator);
      fill_dg_fields(
          dof_handler, dg, mapping, quadrature, pi_q, u[0], fields[u_now], fields[rho_now]);
      fill_dg_fields(
          dof_handler, dg, mapping, quadrature, pi_q, u[1], fields[u_old], fields[rho_old]);
      std::vector<types::global_dof_index> indices(fe_dg.n_dofs_per_cell());
      for (const auto &cell : dg.active_cell_iterators())
        if (cell->is_locally_owned())
          {
            cell->get_dof_indices(indices);
            for (const auto i : indices)
              fields[old_level](i) = cell->level();
          }
      std::vector<const DGVector *> inputs;
      for (auto &f : fields)
        {
          f.update_ghost_values();
          inputs.push_back(&f);
        }
      parallel::distributed::SolutionTransfer<dim, DGVector> transfer(dg);
      transfer.prepare_for_coarsening_and_refinement(inputs);
      tria.execute_coarsening_and_refinement();
      dg.distribute_dofs(fe_dg);
      carried.values.resize(n_fields);
      std::vector<DGVector *> outputs;
      for (auto &f : carried.values)
        {
          f.reinit(dg.locally_owned_dofs(), mpi_communicator);
          outputs.push_back(&f);
        }
      transfer.interpolate(outputs);
      const auto transferred = std::chrono::steady_clock::now();
      timing.adaptation_transfer += seconds_between(start, transferred);

      rebuild_after_mesh_change();
      const auto rebuilt = std::chrono::steady_clock::now();
      timing.adaptation_rebuild += seconds_between(transferred, rebuilt);
      report.cells_after = tria.n_global_active_cells();
      project_transferred(carried, 0, solution, report.min_consistent, report.blend);
      double unused_min = 0, unused_blend = 1;
      project_transferred(carried, 1, old_solution, unused_min, unused_blend);

      // The Gauss rules' difference on refined cells (and the projection's round-off) is
      // removed by one factor per state: it keeps the sign and u = const.
      apply_mass(solution, mass_solution);
      report.mass_transferred = current_mass();
      solution *= report.mass_before / report.mass_transferred;
      apply_mass(old_solution, old_mass_solution);
      old_solution *= old_history_mass / compensated_dot(root_pi, old_mass_solution);
      apply_mass(solution, mass_solution);
      apply_mass(old_solution, old_mass_solution);
      report.mass_after = current_mass();
      if (scheme == TimeScheme::crank_nicolson)
        stiffness_matrix.vmult(stiffness_solution, solution);
      ghosted_solution = solution;
      throw_if_any(!std::isfinite(solution.l2_norm()),
                   "Mesh/Adaptivity: the transferred density is not finite (u = rho / pi "
                   "overflows where (V - V_min)/eps exceeds about 1400).",
                   mpi_communicator,
                   true);
      last_report = report;
      timing.adaptation_projection += seconds_between(rebuilt, std::chrono::steady_clock::now());
      ++timing.n_adaptations;
      return report;
    }
}

template <int dim>
const AdaptationReport &FokkerPlanckSolver<dim>::last_adaptation() const
{
  return last_report;
}

/**
 * y on the new mesh from the carried fields: the load b_i = int rho phi_i (the moments on
 * coarsened parents, the Gauss rule of pi u elsewhere), then the weighted projection M y =
 * b / root_pi; with a lumped mass, blended with the lumped projection y_j = b_j / (root_pi_j
 * m_j) (>= 0 where b >= 0) as far as needed to stay >= 0. Both have the mass sum_i b_i, and so
 * has every blend.
 */
template <int dim>
void FokkerPlanckSolver<dim>::project_transferred(const TransferFields       &carried,
                                                  const unsigned int          state,
                                                  PETScWrappers::MPI::Vector &y,
                                                  double                     &min_consistent,
                                                  double                     &blend) const
{
  const DoFHandler<dim> &dg          = carried.dg;
  const DGVector        &u_field     = carried.values[state == 0 ? u_now : u_old];
  const DGVector        &rho_field   = carried.values[state == 0 ? rho_now : rho_old];
  const DGVector        &level_field = carried.values[old_level];
  const double           eps         = physics.diffusion();
  const unsigned int     n_q = quadrature.size(), dofs_per_cell = fe.n_dofs_per_cell();
  FEValues<dim>          fe_values(mapping, fe, quadrature, update_values | update_JxW_values);
  FEValues<dim>          dg_values(mapping, dg.get_fe(), quadrature, update_values);
  std::vector<double>    u_q(n_q), rho_q(n_q);
  std::vector<types::global_dof_index> dof_indices(dofs_per_cell),
      dg_indices(dg.get_fe().n_dofs_per_cell());
  Vector<double>             cell_load(dofs_per_cell);
  PETScWrappers::MPI::Vector rhs(locally_owned_dofs, mpi_communicator);
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        const typename DoFHandler<dim>::active_cell_iterator dg_cell(
            &dof_handler.get_triangulation(), cell->level(), cell->index(), &dg);
        fe_values.reinit(cell);
        dg_values.reinit(dg_cell);
        dg_cell->get_dof_indices(dg_indices);
        const bool coarsened = cell->level() + 0.5 < level_field(dg_indices[0]);
        if (coarsened)
          dg_values.get_function_values(rho_field, rho_q);
        else
          {
            dg_values.get_function_values(u_field, u_q);
            const double *V = &potential_at_quadrature_points[cell->active_cell_index() * n_q];
            for (unsigned int q = 0; q < n_q; ++q)
              rho_q[q] = std::exp(-(V[q] - shift) / eps) * u_q[q];
          }
        cell_load = 0;
        for (unsigned int q = 0; q < n_q; ++q)
          for (unsigned int i = 0; i < dofs_per_cell; ++i)
            cell_load(i) += rho_q[q] * fe_values.shape_value(i, q) * fe_values.JxW(q);
        cell->get_dof_indices(dof_indices);
        rhs.add(dof_indices, cell_load);
      }
  rhs.compress(VectorOperation::add);
  for (const auto j : locally_owned_dofs)
    rhs(j) = nodal_u(rhs(j), nodal_potential(j), shift, eps); // b_j / root_pi_j
  rhs.compress(VectorOperation::insert);

  // In the constrained space (hanging nodes): Q^T M Q y_m = Q^T rhs, y = Q y_m; the
  // lumped projection takes the constrained space's lumped mass.
  if (!carried.projection)
    {
      carried.lumped.reinit(lumped_mass);
      carried.lumped = lumped_mass;
      if (periodic)
        {
          condense_lumped_mass(carried.lumped);
          for (const PetscInt j : periodic_nodes)
            carried.lumped(j) = 1;
          carried.lumped.compress(VectorOperation::insert);
        }
      // The consistent weighted mass (assembled here where the scheme lumps it).
      if (discretization.mass_lumping)
        assemble_consistent_mass(carried.own_mass);
      const PETScWrappers::MPI::SparseMatrix &mass =
          discretization.mass_lumping ? carried.own_mass : mass_matrix;
      if (periodic)
        condense_matrix(mass, carried.condensed_mass);
      LinearSolverParameters parameters;
      parameters.preconditioner = Preconditioner::jacobi;
      parameters.tolerance      = 1e-13;
      carried.projection        = std::make_unique<LinearSolver>(parameters, mpi_communicator);
      carried.projection->set_matrix(periodic ? carried.condensed_mass : mass);
    }
  if (periodic)
    condense(rhs);
  const PETScWrappers::MPI::Vector &lumped = carried.lumped;
  PETScWrappers::MPI::Vector        lumped_y(rhs);
  for (const auto j : locally_owned_dofs)
    lumped_y(j) = rhs(j) / lumped(j);
  lumped_y.compress(VectorOperation::insert);
  LinearSolver &projection = *carried.projection;

  // The guess is the nodal interpolant of the carried u: where nothing was coarsened it is
  // the solution (the solver stops at once), so refinement gives u_h back to the last bit.
  interpolate_carried_u(u_field, dg, y);
  projection.solve(y, rhs);
  if (periodic)
    {
      distribute(y);
      distribute(lumped_y);
    }
  double smallest = std::numeric_limits<double>::infinity();
  for (const auto j : locally_owned_dofs)
    smallest = std::min(smallest, static_cast<double>(y(j)));
  min_consistent = Utilities::MPI::min(smallest, mpi_communicator);
  blend          = 1;
  if (!discretization.mass_lumping)
    return;
  // The largest weight of y that keeps every y_j >= 0 (one weight for all nodes, so that the
  // mass is sum_i b_i whatever it is).
  double weight = 1;
  // Where the lumped value is negative too, the state carried over was (the solution
  // before, e.g. at hanging nodes, where Q1 is no M-matrix): reported, not the transfer's.
  for (const auto j : locally_owned_dofs)
    if (y(j) < 0 && lumped_y(j) > 0)
      weight = std::min(weight, lumped_y(j) / (lumped_y(j) - y(j)));
  // A relative margin of 1e-10 keeps the limiting nodes >= 0 through the rounding of
  // y_L + w (y - y_L).
  blend = Utilities::MPI::min(weight, mpi_communicator);
  if (blend < 1)
    {
      blend *= 1 - 1e-10;
      y -= lumped_y;
      y.sadd(blend, 1.0, lumped_y);
    }
}

template <int dim>
void FokkerPlanckSolver<dim>::interpolate_carried_u(const DGVector             &u_field,
                                                    const DoFHandler<dim>      &dg,
                                                    PETScWrappers::MPI::Vector &y) const
{
  const double       eps           = physics.diffusion();
  const unsigned int dofs_per_cell = fe.n_dofs_per_cell();
  FEValues<dim>      at_nodes(
      mapping, dg.get_fe(), Quadrature<dim>(fe.get_unit_support_points()), update_values);
  std::vector<double>                  u(dofs_per_cell), V(dofs_per_cell);
  std::vector<types::global_dof_index> dof_indices(dofs_per_cell);
  // Written into y's own array (a value per call into PETSc cost more than the rest);
  // a node of several cells takes the last cell's value, as before.
  PetscScalar *local;
  DENSITYFLOW_PETSC(VecGetArray(static_cast<const Vec &>(y), &local));
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        const typename DoFHandler<dim>::active_cell_iterator dg_cell(
            &dof_handler.get_triangulation(), cell->level(), cell->index(), &dg);
        at_nodes.reinit(dg_cell);
        at_nodes.get_function_values(u_field, u);
        cell->get_dof_indices(dof_indices);
        nodal_potential.extract_subvector_to(dof_indices.begin(), dof_indices.end(), V.begin());
        for (unsigned int i = 0; i < dofs_per_cell; ++i)
          if (locally_owned_dofs.is_element(dof_indices[i]))
            local[locally_owned_dofs.index_within_set(dof_indices[i])] =
                u[i] * std::exp(-(V[i] - shift) / (2 * eps));
      }
  if (periodic) // the unknowns are z = D^{-1} y at the masters, 0 at the hanging nodes
    {
      const PetscScalar *scale;
      DENSITYFLOW_PETSC(VecGetArrayRead(static_cast<const Vec &>(column_scale), &scale));
      for (std::size_t k = 0; k < locally_owned_dofs.n_elements(); ++k)
        local[k] = local[k] / scale[k];
      DENSITYFLOW_PETSC(VecRestoreArrayRead(static_cast<const Vec &>(column_scale), &scale));
      for (const PetscInt j : periodic_nodes)
        local[locally_owned_dofs.index_within_set(j)] = 0;
    }
  DENSITYFLOW_PETSC(VecRestoreArray(static_cast<const Vec &>(y), &local));
}

template <int dim>
void FokkerPlanckSolver<dim>::assemble_consistent_mass(
    PETScWrappers::MPI::SparseMatrix &matrix) const
{
  matrix.reinit(stiffness_matrix);
  matrix = 0;
  FEValues<dim> fe_values(
      mapping, fe, quadrature, update_values | update_gradients | update_JxW_values);
  const unsigned int   n_q = quadrature.size(), dofs_per_cell = fe.n_dofs_per_cell();
  WeightedCellMatrices cell_matrices;
  std::vector<double>  V(dofs_per_cell);
  std::vector<types::global_dof_index> dof_indices(dofs_per_cell);
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        cell->get_dof_indices(dof_indices);
        nodal_potential.extract_subvector_to(dof_indices.begin(), dof_indices.end(), V.begin());
        weighted_cell_matrices(fe_values,
                               &potential_at_quadrature_points[cell->active_cell_index() * n_q],
                               V,
                               physics.diffusion(),
                               true,
                               fe.degree == 1,
                               WeightEvaluation::factorised,
                               cell_matrices);
        matrix.add(dof_indices, cell_matrices.mass);
      }
  matrix.compress(VectorOperation::add);
}

#define DENSITYFLOW_INSTANTIATE(dim)                                                               \
  template void FokkerPlanckSolver<dim>::enable_adaptivity(                                        \
      const AdaptivityParameters &, parallel::distributed::Triangulation<dim, dim> &);             \
  template void                    FokkerPlanckSolver<dim>::rebuild_after_mesh_change();           \
  template void                    FokkerPlanckSolver<dim>::refine_without_transfer();             \
  template AdaptationReport        FokkerPlanckSolver<dim>::adapt_mesh(const bool);                \
  template const AdaptationReport &FokkerPlanckSolver<dim>::last_adaptation() const;               \
  template void                    FokkerPlanckSolver<dim>::set_up_hanging_nodes();                \
  template void FokkerPlanckSolver<dim>::condense_lumped_mass(PETScWrappers::MPI::Vector &) const;
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
#undef DENSITYFLOW_INSTANTIATE
} // namespace densityflow
