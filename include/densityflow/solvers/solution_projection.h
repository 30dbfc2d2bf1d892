#pragma once

#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>

#include <vector>

namespace densityflow
{
using namespace dealii;

/**
 * Initial guesses for a sequence of solves A x = b with one matrix A and slowly changing
 * right-hand sides (the steps of an implicit scheme), after P. F. Fischer, "Projection
 * techniques for iterative solution of Ax = b with successive right-hand sides", Comput.
 * Methods Appl. Mech. Engrg. 163 (1998).
 *
 * It keeps an A-orthonormal basis x_1..x_k of the span of up to `capacity` earlier
 * solutions. The guess is the A-orthogonal projection of the unknown A^{-1} b onto that
 * span, sum_i (x_i . b) x_i: the best guess in the energy norm that the earlier solutions
 * offer (it contains every extrapolation from them), and it needs no product with A.
 * After a solve, add() orthonormalises what the new solution adds to the span (one
 * product with A); a full basis starts again from the newest solution.
 *
 * A must be symmetric positive definite and the same for all solves between two reset()s:
 * the owner calls reset() whenever A changes.
 */
class SolutionProjection
{
public:
  /** Up to @p capacity vectors; 0 switches the projection off (ready() is never true). */
  explicit SolutionProjection(const unsigned int capacity);

  /** Forgets the basis (A has changed; the memory stays for the next one). */
  void reset();

  /** The number of basis vectors. */
  unsigned int size() const;

  /**
   * Whether guess() should replace the caller's own guess: once the basis holds two
   * solutions, its span contains the linear extrapolation from them.
   */
  bool ready() const;

  /** Sets @p x to the projection of A^{-1} @p rhs onto the basis (requires ready()). */
  void guess(const PETScWrappers::MPI::Vector &rhs, PETScWrappers::MPI::Vector &x);

  /**
   * Adds what @p solution (of the system whose guess came from guess(), if it did) adds
   * to the span, A-orthonormalised with one product with @p A.
   */
  void add(const PETScWrappers::MPI::Vector &solution, const PETScWrappers::MPI::SparseMatrix &A);

  /** The basis vectors, for a checkpoint. */
  std::vector<const PETScWrappers::MPI::Vector *> basis() const;

  /**
   * Makes @p k basis vectors laid out like @p model and returns them, for a restart to
   * read a checkpoint's basis into (written from basis(), with the same A).
   */
  std::vector<PETScWrappers::MPI::Vector *> resize_for_restart(const unsigned int                k,
                                                                const PETScWrappers::MPI::Vector &model);

private:
  unsigned int capacity;
  /** x_1..x_k (only the first k are in use). */
  std::vector<PETScWrappers::MPI::Vector> vectors;
  unsigned int                            k = 0;
  /** The last guess, while the solve that started from it runs (guessed). */
  PETScWrappers::MPI::Vector last_guess;
  bool                       guessed = false;
  /** A w of add(). */
  PETScWrappers::MPI::Vector product;
};
} // namespace densityflow
