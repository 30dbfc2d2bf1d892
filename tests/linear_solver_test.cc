// The linear solver's preconditioner choice: `auto` starts with Jacobi and switches to
// BoomerAMG for good after two solves in a row that need more than
// auto_switch_iterations iterations; an explicit choice stays; a solve that does not
// converge throws RunError naming the solver, the reason and the limits. The projection
// of earlier solutions (SolutionProjection): an energy-orthonormal basis, exact guesses in
// the span of earlier right-hand sides, never worse than the linear extrapolation.
// CellMatrixWriter: the same matrix to the bit as AffineConstraints. MatrixStructure: the
// matrices deal.II would make of a pattern, alive after the structure and each other.
#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/cell_matrix_writer.h>
#include <densityflow/solvers/linear_solver.h>
#include <densityflow/solvers/matrix_structure.h>
#include <densityflow/solvers/solution_projection.h>

#include <deal.II/base/index_set.h>
#include <deal.II/distributed/tria.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>
#include <deal.II/lac/sparsity_tools.h>

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>
#include <vector>

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
  explicit Laplacian(const unsigned int n, const double diagonal = 2.0)
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
        matrix.set(i, i, diagonal);
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

namespace
{
/** A bump moving with t over the nodes i / n: right-hand sides of successive steps. */
PETScWrappers::MPI::Vector moving_bump(const Laplacian &system, const double t)
{
  PETScWrappers::MPI::Vector b(system.rhs);
  const double               n = system.owned.size();
  for (const auto i : system.owned)
    b(i) = std::exp(-std::pow(i / n - 0.3 - 0.2 * t, 2) / 0.01);
  b.compress(VectorOperation::insert);
  return b;
}

/** ||x||_A^2 = x^T A x. */
double energy(const Laplacian &system, const PETScWrappers::MPI::Vector &x)
{
  PETScWrappers::MPI::Vector Ax(x);
  system.matrix.vmult(Ax, x);
  return x * Ax;
}

/** A^{-1} b by MUMPS: exact to round-off. */
PETScWrappers::MPI::Vector exact_solution(const Laplacian                  &system,
                                          const PETScWrappers::MPI::Vector &b)
{
  LinearSolver direct(parameters(Preconditioner::direct), MPI_COMM_WORLD);
  direct.set_matrix(system.matrix);
  PETScWrappers::MPI::Vector x(b);
  x = 0;
  direct.solve(x, b);
  return x;
}
} // namespace

// A mass-dominated system like M + dt K: A = tridiag(-1, 2 + s, -1).
TEST(SolutionProjection, BasisIsEnergyOrthonormalAndStartsAgainWhenFull)
{
  const Laplacian    system(300, 2.5);
  SolutionProjection projection(4);
  EXPECT_FALSE(projection.ready());
  for (unsigned int n = 0; n < 4; ++n)
    {
      projection.add(exact_solution(system, moving_bump(system, 0.1 * n)), system.matrix);
      EXPECT_EQ(projection.size(), n + 1);
    }
  EXPECT_TRUE(projection.ready());
  const auto basis = projection.basis();
  for (unsigned int i = 0; i < basis.size(); ++i)
    for (unsigned int j = 0; j < basis.size(); ++j)
      {
        PETScWrappers::MPI::Vector Ax(*basis[j]);
        system.matrix.vmult(Ax, *basis[j]);
        EXPECT_NEAR(*basis[i] * Ax, i == j ? 1.0 : 0.0, 1e-12) << i << ", " << j;
      }
  // Full: the next solution starts a basis of its own.
  projection.add(exact_solution(system, moving_bump(system, 0.4)), system.matrix);
  EXPECT_EQ(projection.size(), 1u);
  EXPECT_NEAR(energy(system, *projection.basis()[0]), 1.0, 1e-12);
  projection.reset();
  EXPECT_EQ(projection.size(), 0u);

  SolutionProjection off(0);
  off.add(exact_solution(system, moving_bump(system, 0)), system.matrix);
  EXPECT_EQ(off.size(), 0u);
}

// Fischer's property: for b in the span of earlier right-hand sides the guess is A^{-1} b.
TEST(SolutionProjection, GuessIsExactInTheSpanOfEarlierRightHandSides)
{
  const Laplacian                         system(300, 2.5);
  SolutionProjection                      projection(8);
  std::vector<PETScWrappers::MPI::Vector> b;
  for (unsigned int n = 0; n < 3; ++n)
    {
      b.push_back(moving_bump(system, 0.5 * n));
      projection.add(exact_solution(system, b.back()), system.matrix);
    }
  PETScWrappers::MPI::Vector combination(b[0]);
  combination.sadd(0.3, -2.0, b[1]);
  combination += b[2];
  PETScWrappers::MPI::Vector guess(combination);
  projection.guess(combination, guess);
  PETScWrappers::MPI::Vector error = exact_solution(system, combination);
  error -= guess;
  EXPECT_LT(std::sqrt(energy(system, error)), 1e-12 * std::sqrt(energy(system, guess)));
}

// The span holds x^n and x^{n-1}, so the energy-norm best guess in it is no worse than
// 2 x^n - x^{n-1}; along a smooth sequence it is much better.
TEST(SolutionProjection, GuessIsNoWorseThanLinearExtrapolation)
{
  const Laplacian                         system(300, 2.5);
  SolutionProjection                      projection(6);
  std::vector<PETScWrappers::MPI::Vector> x;
  double                                  worst_ratio = 0;
  for (unsigned int n = 0; n < 12; ++n)
    {
      const PETScWrappers::MPI::Vector b     = moving_bump(system, 0.02 * n);
      const PETScWrappers::MPI::Vector exact = exact_solution(system, b);
      if (projection.ready())
        {
          PETScWrappers::MPI::Vector guess(b), extrapolated(x[n - 1]);
          projection.guess(b, guess);
          extrapolated.sadd(2.0, -1.0, x[n - 2]);
          guess -= exact;
          extrapolated -= exact;
          const double ratio = std::sqrt(energy(system, guess) / energy(system, extrapolated));
          EXPECT_LE(ratio, 1 + 1e-9) << "step " << n;
          if (projection.size() >= 3)
            worst_ratio = std::max(worst_ratio, ratio);
        }
      projection.add(exact, system.matrix);
      x.push_back(exact);
    }
  // With three or more solutions the span holds the quadratic extrapolation too, which
  // gains an order in the step on a bump moving smoothly.
  EXPECT_GT(worst_ratio, 0);
  EXPECT_LT(worst_ratio, 0.5);
}

namespace
{
/**
 * Q2 on 6 x 6 cells of the unit square, cut in two on 2 ranks (so that rows of the other
 * rank and off-diagonal blocks occur), with the pattern of its cell couplings.
 */
struct SplitSquare
{
  SplitSquare()
      : mesh(MPI_COMM_WORLD)
      , fe(2)
      , dofs(mesh)
  {
    GridGenerator::subdivided_hyper_cube(mesh, 6);
    dofs.distribute_dofs(fe);
    owned = dofs.locally_owned_dofs();
    DoFTools::extract_locally_relevant_dofs(dofs, relevant);
    pattern.reinit(relevant.size(), relevant.size(), relevant);
    DoFTools::make_sparsity_pattern(dofs, pattern);
    SparsityTools::distribute_sparsity_pattern(pattern, owned, MPI_COMM_WORLD, relevant);
  }

  auto parts() const { return std::tie(fe, dofs, owned, relevant, pattern); }

  parallel::distributed::Triangulation<2> mesh;
  FE_Q<2>                                 fe;
  DoFHandler<2>                           dofs;
  IndexSet                                owned, relevant;
  DynamicSparsityPattern                  pattern;
};
} // namespace

TEST(CellMatrixWriter, SameMatrixAsAffineConstraintsToTheBit)
{
  // Cells whose rows are owned by the other rank go through PETSc's stash. Each DoF in turn near
  // the middle (on the cut) and in a corner is constrained to zero; one cell matrix has a zero
  // diagonal there (AffineConstraints then puts the mean |A(j, j)| on it).
  const SplitSquare square;
  const auto &[fe, dofs, owned, relevant, pattern] = square.parts();

  const unsigned int                   n = fe.n_dofs_per_cell();
  std::vector<types::global_dof_index> cell_dofs, local(n);
  for (const auto &cell : dofs.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        cell->get_dof_indices(local);
        cell_dofs.insert(cell_dofs.end(), local.begin(), local.end());
      }
  const auto cell_matrix = [&](const std::size_t c, const types::global_dof_index zero_at) {
    FullMatrix<double> m(n, n);
    for (unsigned int i = 0; i < n; ++i)
      for (unsigned int j = 0; j < n; ++j)
        m(i, j) = std::sin(1.0 + cell_dofs[c * n + i] * 0.37 + cell_dofs[c * n + j] * 0.91) /
                  (1.0 + 0.1 * c);
    for (unsigned int i = 0; i < n; ++i)
      if (cell_dofs[c * n + i] == zero_at && c % 2 == 0)
        m(i, i) = 0;
    return m;
  };

  for (const bool keep : {true, false})
    for (const types::global_dof_index constrained :
         {types::global_dof_index(dofs.n_dofs() / 2), types::global_dof_index(0)})
      {
        SCOPED_TRACE("constrained DoF " + std::to_string(constrained) +
                     (keep ? ", positions kept" : ", positions found per cell"));
        AffineConstraints<double> constraints(relevant);
        if (relevant.is_element(constrained))
          constraints.add_line(constrained);
        constraints.close();
        PETScWrappers::MPI::SparseMatrix expected, written;
        expected.reinit(owned, owned, pattern, MPI_COMM_WORLD);
        written.reinit(owned, owned, pattern, MPI_COMM_WORLD);
        CellMatrixWriter         writer(written, cell_dofs, n, keep);
        CellMatrixWriter::Target target = writer.open(written);
        for (std::size_t c = 0; c < cell_dofs.size() / n; ++c)
          {
            const FullMatrix<double> m = cell_matrix(c, constrained);
            std::copy(cell_dofs.begin() + c * n, cell_dofs.begin() + (c + 1) * n, local.begin());
            constraints.distribute_local_to_global(m, local, expected);
            writer.add(target, c, m, constrained);
          }
        writer.close(target);
        expected.compress(VectorOperation::add);
        written.compress(VectorOperation::add);

        const double norm = expected.frobenius_norm();
        ASSERT_GT(norm, 1.0);
        // x - y == 0 exactly only where x == y.
        written.add(-1.0, expected);
        EXPECT_EQ(written.frobenius_norm(), 0.0);
        if (owned.is_element(constrained))
          {
            EXPECT_GT(expected.el(constrained, constrained), 0.0);
          }
      }
}

TEST(MatrixStructure, MatricesAsDealIIMakesThemAndTheirArraysLiveWithThem)
{
  // Two matrices made from one structure that is then destroyed, filled like one from
  // deal.II's reinit.
  const SplitSquare square;
  const auto &[fe, dofs, owned, relevant, pattern] = square.parts();

  PETScWrappers::MPI::SparseMatrix expected, first, second;
  expected.reinit(owned, owned, pattern, MPI_COMM_WORLD);
  {
    const MatrixStructure structure(pattern, owned, MPI_COMM_WORLD);
    structure.make_matrix(first);
    structure.make_matrix(second);
  }
  EXPECT_EQ(first.n_nonzero_elements(), expected.n_nonzero_elements());
  EXPECT_EQ(first.frobenius_norm(), 0.0);

  const unsigned int                   n = fe.n_dofs_per_cell();
  std::vector<types::global_dof_index> local(n);
  FullMatrix<double>                   m(n, n);
  for (const auto &cell : dofs.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        cell->get_dof_indices(local);
        for (unsigned int i = 0; i < n; ++i)
          for (unsigned int j = 0; j < n; ++j)
            m(i, j) = std::cos(0.3 + local[i] * 0.17 + local[j] * 0.53);
        expected.add(local, m);
        first.add(local, m);
      }
  expected.compress(VectorOperation::add);
  first.compress(VectorOperation::add);
  ASSERT_GT(expected.frobenius_norm(), 1.0);

  // A copy into the other matrix of the same structure, then the first one destroyed:
  // the second still holds the structure and multiplies as deal.II's matrix does.
  second.copy_from(first);
  first.clear();
  PETScWrappers::MPI::Vector x(owned, MPI_COMM_WORLD), y(x), z(x);
  for (const auto i : owned)
    x(i) = std::sin(1.0 + i);
  x.compress(VectorOperation::insert);
  expected.vmult(y, x);
  second.vmult(z, x);
  z -= y;
  EXPECT_EQ(z.l2_norm(), 0.0);
  second.add(-1.0, expected);
  EXPECT_EQ(second.frobenius_norm(), 0.0);
}
