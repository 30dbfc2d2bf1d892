#pragma once

#include <deal.II/base/types.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/petsc_sparse_matrix.h>

#include <petscmat.h>

#include <cstdint>
#include <vector>

namespace densityflow
{
using namespace dealii;

/**
 * Adds cell matrices into a distributed PETSc matrix by writing its value arrays in place.
 *
 * A solver that assembles the same operator at every step (the path model's weighted
 * Neumann problem) spends most of the assembly in MatSetValues, which searches every
 * entry's column in its row again. The writer finds the position of every entry of every
 * locally owned cell once, in the matrix's diagonal block (owned rows and columns) or its
 * off-diagonal block (owned rows, other ranks' columns); a row owned by another rank goes
 * through MatSetValues and is sent by the matrix's compress(). Each entry receives the
 * same sums in the same order as with MatSetValues, so the matrix is the same to the bit.
 * The matrix's pattern must not change while the writer is in use.
 */
class CellMatrixWriter
{
public:
  /**
   * @param matrix        assembled (compressed), with the pattern of every cell's couplings
   * @param cell_dofs     the DoF indices of the locally owned cells, dofs_per_cell each,
   *                      in the order in which add() will be called
   */
  CellMatrixWriter(const PETScWrappers::MPI::SparseMatrix     &matrix,
                   const std::vector<types::global_dof_index> &cell_dofs,
                   unsigned int                                dofs_per_cell);

  /** Opens @p matrix's value arrays for add(). */
  void begin(PETScWrappers::MPI::SparseMatrix &matrix);

  /**
   * Adds the @p cell th cell's matrix (of those given to the constructor). The row and
   * column of @p constrained, a DoF constrained to zero (numbers::invalid_dof_index for
   * none), are left out and its diagonal gets what AffineConstraints gives it.
   */
  void add(std::size_t              cell,
           const FullMatrix<double> &cell_matrix,
           types::global_dof_index  constrained);

  /** Closes the arrays; the matrix's compress(VectorOperation::add) must follow. */
  void end();

private:
  /** Position code: >= 0 in the diagonal block's values, <= -2 in the off-diagonal block's
   * (-code - 2), -1 a row owned by another rank. */
  std::vector<std::int32_t> positions;
  /** The cells' DoF indices, as PETSc takes them. */
  std::vector<PetscInt> cell_dofs;
  const unsigned int    n;
  /** Scratch: a row's columns for MatSetValues. */
  std::vector<PetscInt> columns;
  Mat                   matrix = nullptr, diagonal = nullptr, off_diagonal = nullptr;
  PetscScalar          *diagonal_values = nullptr, *off_diagonal_values = nullptr;
};
} // namespace densityflow
