// The linear solver's preconditioner choice: `auto` starts with Jacobi and switches to
// BoomerAMG for good after two solves in a row that need more than
// auto_switch_iterations iterations; an explicit choice stays; a solve that does not
// converge throws RunError naming the solver, the reason and the limits.
#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/linear_solver.h>

#include <deal.II/base/index_set.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>

#include <gtest/gtest.h>

using namespace densityflow;

namespace
{
/**
 * The 1D Laplacian tridiag(-1, 2, -1) of size n, distributed by rows over
 * MPI_COMM_WORLD: its condition number ~ n^2 makes Jacobi-CG take O(n) iterations,
 * while AMG needs a handful.
 */
struct Laplacian
{
  explicit Laplacian(const unsigned int n)
      : owned(n)
  {
    const unsigned int ranks = Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD);
    const unsigned int rank  = Utilities::MPI::this_mpi_process(MPI_COMM_WORLD);
    owned.add_range(rank * n / ranks, (rank + 1) * n / ranks);
    DynamicSparsityPattern pattern(n, n);
    for (unsigned int i = 0; i < n; ++i)
      for (unsigned int j = (i > 0 ? i - 1 : 0); j <= std::min(i + 1, n - 1); ++j)
        pattern.add(i, j);
    matrix.reinit(owned, owned, pattern, MPI_COMM_WORLD);
    for (const auto i : owned)
      {
        matrix.set(i, i, 2.0);
        if (i > 0)
          matrix.set(i, i - 1, -1.0);
        if (i + 1 < n)
          matrix.set(i, i + 1, -1.0);
      }
    matrix.compress(VectorOperation::insert);
    rhs.reinit(owned, MPI_COMM_WORLD);
    rhs = 1.0;
  }

  /** Solves from a zero initial guess into @p x (if given); returns the iterations. */
  unsigned int solve_from_zero(LinearSolver &solver, PETScWrappers::MPI::Vector *x = nullptr) const
  {
    PETScWrappers::MPI::Vector solution(owned, MPI_COMM_WORLD);
    const unsigned int         iterations = solver.solve(solution, rhs);
    if (x != nullptr)
      *x = solution;
    return iterations;
  }

  IndexSet                         owned;
  PETScWrappers::MPI::SparseMatrix matrix;
  PETScWrappers::MPI::Vector       rhs;
};

LinearSolverParameters parameters(const Preconditioner preconditioner)
{
  LinearSolverParameters p;
  p.preconditioner = preconditioner;
  p.tolerance      = 1e-10;
  p.max_iterations = 2000;
  return p;
}
} // namespace

TEST(LinearSolver, AutoSwitchesToAmgAfterTwoSlowSolves)
{
  const Laplacian laplacian(600);
  LinearSolver    solver(parameters(Preconditioner::automatic), MPI_COMM_WORLD);
  solver.set_matrix(laplacian.matrix);
  EXPECT_EQ(solver.active_preconditioner(), Preconditioner::jacobi);

  const unsigned int first = laplacian.solve_from_zero(solver);
  ASSERT_GT(first, LinearSolver::auto_switch_iterations) << "the test system must be slow";
  EXPECT_EQ(solver.active_preconditioner(), Preconditioner::jacobi) << "one slow solve";

  laplacian.solve_from_zero(solver);
  EXPECT_EQ(solver.active_preconditioner(), Preconditioner::amg) << "two slow solves";
  EXPECT_NE(solver.description().find("switched from Jacobi"), std::string::npos)
      << solver.description();

  // For good: AMG solves it fast, and fast solves do not switch back.
  EXPECT_LT(laplacian.solve_from_zero(solver), 50u);
  EXPECT_EQ(solver.active_preconditioner(), Preconditioner::amg);
}

TEST(LinearSolver, AutoCountsSlowSolvesInARow)
{
  const Laplacian            laplacian(600);
  LinearSolver               solver(parameters(Preconditioner::automatic), MPI_COMM_WORLD);
  PETScWrappers::MPI::Vector x;
  solver.set_matrix(laplacian.matrix);
  ASSERT_GT(laplacian.solve_from_zero(solver, &x), LinearSolver::auto_switch_iterations);
  // A fast solve in between (from the solution: converged at once) resets the count.
  EXPECT_LE(solver.solve(x, laplacian.rhs), 1u);
  EXPECT_EQ(solver.active_preconditioner(), Preconditioner::jacobi);
  ASSERT_GT(laplacian.solve_from_zero(solver), LinearSolver::auto_switch_iterations);
  EXPECT_EQ(solver.active_preconditioner(), Preconditioner::jacobi);
}

TEST(LinearSolver, ExplicitChoicesStay)
{
  const Laplacian laplacian(600);
  LinearSolver    jacobi(parameters(Preconditioner::jacobi), MPI_COMM_WORLD);
  jacobi.set_matrix(laplacian.matrix);
  for (unsigned int k = 0; k < 3; ++k)
    ASSERT_GT(laplacian.solve_from_zero(jacobi), LinearSolver::auto_switch_iterations);
  EXPECT_EQ(jacobi.active_preconditioner(), Preconditioner::jacobi);
  EXPECT_EQ(jacobi.description(), "CG + Jacobi");

  // auto for a non-symmetric system (DG transport) is ILU per rank, not Jacobi.
  const LinearSolver gmres(parameters(Preconditioner::automatic), MPI_COMM_WORLD, false);
  EXPECT_EQ(gmres.active_preconditioner(), Preconditioner::block_jacobi);

  LinearSolver amg(parameters(Preconditioner::amg), MPI_COMM_WORLD);
  amg.set_matrix(laplacian.matrix);
  EXPECT_LT(laplacian.solve_from_zero(amg), 50u);
  EXPECT_EQ(amg.active_preconditioner(), Preconditioner::amg);
}

TEST(LinearSolver, NonConvergenceIsARunErrorThatSaysWhy)
{
  const Laplacian        laplacian(600);
  LinearSolverParameters p = parameters(Preconditioner::jacobi);
  p.max_iterations         = 5;
  LinearSolver solver(p, MPI_COMM_WORLD);
  solver.set_matrix(laplacian.matrix);
  try
    {
      laplacian.solve_from_zero(solver);
      FAIL() << "5 iterations cannot solve the system";
    }
  catch (const RunError &error)
    {
      const std::string message = error.what();
      for (const std::string &part : {std::string("CG + Jacobi"),
                                      std::string("did not converge"),
                                      std::string("DIVERGED_ITS"),
                                      std::string("Maximum iterations = 5")})
        EXPECT_NE(message.find(part), std::string::npos) << message;
    }
}

TEST(LinearSolver, PreconditionerWords)
{
  EXPECT_EQ(to_string(Preconditioner::automatic), "auto");
  EXPECT_EQ(to_string(Preconditioner::block_jacobi), "block-jacobi");
  EXPECT_EQ(to_string(Preconditioner::direct), "direct");
}
