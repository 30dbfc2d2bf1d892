#include <densityflow/solvers/petsc_check.h>
#include <densityflow/solvers/solution_projection.h>

#include <petscmat.h>
#include <petscvec.h>

#include <cmath>

namespace densityflow
{
namespace
{
/** Whether @p x has the size and the parallel layout of @p model. */
bool same_layout(const PETScWrappers::MPI::Vector &x, const PETScWrappers::MPI::Vector &model)
{
  return x.size() == model.size() && x.local_range() == model.local_range();
}

/** The raw Vecs of x_1..x_k, for PETSc's multi-vector operations (one sweep over the
 * shared operand instead of k). */
std::vector<Vec> raw(std::vector<PETScWrappers::MPI::Vector> &vectors, const unsigned int k)
{
  std::vector<Vec> result(k);
  for (unsigned int i = 0; i < k; ++i)
    result[i] = static_cast<Vec>(vectors[i]);
  return result;
}
} // namespace

SolutionProjection::SolutionProjection(const unsigned int capacity)
    : capacity(capacity)
{}

void SolutionProjection::reset()
{
  // The vectors stay allocated; add() lays them out again if the mesh has changed.
  k       = 0;
  guessed = false;
}

unsigned int SolutionProjection::size() const
{
  return k;
}

bool SolutionProjection::ready() const
{
  return k >= 2;
}

void SolutionProjection::guess(const PETScWrappers::MPI::Vector &rhs,
                               PETScWrappers::MPI::Vector       &x)
{
  // x = sum_i (x_i . b) x_i: the component of A^{-1} b along x_i in the A inner product is
  // x_i^T A A^{-1} b.
  std::vector<Vec>         X = raw(vectors, k);
  std::vector<PetscScalar> coefficients(k);
  DENSITYFLOW_PETSC(VecMDot(static_cast<Vec>(rhs), k, X.data(), coefficients.data()));
  x = 0;
  DENSITYFLOW_PETSC(VecMAXPY(static_cast<Vec>(x), k, coefficients.data(), X.data()));
  if (!same_layout(last_guess, x))
    last_guess.reinit(x);
  last_guess = x;
  guessed    = true;
}

void SolutionProjection::add(const PETScWrappers::MPI::Vector       &solution,
                             const PETScWrappers::MPI::SparseMatrix &A)
{
  if (capacity == 0)
    return;
  if (vectors.size() < capacity)
    vectors.resize(capacity);
  if (k >= capacity)
    k = 0; // full: start again from the newest solution
  PETScWrappers::MPI::Vector &w = vectors[k];
  if (!same_layout(w, solution))
    w.reinit(solution);
  if (!same_layout(product, solution))
    product.reinit(solution);
  // What the solve added to a guess from the span is (nearly) A-orthogonal to it already:
  // orthogonalising that difference rather than the solution loses no digits.
  w = solution;
  if (guessed && k > 0)
    w -= last_guess;
  guessed = false;
  double initial = 0, norm2 = 0, size = 0;
  // Classical Gram-Schmidt in the A inner product. Where it removes more than half of
  // w's A-norm squared (a solution not guessed from the span), norm2 = w.Aw - sum c_i^2
  // has cancelled digits, and a second pass restores orthonormality ("twice is enough").
  for (unsigned int pass = 0; pass < 2; ++pass)
    {
      A.vmult(product, w);
      initial = w * product;
      norm2   = initial;
      if (pass == 0)
        size = initial;
      if (k > 0)
        {
          std::vector<Vec>         X = raw(vectors, k);
          std::vector<PetscScalar> c(k);
          DENSITYFLOW_PETSC(VecMDot(static_cast<Vec>(product), k, X.data(), c.data()));
          for (PetscScalar &ci : c)
            {
              norm2 -= ci * ci;
              ci = -ci;
            }
          DENSITYFLOW_PETSC(VecMAXPY(static_cast<Vec>(w), k, c.data(), X.data()));
        }
      if (k == 0 || norm2 > 0.5 * initial)
        break;
    }
  // A direction the span holds already (to 1e-10 in the A-norm) adds nothing.
  if (!(norm2 > 1e-20 * size))
    return;
  w /= std::sqrt(norm2);
  ++k;
}

std::vector<const PETScWrappers::MPI::Vector *> SolutionProjection::basis() const
{
  std::vector<const PETScWrappers::MPI::Vector *> result;
  for (unsigned int i = 0; i < k; ++i)
    result.push_back(&vectors[i]);
  return result;
}

std::vector<PETScWrappers::MPI::Vector *>
SolutionProjection::resize_for_restart(const unsigned int k, const PETScWrappers::MPI::Vector &model)
{
  reset();
  vectors.resize(std::max(k, capacity));
  std::vector<PETScWrappers::MPI::Vector *> result;
  for (unsigned int i = 0; i < k; ++i)
    {
      vectors[i].reinit(model);
      result.push_back(&vectors[i]);
    }
  this->k = k;
  return result;
}
} // namespace densityflow
