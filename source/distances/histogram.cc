#include <densityflow/distances/histogram.h>

#include <algorithm>
#include <cmath>

namespace densityflow
{
template <int dim>
HistogramDistance histogram_total_variation(const EnsembleSums<dim>   &sums,
                                            const std::size_t          s,
                                            const std::vector<double> &bin_probability)
{
  const double W  = sums.weight(s);
  double       tv = 0;
  for (unsigned int b = 0; b < sums.n_bins(); ++b)
    tv += std::abs(sums.bin(s, b) / W - bin_probability[b]);
  HistogramDistance histogram;
  histogram.total_variation = 0.5 * tv;
  histogram.bins            = sums.n_bins();
  return histogram;
}

double histogram_tv_floor(const std::vector<double> &bin_probability, const std::uint64_t N)
{
  double tv = 0;
  for (const double p : bin_probability)
    tv += binomial_mean_absolute_deviation(N, std::clamp(p, 0.0, 1.0));
  return 0.5 * tv;
}

double binomial_mean_absolute_deviation(const std::uint64_t N, const double p)
{
  if (N == 0 || !(p > 0) || !(p < 1))
    return 0;
  const double nu = std::floor(N * p) + 1;
  if (nu > N)
    return 0;
  const double log_term = std::log(2 * nu) + std::lgamma(N + 1.0) - std::lgamma(nu + 1) -
                          std::lgamma(N - nu + 1) + nu * std::log(p) +
                          (N - nu + 1) * std::log1p(-p);
  return std::exp(log_term) / N;
}

template HistogramDistance
histogram_total_variation(const EnsembleSums<1> &, const std::size_t, const std::vector<double> &);
template HistogramDistance
histogram_total_variation(const EnsembleSums<2> &, const std::size_t, const std::vector<double> &);
template HistogramDistance
histogram_total_variation(const EnsembleSums<3> &, const std::size_t, const std::vector<double> &);
} // namespace densityflow
