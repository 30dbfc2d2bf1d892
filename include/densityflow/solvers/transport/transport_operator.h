#pragma once

#include <densityflow/solvers/transport/advection_operator.h>
#include <densityflow/solvers/transport/dg_discretization.h>
#include <densityflow/solvers/transport/diffusion_operator.h>

#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>

#include <functional>
#include <limits>
#include <memory>

namespace densityflow
{
using namespace dealii;

template <int dim>
class Physics;

/** The advection operator at one time: A(t) = scale * matrix, with its explicit form. */
struct AdvectionAtTime
{
  const PETScWrappers::MPI::SparseMatrix *matrix;
  /** M^{-1} A (a raw PETSc Mat; null for implicit schemes). */
  void                             *explicit_matrix;
  const PETScWrappers::MPI::Vector *outflow_weights;
  double                            scale;
};

/**
 * The spatial discretisation of transport, M rho' + (A(t) + D) rho = s(t): the DG mass
 * matrix and its (block-diagonal) inverse, the advection operator A(t), the SIPG
 * diffusion D (eps > 0) and the inflow source s(t). What the time integrators use.
 *
 * A is assembled once when b does not depend on t; when b = f(t) w(x) it is assembled
 * for w and -w (the upwind side flips with the sign of f) and scaled; only a general
 * b(x, t) is reassembled at every time it is asked for.
 */
template <int dim>
class TransportOperator
{
public:
  /** With @p explicit_steps, the advection operators also keep M^{-1} A. */
  TransportOperator(const DGDiscretization<dim> &space,
                    const Physics<dim>          &physics,
                    const bool                   explicit_steps);

  /** The advection operator at time @p t. */
  AdvectionAtTime advection_at(const double t);

  /**
   * Called with a stage's density u (owned layout) and time t before A is assembled for it.
   */
  using StagePreparation = std::function<void(const PETScWrappers::MPI::Vector &, double)>;

  /**
   * Makes b depend on the density itself (an interaction velocity): from now on
   * explicit_rate(u, t) first calls @p prepare(u, t), then assembles A for @p b (which
   * reads what prepare left) and uses it. The other paths are not affected.
   */
  void set_stage_velocity(StagePreparation prepare, typename AdvectionOperator<dim>::Velocity b);

  /**
   * du = M^{-1}(s - A u) at time @p t; returns the net outflow rate a_out.u - 1.s. With
   * @p factor, du may be left to be multiplied by *factor (the scale of A(t) = scale A),
   * which saves a pass over du where the caller combines it with other vectors anyway.
   */
  double explicit_rate(const PETScWrappers::MPI::Vector &u,
                       const double                      t,
                       PETScWrappers::MPI::Vector       &du,
                       double                           *factor = nullptr);

  /** (scale A + D) u for the advection operator @p A, into @p result. */
  void apply(const AdvectionAtTime            &A,
             const PETScWrappers::MPI::Vector &u,
             PETScWrappers::MPI::Vector       &result) const;

  /** The inflow source at time @p t. */
  void inflow(const double t, PETScWrappers::MPI::Vector &source) const;

  /** max_K |b(t)|_1 / h_K, which the CFL number divides. */
  double cfl_rate(const double t) const;

  /** Whether A is reassembled at every time (a general b(x, t)). */
  bool reassembled() const;

  const PETScWrappers::MPI::SparseMatrix &mass_matrix() const;
  const PETScWrappers::MPI::SparseMatrix &inverse_mass_matrix() const;
  /** D; null without diffusion. */
  const PETScWrappers::MPI::SparseMatrix *diffusion_matrix() const;
  const DGDiscretization<dim>            &space() const;

private:
  void assemble_mass();
  void assemble_advection(const typename AdvectionOperator<dim>::Velocity &b,
                          const double                                     t,
                          AdvectionOperator<dim>                          &advection) const;

  const DGDiscretization<dim>             discretization;
  const Physics<dim>                     &physics;
  const bool                              explicit_steps;
  PETScWrappers::MPI::SparseMatrix        mass;
  PETScWrappers::MPI::SparseMatrix        inverse_mass;
  std::unique_ptr<DiffusionOperator<dim>> diffusion;
  PETScWrappers::MPI::Vector              ones;
  /** Constant b, or w of b = f(t) w (forward) and -w (backward); or b at the last time. */
  std::unique_ptr<AdvectionOperator<dim>> forward, backward;
  double                                  assembled_time = std::numeric_limits<double>::quiet_NaN();
  /** The stage velocity of set_stage_velocity() and the operator of the last stage. */
  StagePreparation                          stage_preparation;
  typename AdvectionOperator<dim>::Velocity stage_velocity;
  std::unique_ptr<AdvectionOperator<dim>>   stage;
};
} // namespace densityflow
