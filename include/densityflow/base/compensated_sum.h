#pragma once

#include <deal.II/lac/petsc_vector.h>

#include <cmath>

namespace densityflow
{
/**
 * Neumaier's compensated sum of many terms that may differ by orders of magnitude
 * (partition functions, moments, a likelihood's rows, a vector's entries).
 */
class CompensatedSum
{
public:
  void add(const double x)
  {
    const double t = sum + x;
    compensation += std::abs(sum) >= std::abs(x) ? (sum - t) + x : (x - t) + sum;
    sum = t;
  }
  double value() const { return sum + compensation; }

private:
  double sum = 0, compensation = 0;
};

/**
 * The sum of all entries of a distributed vector, with Neumaier's compensated
 * summation on each rank: mass is a sum of such sums, and conserving it to 1e-12
 * over thousands of steps needs more than naive summation gives.
 */
double compensated_sum(const dealii::PETScWrappers::MPI::Vector &vector);

/** The dot product of two distributed vectors, compensated in the same way. */
double compensated_dot(const dealii::PETScWrappers::MPI::Vector &a,
                       const dealii::PETScWrappers::MPI::Vector &b);
} // namespace densityflow
