#include <densityflow/solvers/cell_matrix_writer.h>
#include <densityflow/solvers/petsc_check.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace densityflow
{
namespace
{
/** Where @p column is among the sorted @p columns [begin, end), or -1. */
PetscInt find(const PetscInt *columns, const PetscInt begin, const PetscInt end, const PetscInt column)
{
  const PetscInt *found = std::lower_bound(columns + begin, columns + end, column);
  return found != columns + end && *found == column ? PetscInt(found - columns) : -1;
}
} // namespace

CellMatrixWriter::CellMatrixWriter(const PETScWrappers::MPI::SparseMatrix     &matrix,
                                   const std::vector<types::global_dof_index> &dofs,
                                   const unsigned int                          dofs_per_cell)
    : cell_dofs(dofs.begin(), dofs.end())
    , n(dofs_per_cell)
    , columns(dofs_per_cell)
{
  const Mat      petsc = matrix;
  Mat            diag, off;
  const PetscInt *garray = nullptr;
  PetscInt       first_row, end_row, first_column, end_column;
  DENSITYFLOW_PETSC(MatMPIAIJGetSeqAIJ(petsc, &diag, &off, &garray));
  DENSITYFLOW_PETSC(MatGetOwnershipRange(petsc, &first_row, &end_row));
  DENSITYFLOW_PETSC(MatGetOwnershipRangeColumn(petsc, &first_column, &end_column));
  PetscInt        n_diag_rows, n_off_rows;
  const PetscInt *diag_rows, *diag_columns, *off_rows, *off_columns;
  PetscBool       diag_done, off_done;
  DENSITYFLOW_PETSC(MatGetRowIJ(
      diag, 0, PETSC_FALSE, PETSC_FALSE, &n_diag_rows, &diag_rows, &diag_columns, &diag_done));
  DENSITYFLOW_PETSC(
      MatGetRowIJ(off, 0, PETSC_FALSE, PETSC_FALSE, &n_off_rows, &off_rows, &off_columns, &off_done));
  if (!diag_done || !off_done)
    throw std::runtime_error("CellMatrixWriter: PETSc gave no row structure of the matrix.");
  // The off-diagonal block's columns are indices into garray, which is sorted: the
  // global columns of a row are sorted too.
  std::vector<PetscInt> off_global(off_rows[n_off_rows]);
  for (std::size_t p = 0; p < off_global.size(); ++p)
    off_global[p] = garray[off_columns[p]];

  positions.resize(cell_dofs.size() * n);
  std::size_t k = 0;
  for (std::size_t first = 0; first < cell_dofs.size(); first += n)
    for (unsigned int i = 0; i < n; ++i)
      {
        const PetscInt row = cell_dofs[first + i];
        for (unsigned int j = 0; j < n; ++j, ++k)
          {
            const PetscInt column = cell_dofs[first + j];
            PetscInt       p      = -1;
            if (row < first_row || row >= end_row)
              {
                positions[k] = -1;
                continue;
              }
            const PetscInt r = row - first_row;
            if (column >= first_column && column < end_column)
              p = find(diag_columns, diag_rows[r], diag_rows[r + 1], column - first_column);
            else
              {
                p = find(off_global.data(), off_rows[r], off_rows[r + 1], column);
                p = p < 0 ? -1 : -p - 2;
              }
            if (p == -1)
              throw std::runtime_error("CellMatrixWriter: a cell couples DoFs " +
                                       std::to_string(row) + " and " + std::to_string(column) +
                                       ", which the matrix's pattern does not hold.");
            if (p > std::numeric_limits<std::int32_t>::max() ||
                p < std::numeric_limits<std::int32_t>::min())
              throw std::runtime_error("CellMatrixWriter: more than 2^31 entries per rank.");
            positions[k] = static_cast<std::int32_t>(p);
          }
      }
  DENSITYFLOW_PETSC(MatRestoreRowIJ(
      diag, 0, PETSC_FALSE, PETSC_FALSE, &n_diag_rows, &diag_rows, &diag_columns, &diag_done));
  DENSITYFLOW_PETSC(
      MatRestoreRowIJ(off, 0, PETSC_FALSE, PETSC_FALSE, &n_off_rows, &off_rows, &off_columns, &off_done));
}

void CellMatrixWriter::begin(PETScWrappers::MPI::SparseMatrix &target)
{
  matrix = target.petsc_matrix();
  const PetscInt *garray;
  DENSITYFLOW_PETSC(MatMPIAIJGetSeqAIJ(matrix, &diagonal, &off_diagonal, &garray));
  DENSITYFLOW_PETSC(MatSeqAIJGetArray(diagonal, &diagonal_values));
  DENSITYFLOW_PETSC(MatSeqAIJGetArray(off_diagonal, &off_diagonal_values));
}

void CellMatrixWriter::add(const std::size_t              cell,
                           const FullMatrix<double>      &cell_matrix,
                           const types::global_dof_index constrained)
{
  const PetscInt     *dofs     = cell_dofs.data() + cell * n;
  const std::int32_t *position = positions.data() + cell * n * n;
  const PetscInt      skip =
      constrained == numbers::invalid_dof_index ? PetscInt(-1) : static_cast<PetscInt>(constrained);
  for (unsigned int i = 0; i < n; ++i, position += n)
    {
      const double *values = &cell_matrix(i, 0);
      if (dofs[i] == skip)
        {
          // What AffineConstraints::distribute_local_to_global puts on the diagonal of a
          // DoF constrained to zero: |A(i, i)|, or the mean |A(j, j)| where that is 0.
          double diagonal = std::abs(values[i]);
          if (diagonal == 0)
            {
              for (unsigned int j = 0; j < n; ++j)
                diagonal += std::abs(cell_matrix(j, j));
              diagonal /= n;
              if (diagonal == 0)
                diagonal = cell_matrix.l1_norm() / n;
              if (diagonal == 0)
                diagonal = 1;
            }
          if (position[i] == -1)
            DENSITYFLOW_PETSC(MatSetValues(matrix, 1, dofs + i, 1, dofs + i, &diagonal, ADD_VALUES));
          else
            diagonal_values[position[i]] += diagonal;
          continue;
        }
      if (position[0] == -1)
        {
          // A row of another rank: through PETSc's stash, without the constrained column.
          for (unsigned int j = 0; j < n; ++j)
            columns[j] = dofs[j] == skip ? PetscInt(-1) : dofs[j];
          DENSITYFLOW_PETSC(
              MatSetValues(matrix, 1, dofs + i, n, columns.data(), values, ADD_VALUES));
          continue;
        }
      for (unsigned int j = 0; j < n; ++j)
        if (dofs[j] != skip)
          {
            const std::int32_t p = position[j];
            if (p >= 0)
              diagonal_values[p] += values[j];
            else
              off_diagonal_values[-p - 2] += values[j];
          }
    }
}

void CellMatrixWriter::end()
{
  DENSITYFLOW_PETSC(MatSeqAIJRestoreArray(diagonal, &diagonal_values));
  DENSITYFLOW_PETSC(MatSeqAIJRestoreArray(off_diagonal, &off_diagonal_values));
  matrix = diagonal = off_diagonal = nullptr;
}
} // namespace densityflow
