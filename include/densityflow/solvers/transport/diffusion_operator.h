#pragma once

#include <densityflow/solvers/transport/dg_discretization.h>

#include <deal.II/lac/petsc_sparse_matrix.h>

namespace densityflow
{
using namespace dealii;

/**
 * The symmetric interior penalty (SIPG) matrix of -eps Laplace on the DG space, with
 * no diffusive flux through the boundary (boundary faces contribute nothing). The
 * penalty is max(1, 2 p (p + 1)) / h with h the smaller cell extent normal to the
 * face: for p = 0 this is the two-point flux eps (rho_K - rho_K') / h.
 */
template <int dim>
class DiffusionOperator
{
public:
  /** Assembles the matrix for diffusion @p eps on @p space. */
  DiffusionOperator(const DGDiscretization<dim> &space, const double eps);

  PETScWrappers::MPI::SparseMatrix matrix;
};
} // namespace densityflow
