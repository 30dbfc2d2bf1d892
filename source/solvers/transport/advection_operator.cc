#include <densityflow/solvers/petsc_check.h>
#include <densityflow/solvers/transport/advection_operator.h>

#include <deal.II/fe/fe_interface_values.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/lac/full_matrix.h>

#include <petscmat.h>

#include <cmath>

namespace densityflow
{
namespace
{
/** A copy of the parallel AIJ matrix @p A without its stored zeros. */
Mat without_zeros(const Mat A)
{
  MPI_Comm comm;
  DENSITYFLOW_PETSC(PetscObjectGetComm(reinterpret_cast<PetscObject>(A), &comm));
  PetscInt first, last, first_column, last_column, m, n;
  DENSITYFLOW_PETSC(MatGetOwnershipRange(A, &first, &last));
  DENSITYFLOW_PETSC(MatGetOwnershipRangeColumn(A, &first_column, &last_column));
  DENSITYFLOW_PETSC(MatGetLocalSize(A, &m, &n));
  std::vector<PetscInt> diagonal(m, 0), off_diagonal(m, 0);
  for (PetscInt row = first; row < last; ++row)
    {
      PetscInt           n_entries;
      const PetscInt    *columns;
      const PetscScalar *values;
      DENSITYFLOW_PETSC(MatGetRow(A, row, &n_entries, &columns, &values));
      for (PetscInt k = 0; k < n_entries; ++k)
        if (values[k] != 0)
          ++(columns[k] >= first_column && columns[k] < last_column ? diagonal
                                                                    : off_diagonal)[row - first];
      DENSITYFLOW_PETSC(MatRestoreRow(A, row, &n_entries, &columns, &values));
    }
  Mat B;
  DENSITYFLOW_PETSC(MatCreateAIJ(comm,
                                 m,
                                 n,
                                 PETSC_DETERMINE,
                                 PETSC_DETERMINE,
                                 0,
                                 diagonal.data(),
                                 0,
                                 off_diagonal.data(),
                                 &B));
  for (PetscInt row = first; row < last; ++row)
    {
      PetscInt           n_entries;
      const PetscInt    *columns;
      const PetscScalar *values;
      DENSITYFLOW_PETSC(MatGetRow(A, row, &n_entries, &columns, &values));
      for (PetscInt k = 0; k < n_entries; ++k)
        if (values[k] != 0)
          DENSITYFLOW_PETSC(MatSetValue(B, row, columns[k], values[k], INSERT_VALUES));
      DENSITYFLOW_PETSC(MatRestoreRow(A, row, &n_entries, &columns, &values));
    }
  DENSITYFLOW_PETSC(MatAssemblyBegin(B, MAT_FINAL_ASSEMBLY));
  DENSITYFLOW_PETSC(MatAssemblyEnd(B, MAT_FINAL_ASSEMBLY));
  return B;
}

/** FEValues on cells, boundary faces and interior faces, for one assembly. */
template <int dim>
struct AdvectionScratch
{
  AdvectionScratch(const DGDiscretization<dim> &space)
      : fe_values(space.mapping,
                  space.dof_handler.get_fe(),
                  space.quadrature,
                  update_values | update_gradients | update_quadrature_points | update_JxW_values)
      , fe_face(space.mapping,
                space.dof_handler.get_fe(),
                space.face_quadrature,
                update_values | update_quadrature_points | update_normal_vectors |
                    update_JxW_values)
      , fe_interface(space.mapping,
                     space.dof_handler.get_fe(),
                     space.face_quadrature,
                     update_values | update_quadrature_points | update_normal_vectors |
                         update_JxW_values)
  {}

  FEValues<dim>          fe_values;
  FEFaceValues<dim>      fe_face;
  FEInterfaceValues<dim> fe_interface;
};

/**
 * The volume term -int_K phi_j b.grad phi_i into @p cell_matrix (fe_values reinitialised
 * on the cell of smallest vertex distance @p h); returns the cell's max |b|_1 / h.
 */
template <int dim>
double add_cell_term(const FEValues<dim>                             &fe_values,
                     const typename AdvectionOperator<dim>::Velocity &b,
                     const double                                     h,
                     FullMatrix<double>                              &cell_matrix)
{
  const unsigned int n    = cell_matrix.m();
  double             rate = 0;
  for (unsigned int q = 0; q < fe_values.n_quadrature_points; ++q)
    {
      const Tensor<1, dim> velocity = b(fe_values.quadrature_point(q));
      double               l1       = 0;
      for (unsigned int d = 0; d < dim; ++d)
        l1 += std::abs(velocity[d]);
      rate = std::max(rate, l1 / h);
      for (unsigned int i = 0; i < n; ++i)
        {
          const double b_grad_i = velocity * fe_values.shape_grad(i, q) * fe_values.JxW(q);
          for (unsigned int j = 0; j < n; ++j)
            cell_matrix(i, j) -= fe_values.shape_value(j, q) * b_grad_i;
        }
    }
  return rate;
}

/** The outflow term int (b.n)^+ phi_j phi_i of a boundary face (fe_face reinitialised). */
template <int dim>
void add_boundary_term(const FEFaceValues<dim>                         &fe_face,
                       const typename AdvectionOperator<dim>::Velocity &b,
                       FullMatrix<double>                              &cell_matrix)
{
  const unsigned int n = cell_matrix.m();
  for (unsigned int q = 0; q < fe_face.n_quadrature_points; ++q)
    {
      const double bn = b(fe_face.quadrature_point(q)) * fe_face.normal_vector(q);
      if (bn > 0)
        for (unsigned int i = 0; i < n; ++i)
          for (unsigned int j = 0; j < n; ++j)
            cell_matrix(i, j) +=
                bn * fe_face.shape_value(j, q) * fe_face.shape_value(i, q) * fe_face.JxW(q);
    }
}

/** The upwind flux of an interior face (fe_interface reinitialised on it). */
template <int dim>
FullMatrix<double> interior_face_matrix(const FEInterfaceValues<dim> &fe_interface,
                                        const typename AdvectionOperator<dim>::Velocity &b)
{
  const unsigned int  m = fe_interface.n_current_interface_dofs();
  FullMatrix<double>  face_matrix(m);
  std::vector<double> jump(m), upwind(m);
  for (unsigned int q = 0; q < fe_interface.n_quadrature_points; ++q)
    {
      const double bn =
          b(fe_interface.get_fe_face_values(0).quadrature_point(q)) * fe_interface.normal(q);
      for (unsigned int i = 0; i < m; ++i)
        {
          jump[i]   = fe_interface.jump_in_shape_values(i, q);
          upwind[i] = bn * fe_interface.shape_value(bn > 0, i, q) * fe_interface.JxW(q);
        }
      for (unsigned int i = 0; i < m; ++i)
        if (jump[i] != 0)
          for (unsigned int j = 0; j < m; ++j)
            face_matrix(i, j) += upwind[j] * jump[i];
    }
  // Values of shape functions that vanish on the face may come out as round-off;
  // make them the exact zeros they are.
  const double largest = face_matrix.linfty_norm();
  for (unsigned int i = 0; i < m; ++i)
    for (unsigned int j = 0; j < m; ++j)
      if (std::abs(face_matrix(i, j)) < 1e-14 * largest)
        face_matrix(i, j) = 0;
  return face_matrix;
}
/**
 * Across a periodic face (fe_interface reinitialised on it): the largest |b(x) - b(x')|
 * over the quadrature points x and their images x' on the opposite wall into @p jump, the
 * largest |b| there into @p scale.
 */
template <int dim>
void add_periodic_jump(const FEInterfaceValues<dim>                    &fe_interface,
                       const typename AdvectionOperator<dim>::Velocity &b,
                       double                                          &jump,
                       double                                          &scale)
{
  for (unsigned int q = 0; q < fe_interface.n_quadrature_points; ++q)
    {
      const Tensor<1, dim> here  = b(fe_interface.get_fe_face_values(0).quadrature_point(q));
      const Tensor<1, dim> there = b(fe_interface.get_fe_face_values(1).quadrature_point(q));
      jump                       = std::max(jump, (here - there).norm());
      scale                      = std::max({scale, here.norm(), there.norm()});
    }
}
} // namespace

template <int dim>
AdvectionOperator<dim>::~AdvectionOperator()
{
  if (explicit_matrix != nullptr)
    {
      Mat product = static_cast<Mat>(explicit_matrix);
      MatDestroy(&product);
    }
}

template <int dim>
void AdvectionOperator<dim>::assemble(const DGDiscretization<dim>            &space,
                                      const Velocity                         &b,
                                      const PETScWrappers::MPI::Vector       &ones,
                                      const PETScWrappers::MPI::SparseMatrix *inverse_mass,
                                      const bool                              drop_zeros)
{
  if (matrix.m() == 0)
    {
      space.reinit_flux_matrix(matrix);
      outflow_weights.reinit(space.locally_owned_dofs, space.communicator);
    }
  matrix = 0;

  AdvectionScratch<dim>                scratch(space);
  const unsigned int                   n = space.dof_handler.get_fe().n_dofs_per_cell();
  FullMatrix<double>                   cell_matrix(n);
  std::vector<types::global_dof_index> dofs(n);
  double                               local_rate = 0, jump = 0, scale = 0;
  for (const auto &cell : space.dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        scratch.fe_values.reinit(cell);
        cell_matrix = 0;
        local_rate  = std::max(
            local_rate,
            add_cell_term<dim>(scratch.fe_values, b, cell->minimum_vertex_distance(), cell_matrix));
        // Face matrices go into A before the cell's own, in face order.
        for (const unsigned int f : cell->face_indices())
          if (at_wall(cell, f))
            {
              scratch.fe_face.reinit(cell, f);
              add_boundary_term<dim>(scratch.fe_face, b, cell_matrix);
            }
          else if (const FaceKind kind = face_kind(cell, f); kind == FaceKind::finer_across)
            {
              // A hanging face: each subface once, from this (coarser) side.
              for (unsigned int sf = 0; sf < n_subfaces(cell, f); ++sf)
                {
                  const auto [child, child_face] = across_subface(cell, f, sf);
                  scratch.fe_interface.reinit(
                      cell, f, sf, child, child_face, numbers::invalid_unsigned_int);
                  if (cell->at_boundary(f))
                    add_periodic_jump<dim>(scratch.fe_interface, b, jump, scale);
                  matrix.add(scratch.fe_interface.get_interface_dof_indices(),
                             interior_face_matrix<dim>(scratch.fe_interface, b));
                }
            }
          else if (kind == FaceKind::conforming)
            {
              // (A subface of a coarser neighbour's face is the coarser cell's.)
              const auto [neighbor, neighbor_face] = across_face(cell, f);
              if (!assembles_face(cell, neighbor))
                continue;
              scratch.fe_interface.reinit(cell,
                                          f,
                                          numbers::invalid_unsigned_int,
                                          neighbor,
                                          neighbor_face,
                                          numbers::invalid_unsigned_int);
              if (cell->at_boundary(f))
                add_periodic_jump<dim>(scratch.fe_interface, b, jump, scale);
              matrix.add(scratch.fe_interface.get_interface_dof_indices(),
                         interior_face_matrix<dim>(scratch.fe_interface, b));
            }
        cell->get_dof_indices(dofs);
        matrix.add(dofs, cell_matrix);
      }
  matrix.compress(VectorOperation::add);
  rate = Utilities::MPI::max(local_rate, space.communicator);
  if (space.dof_handler.get_triangulation().get_periodic_face_map().empty())
    periodic_jump = {0, 0};
  else
    periodic_jump = {Utilities::MPI::max(jump, space.communicator),
                     Utilities::MPI::max(scale, space.communicator)};

  // 1^T A: interior faces cancel, what is left is the outflow through the boundary.
  matrix.Tvmult(outflow_weights, ones);

  if (inverse_mass != nullptr)
    form_explicit_matrix(*inverse_mass, drop_zeros);
}

template <int dim>
void AdvectionOperator<dim>::form_explicit_matrix(
    const PETScWrappers::MPI::SparseMatrix &inverse_mass, const bool drop_zeros)
{
  // Upwinding couples each face one way only, so half of the face blocks are exact
  // zeros; where the operator is assembled once they are dropped, which makes the
  // product 2 to 3 times smaller (a reassembled operator keeps its pattern, since the
  // upwind side may change).
  if (explicit_matrix != nullptr)
    {
      Mat old = static_cast<Mat>(explicit_matrix);
      DENSITYFLOW_PETSC(MatDestroy(&old));
      explicit_matrix = nullptr;
    }
  Mat product;
  DENSITYFLOW_PETSC(MatMatMult(static_cast<Mat>(inverse_mass),
                               static_cast<Mat>(matrix),
                               MAT_INITIAL_MATRIX,
                               PETSC_DEFAULT,
                               &product));
  explicit_matrix = product;
  if (drop_zeros)
    {
      explicit_matrix = without_zeros(product);
      DENSITYFLOW_PETSC(MatDestroy(&product));
    }
}

template class AdvectionOperator<1>;
template class AdvectionOperator<2>;
template class AdvectionOperator<3>;
} // namespace densityflow
