#include <densityflow/solvers/cell_matrix_writer.h>
#include <densityflow/solvers/petsc_check.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace densityflow
{
namespace
{
/** Where @p column is among the sorted @p columns [begin, end), or -1. */
PetscInt
find(const PetscInt *columns, const PetscInt begin, const PetscInt end, const PetscInt column)
{
  const PetscInt *found = std::lower_bound(columns + begin, columns + end, column);
  return found != columns + end && *found == column ? PetscInt(found - columns) : -1;
}
} // namespace

CellMatrixWriter::CellMatrixWriter(const PETScWrappers::MPI::SparseMatrix     &pattern,
                                   const std::vector<types::global_dof_index> &dofs,
                                   const unsigned int                          dofs_per_cell,
                                   const bool                                  keep_positions)
    : cell_dofs(dofs.begin(), dofs.end())
    , n(dofs_per_cell)
    , kept(keep_positions)
    , located_cell(std::numeric_limits<std::size_t>::max())
    , columns(dofs_per_cell)
{
  const Mat       matrix = pattern;
  Mat             off_block;
  const PetscInt *garray = nullptr;
  DENSITYFLOW_PETSC(MatMPIAIJGetSeqAIJ(matrix, &diagonal_block, &off_block, &garray));
  DENSITYFLOW_PETSC(MatGetOwnershipRange(matrix, &first_row, &end_row));
  DENSITYFLOW_PETSC(MatGetOwnershipRangeColumn(matrix, &first_column, &end_column));
  PetscInt        n_rows;
  const PetscInt *off_local_columns;
  PetscBool       done_diagonal, done_off;
  DENSITYFLOW_PETSC(MatGetRowIJ(diagonal_block,
                                0,
                                PETSC_FALSE,
                                PETSC_FALSE,
                                &n_rows,
                                &diagonal_rows,
                                &diagonal_columns,
                                &done_diagonal));
  DENSITYFLOW_PETSC(MatGetRowIJ(
      off_block, 0, PETSC_FALSE, PETSC_FALSE, &n_rows, &off_rows, &off_local_columns, &done_off));
  if (!done_diagonal || !done_off)
    throw std::runtime_error("CellMatrixWriter: PETSc gave no row structure of the matrix.");
  // The off-diagonal block's columns index garray, which is sorted: so are a row's global
  // columns.
  off_columns.resize(off_rows[n_rows]);
  for (std::size_t p = 0; p < off_columns.size(); ++p)
    off_columns[p] = garray[off_local_columns[p]];
  // The off-diagonal block's row starts are kept; its column indices are not needed.
  DENSITYFLOW_PETSC(MatRestoreRowIJ(
      off_block, 0, PETSC_FALSE, PETSC_FALSE, &n_rows, nullptr, &off_local_columns, &done_off));

  if (kept)
    {
      positions.resize(cell_dofs.size() * n);
      for (std::size_t cell = 0; cell < cell_dofs.size() / n; ++cell)
        locate(cell, positions.data() + cell * n * n);
    }
  else
    positions.resize(n * n);
}

CellMatrixWriter::~CellMatrixWriter()
{
  PetscInt  n_rows;
  PetscBool done;
  MatRestoreRowIJ(diagonal_block,
                  0,
                  PETSC_FALSE,
                  PETSC_FALSE,
                  &n_rows,
                  &diagonal_rows,
                  &diagonal_columns,
                  &done);
}

void CellMatrixWriter::locate(const std::size_t cell, std::int32_t *out) const
{
  const PetscInt *dofs = cell_dofs.data() + cell * n;
  for (unsigned int i = 0; i < n; ++i)
    {
      const PetscInt row = dofs[i];
      if (row < first_row || row >= end_row)
        {
          std::fill(out, out + n, -1);
          out += n;
          continue;
        }
      const PetscInt r = row - first_row;
      for (unsigned int j = 0; j < n; ++j, ++out)
        {
          const PetscInt column = dofs[j];
          PetscInt       p;
          if (column >= first_column && column < end_column)
            p = find(
                diagonal_columns, diagonal_rows[r], diagonal_rows[r + 1], column - first_column);
          else
            {
              p = find(off_columns.data(), off_rows[r], off_rows[r + 1], column);
              p = p < 0 ? -1 : -p - 2;
            }
          if (p == -1)
            throw std::runtime_error("CellMatrixWriter: a cell couples DoFs " +
                                     std::to_string(row) + " and " + std::to_string(column) +
                                     ", which the matrix's pattern does not hold.");
          if (p > std::numeric_limits<std::int32_t>::max() ||
              p < std::numeric_limits<std::int32_t>::min())
            throw std::runtime_error(
                "CellMatrixWriter: more than 2^31 entries in one rank's block.");
          *out = static_cast<std::int32_t>(p);
        }
    }
}

CellMatrixWriter::Target CellMatrixWriter::open(PETScWrappers::MPI::SparseMatrix &matrix) const
{
  Target          target;
  const PetscInt *garray;
  target.matrix = matrix.petsc_matrix();
  DENSITYFLOW_PETSC(
      MatMPIAIJGetSeqAIJ(target.matrix, &target.diagonal, &target.off_diagonal, &garray));
  DENSITYFLOW_PETSC(MatSeqAIJGetArray(target.diagonal, &target.diagonal_values));
  DENSITYFLOW_PETSC(MatSeqAIJGetArray(target.off_diagonal, &target.off_diagonal_values));
  return target;
}

void CellMatrixWriter::close(Target &target) const
{
  DENSITYFLOW_PETSC(MatSeqAIJRestoreArray(target.diagonal, &target.diagonal_values));
  DENSITYFLOW_PETSC(MatSeqAIJRestoreArray(target.off_diagonal, &target.off_diagonal_values));
  target = Target();
}

void CellMatrixWriter::add(Target                       &target,
                           const std::size_t             cell,
                           const FullMatrix<double>     &cell_matrix,
                           const types::global_dof_index constrained)
{
  const std::int32_t *position = positions.data();
  if (kept)
    position += cell * n * n;
  else if (cell != located_cell)
    {
      locate(cell, positions.data());
      located_cell = cell;
    }
  const PetscInt *dofs = cell_dofs.data() + cell * n;
  const PetscInt  skip =
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
            DENSITYFLOW_PETSC(
                MatSetValues(target.matrix, 1, dofs + i, 1, dofs + i, &diagonal, ADD_VALUES));
          else
            target.diagonal_values[position[i]] += diagonal;
          continue;
        }
      if (position[0] == -1)
        {
          // A row of another rank: through PETSc's stash, without the constrained column.
          for (unsigned int j = 0; j < n; ++j)
            columns[j] = dofs[j] == skip ? PetscInt(-1) : dofs[j];
          DENSITYFLOW_PETSC(
              MatSetValues(target.matrix, 1, dofs + i, n, columns.data(), values, ADD_VALUES));
          continue;
        }
      for (unsigned int j = 0; j < n; ++j)
        if (dofs[j] != skip)
          {
            const std::int32_t p = position[j];
            if (p >= 0)
              target.diagonal_values[p] += values[j];
            else
              target.off_diagonal_values[-p - 2] += values[j];
          }
    }
}
} // namespace densityflow
