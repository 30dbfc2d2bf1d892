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
 * Adds cell matrices into distributed PETSc matrices by writing their value arrays in
 * place.
 *
 * MatSetValues searches every entry's column in its row again, at every call; that was
 * the larger part of assembling a matrix whose pattern is fixed (14 ms of a 100 ms path
 * step, a third of the 3D Fokker-Planck assembly). The writer finds the positions of a
 * cell's entries in the pattern's diagonal block (owned rows and columns) or off-diagonal
 * block (owned rows, other ranks' columns) once for all the matrices that share the
 * pattern, or once for the whole run where it keeps them. A row owned by another rank
 * goes through MatSetValues and is sent by the matrix's compress(). Each entry receives
 * the same sums in the same order as with MatSetValues: the matrices are the same to the
 * bit. The pattern must not change while the writer is in use.
 */
class CellMatrixWriter
{
public:
  /** A matrix opened for add(): its value arrays. */
  struct Target
  {
    Mat          matrix = nullptr, diagonal = nullptr, off_diagonal = nullptr;
    PetscScalar *diagonal_values = nullptr, *off_diagonal_values = nullptr;
  };

  /**
   * @param pattern         an assembled (compressed) matrix with the pattern of every
   *                        cell's couplings; the targets are it or share its pattern
   * @param cell_dofs       the DoF indices of the locally owned cells, dofs_per_cell each
   * @param keep_positions  find all positions now and keep them (4 bytes per entry of
   *                        every cell matrix), for a run that assembles at every step;
   *                        otherwise each cell's are found when it is first added
   */
  CellMatrixWriter(const PETScWrappers::MPI::SparseMatrix     &pattern,
                   const std::vector<types::global_dof_index> &cell_dofs,
                   unsigned int                                dofs_per_cell,
                   bool                                        keep_positions);
  ~CellMatrixWriter();
  CellMatrixWriter(const CellMatrixWriter &)            = delete;
  CellMatrixWriter &operator=(const CellMatrixWriter &) = delete;

  /** Opens @p matrix's value arrays. */
  Target open(PETScWrappers::MPI::SparseMatrix &matrix) const;

  /**
   * Adds the @p cell th cell's matrix (in the order of cell_dofs) to @p target. The row and
   * column of @p constrained, a DoF constrained to zero (numbers::invalid_dof_index for
   * none), are left out, and its diagonal gets what AffineConstraints gives it.
   */
  void add(Target                   &target,
           std::size_t               cell,
           const FullMatrix<double> &cell_matrix,
           types::global_dof_index   constrained = numbers::invalid_dof_index);

  /** Closes @p target's arrays; the matrix's compress(VectorOperation::add) must follow. */
  void close(Target &target) const;

private:
  /** The positions of @p cell's entries into @p out (n x n, row-major). */
  void locate(std::size_t cell, std::int32_t *out) const;

  /** The cells' DoF indices, as PETSc takes them. */
  std::vector<PetscInt> cell_dofs;
  const unsigned int    n;
  /** The pattern's blocks: row starts and (local) columns, the off-diagonal block's as
   * global columns; the owned rows and columns. */
  Mat                   diagonal_block = nullptr;
  const PetscInt       *diagonal_rows = nullptr, *diagonal_columns = nullptr, *off_rows = nullptr;
  std::vector<PetscInt> off_columns;
  PetscInt              first_row = 0, end_row = 0, first_column = 0, end_column = 0;
  /**
   * Position codes: >= 0 in the diagonal block's values, <= -2 in the off-diagonal
   * block's (-code - 2), -1 a row of another rank. All cells' (kept) or the last cell's.
   */
  std::vector<std::int32_t> positions;
  bool                      kept;
  std::size_t               located_cell;
  /** Scratch: a row's columns for MatSetValues. */
  std::vector<PetscInt> columns;
};
} // namespace densityflow
