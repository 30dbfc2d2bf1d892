#pragma once

#include <densityflow/distances/ensemble_distances.h>
#include <densityflow/distances/ensemble_sums.h>

#include <deal.II/base/symmetric_tensor.h>
#include <deal.II/base/tensor.h>

#include <cstddef>
#include <vector>

namespace densityflow
{
using namespace dealii;

/** How far an ensemble's mean and covariance are from rho_h's. */
struct MomentErrors
{
  /** |mean_points - mean_rho| (Euclidean). */
  double mean_error = EnsembleDistances::undefined;
  /** ||cov_points - cov_rho||_F. */
  double covariance_error = EnsembleDistances::undefined;
};

/** The moment errors of ensemble @p s of @p sums (of positive total weight). */
template <int dim>
MomentErrors moment_errors(const EnsembleSums<dim>       &sums,
                           const std::size_t              s,
                           const Tensor<1, dim>          &mean,
                           const SymmetricTensor<2, dim> &covariance);

/**
 * The noise floor of the mean error for @p n points of a law of covariance
 * @p covariance: the sample mean's error is N(0, Sigma / n) (the central limit
 * theorem), whose norm has the mean E|W| and the spread sqrt(tr Sigma / n - E|W|^2)
 * (E|W|^2 = tr Sigma / n exactly).
 */
template <int dim>
DistanceFloor mean_error_floor(const SymmetricTensor<2, dim> &covariance, const double n);

/**
 * E|W| for W ~ N(0, diag(@p variances)), by a one-dimensional integral:
 * E sqrt(Q) = 1/(2 sqrt(pi)) int_0^inf (1 - E exp(-t Q)) t^(-3/2) dt.
 */
double expected_gaussian_norm(const std::vector<double> &variances);
} // namespace densityflow
