#pragma once

#include <deal.II/base/point.h>

#include <cstddef>
#include <vector>

#include <mpi.h>

namespace densityflow
{
using namespace dealii;

/**
 * What the moments and the histogram need of the points of several ensembles, summed
 * over all ranks in one reduction: per ensemble the number of points, their total
 * weight, the weighted first and second moments and the weight in each histogram bin.
 */
template <int dim>
class EnsembleSums
{
public:
  EnsembleSums(const std::size_t n_ensembles, const unsigned int n_bins);

  /** Adds the point @p x with weight @p w to the moments of ensemble @p s. */
  void add_point(const std::size_t s, const Point<dim> &x, const double w)
  {
    double *sum = &sums[s * stride];
    sum[0] += 1;
    sum[1] += w;
    for (unsigned int i = 0; i < dim; ++i)
      {
        sum[2 + i] += w * x[i];
        for (unsigned int j = 0; j < dim; ++j)
          sum[2 + dim + i * dim + j] += w * x[i] * x[j];
      }
  }

  /** Adds the weight @p w to bin @p b of ensemble @p s. */
  void add_to_bin(const std::size_t s, const unsigned int b, const double w)
  {
    sums[s * stride + bin_offset + b] += w;
  }

  /** Sums everything over the ranks of @p communicator. Collective. */
  void sum_over(const MPI_Comm communicator);

  /** The number of points of ensemble @p s. */
  double count(const std::size_t s) const { return sums[s * stride]; }
  /** Their total weight. */
  double weight(const std::size_t s) const { return sums[s * stride + 1]; }
  /** sum w x_i. */
  double first(const std::size_t s, const unsigned int i) const { return sums[s * stride + 2 + i]; }
  /** sum w x_i x_j. */
  double second(const std::size_t s, const unsigned int i, const unsigned int j) const
  {
    return sums[s * stride + 2 + dim + i * dim + j];
  }
  /** The weight in bin @p b. */
  double bin(const std::size_t s, const unsigned int b) const
  {
    return sums[s * stride + bin_offset + b];
  }
  unsigned int n_bins() const { return bins; }

private:
  static constexpr unsigned int bin_offset = 2 + dim + dim * dim;
  unsigned int                  bins;
  std::size_t                   stride;
  std::vector<double>           sums;
};
} // namespace densityflow
