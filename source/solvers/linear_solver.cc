#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/linear_solver.h>
#include <densityflow/solvers/petsc_check.h>

#include <petscksp.h>

#include <array>
#include <cmath>
#include <limits>
#include <sstream>

namespace densityflow
{
/**
 * PETSc's default test (relative to ||b||) and, once it is met, the same relative
 * tolerance for the weighted true residual: ||w (b - A x)|| <= rtol ||w b||.
 */
struct WeightedResidualTest
{
  const PETScWrappers::MPI::Vector *weights = nullptr;
  double                            tolerance;
  void                             *default_context = nullptr;
  /** Work vectors of KSPBuildResidual: a copy of x and the residual. */
  Vec    solution_copy = nullptr, residual = nullptr;
  double weighted_rhs_norm = 0;
  /** ||w r|| / ||w b|| where it was last formed (NaN: not yet in this solve). */
  double last_ratio = std::numeric_limits<double>::quiet_NaN();
  bool   installed  = false;

  ~WeightedResidualTest()
  {
    VecDestroy(&solution_copy);
    VecDestroy(&residual);
    if (default_context != nullptr)
      KSPConvergedDefaultDestroy(default_context);
  }
};

namespace
{
PetscErrorCode weighted_convergence_test(
    KSP ksp, PetscInt iteration, PetscReal residual_norm, KSPConvergedReason *reason, void *context)
{
  auto &test = *static_cast<WeightedResidualTest *>(context);
  PetscCall(KSPConvergedDefault(ksp, iteration, residual_norm, reason, test.default_context));
  if (*reason <= 0 || test.weighted_rhs_norm == 0)
    return 0;
  Vec r;
  PetscCall(KSPBuildResidual(ksp, test.solution_copy, test.residual, &r));
  PetscCall(VecPointwiseMult(r, r, *test.weights));
  PetscReal weighted_norm;
  PetscCall(VecNorm(r, NORM_2, &weighted_norm));
  test.last_ratio = weighted_norm / test.weighted_rhs_norm;
  if (!(test.last_ratio <= test.tolerance))
    *reason = KSP_CONVERGED_ITERATING;
  return 0;
}

/** The words of the parameter, in the order of the enum. */
constexpr std::array<const char *, 5> preconditioner_names = {
    {"auto", "amg", "jacobi", "block-jacobi", "direct"}};

Preconditioner parse_preconditioner(const std::string &text)
{
  for (std::size_t k = 0; k < preconditioner_names.size(); ++k)
    if (text == preconditioner_names[k])
      return static_cast<Preconditioner>(k);
  // Patterns::Selection has refused anything else already.
  throw InputError("Linear solver/Preconditioner = '" + text + "' is not one of " +
                   "auto, amg, jacobi, block-jacobi, direct.");
}
} // namespace

std::string to_string(const Preconditioner preconditioner)
{
  return preconditioner_names[static_cast<std::size_t>(preconditioner)];
}

void LinearSolverParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Linear solver");
  prm.declare_entry(
      "Preconditioner",
      "auto",
      Patterns::Selection("auto|amg|jacobi|block-jacobi|direct"),
      "auto: Jacobi, switching to BoomerAMG for good once two solves in a row need more "
      "than 100 iterations (measured: for the mass-dominated systems of typical time "
      "steps a Jacobi-CG iteration costs 1/10 to 1/20 of an AMG one, so Jacobi wins "
      "up to about 100 iterations); amg: hypre BoomerAMG; jacobi: diagonal; "
      "block-jacobi: ILU(0) per rank; direct: MUMPS factorisation "
      "(exact up to round-off, for small problems and for tests).");
  prm.declare_entry("Tolerance",
                    "1e-10",
                    Patterns::Double(0),
                    "Relative tolerance on the unpreconditioned residual (Fokker-Planck: "
                    "also on the residual in mass per node). Mass is conserved to round-off "
                    "whatever the tolerance (see the solver's documentation).");
  prm.declare_entry(
      "Maximum iterations", "1000", Patterns::Integer(1), "Iteration limit per solve.");
  prm.declare_entry("Previous solutions",
                    "12",
                    Patterns::Integer(0, 64),
                    "Fokker-Planck: each solve starts from the best combination, in the "
                    "energy norm, of up to this many earlier solutions with the same matrix "
                    "(Fischer's projection: one extra product with the matrix per step, and "
                    "this many vectors of memory); 0: from the linear extrapolation of the "
                    "last two steps. Changes the iterations, not the tolerance; unused by the "
                    "direct solver and where the potential depends on time.");
  prm.leave_subsection();
}

void LinearSolverParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Linear solver");
  preconditioner = parse_preconditioner(prm.get("Preconditioner"));
  tolerance      = prm.get_double("Tolerance");
  max_iterations = prm.get_integer("Maximum iterations");
  previous_solutions = prm.get_integer("Previous solutions");
  prm.leave_subsection();
}

LinearSolver::LinearSolver(const LinearSolverParameters &parameters,
                           const MPI_Comm                communicator,
                           const bool                    symmetric)
    : parameters(parameters)
    // auto: Jacobi (then AMG) for the symmetric systems; ILU per rank for the
    // non-symmetric ones of DG transport, where BoomerAMG does not fit.
    , active(parameters.preconditioner != Preconditioner::automatic ? parameters.preconditioner
             : symmetric                                            ? Preconditioner::jacobi
                                                                    : Preconditioner::block_jacobi)
    , mpi_communicator(communicator)
    , symmetric(symmetric)
{}

LinearSolver::~LinearSolver()
{
  if (ksp != nullptr)
    {
      KSP k = static_cast<KSP>(ksp);
      KSPDestroy(&k);
    }
}

void LinearSolver::set_matrix(const PETScWrappers::MPI::SparseMatrix &matrix,
                              const bool                              reuse_preconditioner)
{
  const Mat A = static_cast<Mat>(matrix);
  if (ksp == nullptr)
    {
      KSP k;
      DENSITYFLOW_PETSC(KSPCreate(mpi_communicator, &k));
      ksp = k;
      PC pc;
      DENSITYFLOW_PETSC(KSPGetPC(k, &pc));
      if (parameters.preconditioner == Preconditioner::direct)
        {
          DENSITYFLOW_PETSC(KSPSetType(k, KSPPREONLY));
          DENSITYFLOW_PETSC(PCSetType(pc, symmetric ? PCCHOLESKY : PCLU));
          DENSITYFLOW_PETSC(PCFactorSetMatSolverType(pc, MATSOLVERMUMPS));
        }
      else
        {
          DENSITYFLOW_PETSC(KSPSetType(k, symmetric ? KSPCG : KSPGMRES));
          if (!symmetric)
            DENSITYFLOW_PETSC(KSPSetPCSide(k, PC_RIGHT));
          DENSITYFLOW_PETSC(KSPSetNormType(k, KSP_NORM_UNPRECONDITIONED));
          DENSITYFLOW_PETSC(KSPSetInitialGuessNonzero(k, PETSC_TRUE));
          DENSITYFLOW_PETSC(KSPSetTolerances(
              k, parameters.tolerance, 1e-300, PETSC_DEFAULT, parameters.max_iterations));
          configure_preconditioner(active);
        }
      DENSITYFLOW_PETSC(KSPSetOperators(k, A, A));
      DENSITYFLOW_PETSC(KSPSetFromOptions(k));
      DENSITYFLOW_PETSC(KSPSetUp(k));
      return;
    }
  KSP k = static_cast<KSP>(ksp);
  DENSITYFLOW_PETSC(KSPSetReusePreconditioner(k, reuse_preconditioner ? PETSC_TRUE : PETSC_FALSE));
  DENSITYFLOW_PETSC(KSPSetOperators(k, A, A));
  DENSITYFLOW_PETSC(KSPSetUp(k));
}

void LinearSolver::configure_preconditioner(const Preconditioner type)
{
  PC pc;
  DENSITYFLOW_PETSC(KSPGetPC(static_cast<KSP>(ksp), &pc));
  if (type == Preconditioner::amg)
    {
      DENSITYFLOW_PETSC(PCSetType(pc, PCHYPRE));
      DENSITYFLOW_PETSC(PCHYPRESetType(pc, "boomeramg"));
    }
  else if (type == Preconditioner::jacobi)
    DENSITYFLOW_PETSC(PCSetType(pc, PCJACOBI));
  else
    DENSITYFLOW_PETSC(PCSetType(pc, PCBJACOBI));
  active = type;
}

void LinearSolver::set_residual_weights(const PETScWrappers::MPI::Vector &weights)
{
  if (parameters.preconditioner == Preconditioner::direct)
    return; // nothing iterates
  if (!weighted_test)
    weighted_test = std::make_unique<WeightedResidualTest>();
  weighted_test->weights   = &weights;
  weighted_test->tolerance = parameters.tolerance;
}

unsigned int LinearSolver::solve(PETScWrappers::MPI::Vector       &solution,
                                 const PETScWrappers::MPI::Vector &rhs)
{
  Assert(ksp != nullptr, ExcMessage("LinearSolver::set_matrix() must come before solve()."));
  KSP k = static_cast<KSP>(ksp);
  if (weighted_test)
    {
      WeightedResidualTest &test = *weighted_test;
      if (!test.installed)
        {
          DENSITYFLOW_PETSC(KSPConvergedDefaultCreate(&test.default_context));
          DENSITYFLOW_PETSC(KSPSetConvergenceTest(k, weighted_convergence_test, &test, nullptr));
          DENSITYFLOW_PETSC(VecDuplicate(rhs, &test.solution_copy));
          DENSITYFLOW_PETSC(VecDuplicate(rhs, &test.residual));
          test.installed = true;
        }
      DENSITYFLOW_PETSC(VecPointwiseMult(test.residual, rhs, *test.weights));
      DENSITYFLOW_PETSC(VecNorm(test.residual, NORM_2, &test.weighted_rhs_norm));
      test.last_ratio = std::numeric_limits<double>::quiet_NaN();
    }
  DENSITYFLOW_PETSC(KSPSolve(k, rhs, solution));
  KSPConvergedReason reason;
  PetscInt           iterations;
  DENSITYFLOW_PETSC(KSPGetConvergedReason(k, &reason));
  DENSITYFLOW_PETSC(KSPGetIterationNumber(k, &iterations));
  if (reason < 0)
    {
      std::ostringstream message;
      message << "The linear solver (" << description()
              << ") did not converge: " << KSPConvergedReasons[reason] << " after " << iterations
              << " iterations (Linear solver/Tolerance = " << parameters.tolerance
              << ", Maximum iterations = " << parameters.max_iterations << ")";
      if (weighted_test && std::isfinite(weighted_test->last_ratio))
        message << "; the weighted residual was " << weighted_test->last_ratio
                << " of the weighted right-hand side where the plain one had converged";
      message << ".";
      throw RunError(message.str());
    }
  // Two slow solves in a row, not one: the first step from rough initial data is slow
  // with any preconditioner.
  slow_solves =
      static_cast<unsigned int>(iterations) > auto_switch_iterations ? slow_solves + 1 : 0;
  if (parameters.preconditioner == Preconditioner::automatic && symmetric &&
      active == Preconditioner::jacobi && slow_solves >= 2)
    {
      configure_preconditioner(Preconditioner::amg);
      DENSITYFLOW_PETSC(KSPSetUp(k));
      switched_after = iterations;
    }
  // A direct solve reports 0 iterations of KSPPREONLY; count it as one.
  return std::max<PetscInt>(iterations, 1);
}

Preconditioner LinearSolver::active_preconditioner() const
{
  return parameters.preconditioner == Preconditioner::direct ? Preconditioner::direct : active;
}

std::string LinearSolver::description() const
{
  if (parameters.preconditioner == Preconditioner::direct)
    return std::string("MUMPS ") + (symmetric ? "Cholesky" : "LU");
  const std::string krylov = symmetric ? "CG" : "GMRES";
  std::string       text   = krylov + (active == Preconditioner::amg      ? " + BoomerAMG"
                                       : active == Preconditioner::jacobi ? " + Jacobi"
                                                                          : " + block Jacobi/ILU(0)");
  if (parameters.preconditioner == Preconditioner::automatic && symmetric)
    text += switched_after > 0 ? " (auto: switched from Jacobi after a solve of " +
                                     std::to_string(switched_after) + " iterations)"
                               : " (auto: switches to BoomerAMG after two solves of more than " +
                                     std::to_string(auto_switch_iterations) + " iterations)";
  return text;
}
} // namespace densityflow
