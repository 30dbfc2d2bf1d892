#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>
#include <densityflow/solvers/matrix_structure.h>
#include <densityflow/solvers/petsc_check.h>

#include <deal.II/dofs/dof_tools.h>
#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>

#include <petscmat.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

// Periodic directions of the Fokker-Planck solver. The scheme's matrices M and K stay those
// of the whole box (no-flux); the periodic problem is their Galerkin restriction to the
// periodic functions, y = Q y_masters, where Q copies each node on an upper periodic wall
// from its image on the lower one (deal.II's periodicity constraints, which are identities
// for the matching faces of a box). The system is Q^T (a M + b K) Q, tested vectors are
// condensed by Q^T, solutions distributed by Q. With V periodic, root_pi = Q root_pi, so
// root_pi^T K = 0 still gives the exact stationary state and the mass identity
// root_pi^T M y^{n+1} = root_pi^T rhs / a that the solver's mass scaling relies on.

namespace densityflow
{
template <int dim>
void FokkerPlanckSolver<dim>::set_up_periodicity()
{
  DENSITYFLOW_PETSC(MatDestroy(&condensed_product)); // a product of the old Q
  periodic = mesh.is_periodic();
  if (!periodic)
    return;
  AffineConstraints<double> constraints(locally_relevant_dofs);
  for (unsigned int d = 0; d < dim; ++d)
    if (mesh.periodic_directions()[d])
      DoFTools::make_periodicity_constraints(dof_handler, 2 * d, 2 * d + 1, d, constraints);
  constraints.close();

  // A uniformly refined box has identities only (anything else is a defect); an adapted
  // mesh loaded for a restart may have cells finer than their images (below).
  const bool             adapted = mesh.triangulation().has_hanging_nodes();
  DynamicSparsityPattern pattern(dof_handler.n_dofs(), dof_handler.n_dofs(), locally_owned_dofs);
  std::vector<std::pair<PetscInt, PetscInt>> entries;
  for (const auto j : locally_owned_dofs)
    {
      types::global_dof_index image = j;
      const auto             *line  = constraints.get_constraint_entries(j);
      // Not an identity: a cell finer than its image across the wall, on an adapted mesh
      // loaded for a restart. Its node is left free here: enable_adaptivity(), which
      // follows at once, makes the map of adapted meshes (set_up_hanging_nodes()).
      const bool identity = line != nullptr && line->size() == 1 &&
                            std::abs((*line)[0].second - 1) < 1e-12 &&
                            constraints.get_inhomogeneity(j) == 0;
      AssertThrow(identity || line == nullptr || adapted,
                  ExcMessage("A periodicity constraint of a box is not an identity."));
      if (identity)
        {
          image = (*line)[0].first;
          periodic_nodes.push_back(static_cast<PetscInt>(j));
        }
      pattern.add(j, image);
      entries.emplace_back(static_cast<PetscInt>(j), static_cast<PetscInt>(image));
    }
  periodicity.reinit(locally_owned_dofs, locally_owned_dofs, pattern, mpi_communicator);
  for (const auto &[row, column] : entries)
    periodicity.set(row, column, 1.0);
  periodicity.compress(VectorOperation::insert);
}

template <int dim>
void FokkerPlanckSolver<dim>::make_potential_periodic(PETScWrappers::MPI::Vector &owned_potential,
                                                      const double                t) const
{
  PETScWrappers::MPI::Vector image(owned_potential);
  periodicity.vmult(image, owned_potential);
  const PETScWrappers::MPI::Vector &V = owned_potential, &V_image = image;
  double difference = 0, lowest = std::numeric_limits<double>::infinity(),
         highest = -std::numeric_limits<double>::infinity(), at_node = 0, at_image = 0;
  for (const auto j : locally_owned_dofs)
    {
      lowest  = std::min<double>(lowest, V(j));
      highest = std::max<double>(highest, V(j));
    }
  for (const PetscInt j : periodic_nodes)
    if (std::abs(V(j) - V_image(j)) > difference)
      {
        difference = std::abs(V(j) - V_image(j));
        at_node    = V(j);
        at_image   = V_image(j);
      }
  const double range = Utilities::MPI::max(highest, mpi_communicator) -
                       Utilities::MPI::min(lowest, mpi_communicator);
  const double largest = Utilities::MPI::max(difference, mpi_communicator);
  // A periodic expression differs between the two walls by the round-off of evaluating it
  // at coordinates that differ by the period: far below this.
  const bool         failed = largest > 1e-8 * range;
  std::ostringstream message;
  if (failed)
    message << "Physics/Potential is not periodic in the periodic directions (Mesh/Periodic): "
            << "at t = " << t << " V differs by " << largest
            << " between nodes on opposite walls (V's range over the mesh is " << range
            << "; the tolerance is 1e-8 of it)"
            << (difference == largest
                    ? ", e.g. " + std::to_string(at_node) + " and " + std::to_string(at_image)
                    : std::string())
            << ". Periodic directions need V(x + period) = V(x).";
  throw_if_any(failed, message.str(), mpi_communicator, t > 0);
  // The nodes of the upper walls take their images' V exactly, so that root_pi is
  // periodic to the last bit and u = const stays the discrete stationary state.
  owned_potential = image;
}

template <int dim>
void FokkerPlanckSolver<dim>::condense(PETScWrappers::MPI::Vector &v) const
{
  PETScWrappers::MPI::Vector condensed(v);
  periodicity.Tvmult(condensed, v);
  v = condensed;
}

template <int dim>
void FokkerPlanckSolver<dim>::distribute(PETScWrappers::MPI::Vector &y) const
{
  PETScWrappers::MPI::Vector distributed(y);
  periodicity.vmult(distributed, y);
  y = distributed;
}

namespace
{
/**
 * A copy of the condensed product @p C with 1 on the diagonal of the rows @p constrained
 * (owned rows, empty in C). The constrained rows of Q^T A Q are empty: the 1 (their
 * right-hand side is 0 after condense(), and distribute() overwrites them) keeps the system
 * SPD. The product has no room for those entries: inserting them reallocated the matrix
 * per row (a fifth of an adaptive run's time), and MatAXPY's merge hashes every entry. The
 * rows are therefore copied once into compressed rows with the unit diagonals in place;
 * the other entries keep their values to the bit.
 */
Mat with_unit_diagonal(const Mat C, const std::vector<PetscInt> &constrained, const MPI_Comm comm)
{
  PetscInt first, end, n_local_columns, n_global;
  DENSITYFLOW_PETSC(MatGetOwnershipRange(C, &first, &end));
  DENSITYFLOW_PETSC(MatGetLocalSize(C, nullptr, &n_local_columns));
  DENSITYFLOW_PETSC(MatGetSize(C, &n_global, nullptr));
  std::vector<char> unit_diagonal(end - first, 0);
  for (const PetscInt j : constrained)
    unit_diagonal[j - first] = 1;
  MatInfo info;
  DENSITYFLOW_PETSC(MatGetInfo(C, MAT_LOCAL, &info));
  const auto               n_entries = static_cast<std::size_t>(info.nz_used) + constrained.size();
  std::vector<PetscInt>    row_start(1, 0), columns;
  std::vector<PetscScalar> values;
  row_start.reserve(end - first + 1);
  columns.reserve(n_entries);
  values.reserve(n_entries);
  for (PetscInt row = first; row < end; ++row)
    {
      PetscInt           n;
      const PetscInt    *row_columns;
      const PetscScalar *row_values;
      DENSITYFLOW_PETSC(MatGetRow(C, row, &n, &row_columns, &row_values));
      columns.insert(columns.end(), row_columns, row_columns + n);
      values.insert(values.end(), row_values, row_values + n);
      DENSITYFLOW_PETSC(MatRestoreRow(C, row, &n, &row_columns, &row_values));
      if (unit_diagonal[row - first])
        {
          AssertThrow(n == 0, ExcInternalError());
          columns.push_back(row);
          values.push_back(1.0);
        }
      row_start.push_back(static_cast<PetscInt>(columns.size()));
    }
  Mat condensed;
  DENSITYFLOW_PETSC(MatCreateMPIAIJWithArrays(comm,
                                              end - first,
                                              n_local_columns,
                                              n_global,
                                              n_global,
                                              row_start.data(),
                                              columns.data(),
                                              values.data(),
                                              &condensed));
  return condensed;
}
} // namespace

template <int dim>
void FokkerPlanckSolver<dim>::condense_matrix(const PETScWrappers::MPI::SparseMatrix &A,
                                              PETScWrappers::MPI::SparseMatrix       &result) const
{
  // On an adaptive mesh the mass and the system matrix of one mesh are condensed in turn
  // (each adaptation); they share their pattern, so PETSc's symbolic product is kept. A
  // fixed mesh condenses a matrix rarely, and keeping the product would cost its memory.
  const bool keep  = adaptive_triangulation != nullptr;
  const bool reuse = keep && condensed_product != nullptr;
  Mat        C     = reuse ? condensed_product : nullptr;
  DENSITYFLOW_PETSC(MatPtAP(static_cast<Mat>(A),
                            static_cast<Mat>(periodicity),
                            reuse ? MAT_REUSE_MATRIX : MAT_INITIAL_MATRIX,
                            PETSC_DEFAULT,
                            &C));
  if (keep)
    condensed_product = C;
  Mat condensed = with_unit_diagonal(C, periodic_nodes, mpi_communicator);
  if (!keep)
    DENSITYFLOW_PETSC(MatDestroy(&C));
  adopt_matrix(condensed, locally_owned_dofs, mpi_communicator, result);
}

#define DENSITYFLOW_INSTANTIATE(dim)                                                               \
  template void FokkerPlanckSolver<dim>::set_up_periodicity();                                     \
  template void FokkerPlanckSolver<dim>::make_potential_periodic(PETScWrappers::MPI::Vector &,     \
                                                                 const double) const;              \
  template void FokkerPlanckSolver<dim>::condense(PETScWrappers::MPI::Vector &) const;             \
  template void FokkerPlanckSolver<dim>::distribute(PETScWrappers::MPI::Vector &) const;           \
  template void FokkerPlanckSolver<dim>::condense_matrix(                                          \
      const PETScWrappers::MPI::SparseMatrix &, PETScWrappers::MPI::SparseMatrix &) const;
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
#undef DENSITYFLOW_INSTANTIATE
} // namespace densityflow
