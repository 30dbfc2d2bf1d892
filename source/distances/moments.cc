#include <densityflow/distances/moments.h>

#include <algorithm>
#include <cmath>

namespace densityflow
{
template <int dim>
MomentErrors moment_errors(const EnsembleSums<dim>       &sums,
                           const std::size_t              s,
                           const Tensor<1, dim>          &mean,
                           const SymmetricTensor<2, dim> &covariance)
{
  const double W          = sums.weight(s);
  double       mean_error = 0, covariance_error = 0;
  for (unsigned int i = 0; i < dim; ++i)
    {
      const double mi = sums.first(s, i) / W;
      mean_error += (mi - mean[i]) * (mi - mean[i]);
      for (unsigned int j = 0; j < dim; ++j)
        {
          const double c = sums.second(s, i, j) / W - mi * sums.first(s, j) / W - covariance[i][j];
          covariance_error += c * c;
        }
    }
  return {std::sqrt(mean_error), std::sqrt(covariance_error)};
}

template <int dim>
DistanceFloor mean_error_floor(const SymmetricTensor<2, dim> &covariance, const double n)
{
  const auto          lambda = eigenvalues(covariance);
  std::vector<double> variances;
  double              trace = 0;
  for (unsigned int d = 0; d < dim; ++d)
    {
      variances.push_back(std::max(lambda[d], 0.0) / n);
      trace += variances.back();
    }
  DistanceFloor floor;
  floor.value  = expected_gaussian_norm(variances);
  floor.spread = std::sqrt(std::max(trace - floor.value * floor.value, 0.0));
  return floor;
}

double expected_gaussian_norm(const std::vector<double> &variances)
{
  double largest = 0;
  for (const double v : variances)
    largest = std::max(largest, v);
  if (!(largest > 0))
    return 0;
  // t = e^s / largest: the integrand decays like e^(s/2) and e^(-s/2) at the two ends,
  // so the trapezoidal rule in s converges geometrically.
  const double h   = 0.02;
  double       sum = 0;
  for (double s = -60; s <= 60; s += h)
    {
      // 1 - E exp(-t Q) = 1 - prod (1 + 2 t v)^(-1/2), without cancellation at small t
      // (where it is divided by sqrt(t)).
      const double t           = std::exp(s) / largest;
      double       log_laplace = 0;
      for (const double v : variances)
        log_laplace -= 0.5 * std::log1p(2 * t * v);
      sum += -std::expm1(log_laplace) / std::sqrt(t);
    }
  return sum * h / (2 * std::sqrt(M_PI));
}

template MomentErrors  moment_errors(const EnsembleSums<1> &,
                                     const std::size_t,
                                     const Tensor<1, 1> &,
                                     const SymmetricTensor<2, 1> &);
template MomentErrors  moment_errors(const EnsembleSums<2> &,
                                     const std::size_t,
                                     const Tensor<1, 2> &,
                                     const SymmetricTensor<2, 2> &);
template MomentErrors  moment_errors(const EnsembleSums<3> &,
                                     const std::size_t,
                                     const Tensor<1, 3> &,
                                     const SymmetricTensor<2, 3> &);
template DistanceFloor mean_error_floor(const SymmetricTensor<2, 1> &, const double);
template DistanceFloor mean_error_floor(const SymmetricTensor<2, 2> &, const double);
template DistanceFloor mean_error_floor(const SymmetricTensor<2, 3> &, const double);
} // namespace densityflow
