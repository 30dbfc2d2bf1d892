#pragma once

#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>
#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>

#include <memory>
#include <string>

namespace densityflow
{
using namespace dealii;

struct WeightedResidualTest;

/** The preconditioners of `Linear solver/Preconditioner`. */
enum class Preconditioner
{
  /** Jacobi, switching to AMG after two slow solves (symmetric); ILU per rank otherwise. */
  automatic,
  /** hypre BoomerAMG. */
  amg,
  jacobi,
  /** ILU(0) per rank. */
  block_jacobi,
  /** A MUMPS factorisation (KSPPREONLY). */
  direct
};

/** "auto", "amg", "jacobi", "block-jacobi", "direct": the parameter's words. */
std::string to_string(const Preconditioner preconditioner);

/** The `Linear solver` subsection. */
struct LinearSolverParameters
{
  Preconditioner preconditioner = Preconditioner::automatic;
  double         tolerance      = 1e-10;
  unsigned int   max_iterations = 1000;
  /**
   * Fokker-Planck: the initial guess of a solve is the best combination (energy norm) of
   * up to this many earlier solutions with the same matrix (SolutionProjection); 0: the
   * linear extrapolation from the last two steps.
   */
  unsigned int previous_solutions = 12;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);
};

/**
 * A PETSc Krylov solver (CG for symmetric, right-preconditioned GMRES for
 * non-symmetric systems) that keeps its preconditioner from one solve to the next,
 * so that a constant system matrix is set up once per run.
 *
 * Convergence is measured on the unpreconditioned residual, relative to the right-hand
 * side, so that the stopping point does not depend on the preconditioner (and hence on
 * the number of MPI ranks). With residual weights (set_residual_weights()), the
 * weighted true residual must meet the same relative tolerance as well. PETSc options
 * (-ksp_*, -pc_*) given on the command line are honoured.
 */
class LinearSolver
{
public:
  LinearSolver(const LinearSolverParameters &parameters,
               const MPI_Comm                communicator,
               const bool                    symmetric = true);
  ~LinearSolver();
  LinearSolver(const LinearSolver &)            = delete;
  LinearSolver &operator=(const LinearSolver &) = delete;

  /** Uses @p matrix from now on; the preconditioner is rebuilt unless @p
   * reuse_preconditioner. */
  void set_matrix(const PETScWrappers::MPI::SparseMatrix &matrix,
                  const bool                              reuse_preconditioner = false);

  /**
   * From now on a solve converges only when, besides the residual r = b - A x, also
   * w r (componentwise) meets the tolerance relative to w b: for systems whose unknowns
   * span many orders of magnitude, where the plain Euclidean norm sees only the largest
   * entries. The true residual is formed (one product with A) at the iterations where
   * the plain test is met. @p weights is held by reference (its values may change
   * between solves, not its layout).
   */
  void set_residual_weights(const PETScWrappers::MPI::Vector &weights);

  /**
   * Solves with @p solution as the initial guess and returns the number of iterations.
   * Throws RunError if the solver does not converge.
   */
  unsigned int solve(PETScWrappers::MPI::Vector &solution, const PETScWrappers::MPI::Vector &rhs);

  /** For the log, e.g. "CG + BoomerAMG". */
  std::string description() const;

  /** The preconditioner in use now (`auto` resolved: Jacobi, AMG once switched, ILU). */
  Preconditioner active_preconditioner() const;

  /** Two solves in a row with more iterations than this make `auto` switch to AMG. */
  static constexpr unsigned int auto_switch_iterations = 100;

private:
  /** Sets the preconditioner type on the KSP (setup happens at the next KSPSetUp). */
  void configure_preconditioner(const Preconditioner type);

  LinearSolverParameters parameters;
  /** The preconditioner in use: `auto` starts as jacobi. */
  Preconditioner active;
  unsigned int   switched_after = 0;
  unsigned int   slow_solves    = 0;
  MPI_Comm       mpi_communicator;
  bool           symmetric;
  void          *ksp = nullptr; // KSP; kept opaque so petscksp.h stays in the .cc
  std::unique_ptr<WeightedResidualTest> weighted_test;
};
} // namespace densityflow
