#pragma once

#include <densityflow/solvers/petsc_check.h>

#include <petscvec.h>

#include <cstddef>

namespace densityflow
{
/**
 * Read access to the locally owned entries of a PETSc vector as one array, for loops over
 * all owned entries: a deal.II vector's element access calls into PETSc per value, which
 * costs more than the loop's arithmetic. Index 0 is the first owned entry. The array is
 * returned to PETSc when the object goes.
 */
class ReadArray
{
public:
  /** @p vector: a PETSc Vec, or a deal.II PETSc vector (converts to its Vec). */
  explicit ReadArray(const Vec vector)
    : vector(vector)
  {
    DENSITYFLOW_PETSC(VecGetArrayRead(vector, &values));
  }

  ~ReadArray() { VecRestoreArrayRead(vector, &values); }

  ReadArray(const ReadArray &)            = delete;
  ReadArray &operator=(const ReadArray &) = delete;

  double operator[](const std::size_t k) const { return values[k]; }

  const double *data() const { return values; }

private:
  Vec                vector;
  const PetscScalar *values = nullptr;
};

/** Read and write access to the locally owned entries of a PETSc vector (see ReadArray). */
class WriteArray
{
public:
  explicit WriteArray(const Vec vector)
    : vector(vector)
  {
    DENSITYFLOW_PETSC(VecGetArray(vector, &values));
  }

  ~WriteArray() { VecRestoreArray(vector, &values); }

  WriteArray(const WriteArray &)            = delete;
  WriteArray &operator=(const WriteArray &) = delete;

  double &operator[](const std::size_t k) { return values[k]; }

  double *data() { return values; }

private:
  Vec          vector;
  PetscScalar *values = nullptr;
};
} // namespace densityflow
