#include <densityflow/base/compensated_sum.h>

#include <deal.II/base/mpi.h>

#include <petscvec.h>

#include <cmath>

namespace densityflow
{
namespace
{
/** Neumaier's summation of x[i] * (y ? y[i] : 1) over the local entries. */
double local_sum(const Vec x, const Vec y)
{
  const PetscScalar *a, *b = nullptr;
  PetscInt           n;
  VecGetLocalSize(x, &n);
  VecGetArrayRead(x, &a);
  if (y != nullptr)
    VecGetArrayRead(y, &b);
  CompensatedSum sum;
  for (PetscInt i = 0; i < n; ++i)
    sum.add(b != nullptr ? a[i] * b[i] : a[i]);
  VecRestoreArrayRead(x, &a);
  if (y != nullptr)
    VecRestoreArrayRead(y, &b);
  return sum.value();
}
} // namespace

double compensated_sum(const dealii::PETScWrappers::MPI::Vector &vector)
{
  // Ranks are few: their partial sums add without noticeable error.
  return dealii::Utilities::MPI::sum(local_sum(static_cast<const Vec &>(vector), nullptr),
                                     vector.get_mpi_communicator());
}

double compensated_dot(const dealii::PETScWrappers::MPI::Vector &a,
                       const dealii::PETScWrappers::MPI::Vector &b)
{
  return dealii::Utilities::MPI::sum(
      local_sum(static_cast<const Vec &>(a), static_cast<const Vec &>(b)),
      a.get_mpi_communicator());
}
} // namespace densityflow
