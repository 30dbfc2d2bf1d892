#pragma once

#include <deal.II/base/index_set.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/petsc_sparse_matrix.h>

#include <memory>

#include <mpi.h>

namespace densityflow
{
using namespace dealii;

/**
 * The structure of distributed PETSc matrices (MATMPIAIJ) of a sparsity pattern, from
 * which matrices are made without inserting a single entry.
 *
 * deal.II's reinit() from a pattern inserts every entry through MatSetValues (a search per
 * entry), and duplicating a matrix allocates and zeroes its values page by page. Here the
 * rows of the pattern are copied once into the compressed-row arrays of the diagonal block
 * (owned rows and columns) and the off-diagonal block (other ranks' columns); each matrix
 * made from them (MatCreateMPIAIJWithSplitArrays, which uses the arrays in place) shares
 * the diagonal block's row starts and columns and has values of its own. The large arrays
 * lie on 2 MiB boundaries with transparent huge pages asked for (madvise), which spares
 * most of the page faults of their first use: a quarter of the 3D Fokker-Planck set-up on
 * this project's VM. The arrays belong to the matrices' blocks and are freed with the last
 * of them; the structure object itself may go at once.
 */
class MatrixStructure
{
public:
  /** The entries of @p pattern in the rows of @p owned (contiguous). */
  MatrixStructure(const DynamicSparsityPattern &pattern,
                  const IndexSet               &owned,
                  MPI_Comm                      communicator);
  ~MatrixStructure();

  /** Makes @p matrix a matrix of this structure, all zero. */
  void make_matrix(PETScWrappers::MPI::SparseMatrix &matrix) const;

  struct Arrays;

private:
  std::shared_ptr<const Arrays> arrays;
  const IndexSet                owned;
  const MPI_Comm                communicator;
};
/**
 * Gives @p matrix (deal.II's wrapper) the PETSc matrix @p petsc of the rows @p owned on
 * @p communicator; @p matrix owns it from then on. For matrices PETSc made itself (in
 * place from arrays, or a product), which deal.II's reinit would only copy.
 */
void adopt_matrix(Mat                               petsc,
                  const IndexSet                   &owned,
                  const MPI_Comm                    communicator,
                  PETScWrappers::MPI::SparseMatrix &matrix);
} // namespace densityflow
