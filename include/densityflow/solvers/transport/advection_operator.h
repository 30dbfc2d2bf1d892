#pragma once

#include <densityflow/solvers/transport/dg_discretization.h>

#include <deal.II/base/point.h>
#include <deal.II/base/tensor.h>
#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>

#include <functional>
#include <utility>

namespace densityflow
{
using namespace dealii;

/**
 * The DG advection operator of a velocity field b with the upwind flux:
 * M rho' + A rho = s with A_ij = -int_K phi_j b.grad phi_i + int_F (b.n) phi_j^upwind
 * [phi_i] over interior faces and int (b.n)^+ phi_j phi_i over the boundary. It keeps
 * with A its column sums (the outflow weights 1^T A), its CFL rate max_K |b|_1 / h_K
 * and, for explicit steps, M^{-1} A.
 */
template <int dim>
class AdvectionOperator
{
public:
  using Velocity = std::function<Tensor<1, dim>(const Point<dim> &)>;

  AdvectionOperator() = default;
  ~AdvectionOperator();
  AdvectionOperator(const AdvectionOperator &)            = delete;
  AdvectionOperator &operator=(const AdvectionOperator &) = delete;

  /**
   * Assembles A for @p b (on the flux pattern at the first call) and its outflow
   * weights 1^T A with @p ones. With @p inverse_mass, also M^{-1} A, from which stored
   * zeros are dropped if @p drop_zeros (an operator assembled once).
   */
  void assemble(const DGDiscretization<dim>            &space,
                const Velocity                         &b,
                const PETScWrappers::MPI::Vector       &ones,
                const PETScWrappers::MPI::SparseMatrix *inverse_mass,
                const bool                              drop_zeros);

  PETScWrappers::MPI::SparseMatrix matrix;
  /** M^{-1} A for explicit steps (a PETSc Mat, owned; null for implicit schemes). */
  void                      *explicit_matrix = nullptr;
  PETScWrappers::MPI::Vector outflow_weights;
  /** max_K |b|_1 / h_K at the quadrature points. */
  double rate = 0;
  /**
   * On periodic walls (Mesh/Periodic): the largest |b(x) - b(x')| between the quadrature
   * points x of their faces and the images x' on the opposite wall, and the largest |b|
   * there (all ranks'). Both 0 without periodic walls. A b that is not periodic makes
   * the upwind flux take one side's value: the caller refuses it.
   */
  std::pair<double, double> periodic_jump{0, 0};

private:
  /** M^{-1} A once, so that an explicit stage is one matrix-vector product. */
  void form_explicit_matrix(const PETScWrappers::MPI::SparseMatrix &inverse_mass,
                            const bool                              drop_zeros);
};
} // namespace densityflow
