#pragma once

#include <densityflow/distances/ensemble_distances.h>
#include <densityflow/distances/ensemble_sums.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace densityflow
{
/** The histogram total variation of an ensemble against rho_h. */
struct HistogramDistance
{
  /** 1/2 sum_B |n_B / N - p_B| over the bins B (weights n_B, rho_h's mass p_B). */
  double total_variation = EnsembleDistances::undefined;
  /** The number of bins. */
  std::uint64_t bins = 0;
};

/**
 * The histogram TV of ensemble @p s of @p sums (of positive total weight) against the
 * bin probabilities @p bin_probability of rho_h (as many as sums has bins).
 */
template <int dim>
HistogramDistance histogram_total_variation(const EnsembleSums<dim>   &sums,
                                            const std::size_t          s,
                                            const std::vector<double> &bin_probability);

/**
 * The mean histogram TV of an exact sample of @p N points over bins of probabilities
 * @p bin_probability: each bin's count is Binomial(N, p_B), whose mean absolute
 * deviation is known exactly.
 */
double histogram_tv_floor(const std::vector<double> &bin_probability, const std::uint64_t N);

/**
 * E|n / N - p| for n ~ Binomial(N, p), exactly (de Moivre):
 * 2 nu C(N, nu) p^nu (1 - p)^(N - nu + 1) / N with nu = floor(N p) + 1.
 */
double binomial_mean_absolute_deviation(const std::uint64_t N, const double p);
} // namespace densityflow
