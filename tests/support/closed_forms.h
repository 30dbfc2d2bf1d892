#pragma once

#include <deal.II/base/point.h>
#include <deal.II/base/symmetric_tensor.h>
#include <deal.II/base/tensor.h>

namespace densityflow
{
using namespace dealii;

/** A Gaussian N(mean, covariance) in dim dimensions. */
template <int dim>
struct Gaussian
{
  Tensor<1, dim>          mean;
  SymmetricTensor<2, dim> covariance;

  double density(const Point<dim> &x) const;
};

/**
 * The Ornstein-Uhlenbeck solution: for V = (x - m)^T A (x - m) / 2 (A symmetric
 * positive definite) and rho0 = N(m0, S0), rho_t = N(m_t, S_t) with
 * m_t = m + e^{-At} (m0 - m) and S_t = e^{-At} S0 e^{-At} + eps A^{-1} (I - e^{-2At}).
 */
template <int dim>
Gaussian<dim> ornstein_uhlenbeck(const SymmetricTensor<2, dim> &A,
                                 const Tensor<1, dim>          &m,
                                 const double                   eps,
                                 const Gaussian<dim>           &initial,
                                 const double                   t);

/**
 * The Gaussian solution for any linear drift b = -B (x - m), B with eigenvalues of
 * positive real part (the non-reversible OU process has B = (I + J) A):
 * mean m + e^{-Bt} (m0 - m), covariance S_inf + e^{-Bt} (S0 - S_inf) e^{-B^T t}, where
 * B S_inf + S_inf B^T = 2 eps I (solved exactly as a linear system).
 */
template <int dim>
Gaussian<dim> linear_drift_gaussian(const Tensor<2, dim> &B,
                                    const Tensor<1, dim> &m,
                                    const double          eps,
                                    const Gaussian<dim>  &initial,
                                    const double          t);

/** e^{M} by scaling and squaring with a Taylor series (to round-off for small dim). */
template <int dim>
Tensor<2, dim> matrix_exponential(const Tensor<2, dim> &M);

/** e^{-A t} for a symmetric A. */
template <int dim>
SymmetricTensor<2, dim> symmetric_exponential(const SymmetricTensor<2, dim> &A, const double t);

/** The square root of a symmetric positive semi-definite matrix. */
template <int dim>
SymmetricTensor<2, dim> symmetric_sqrt(const SymmetricTensor<2, dim> &S);

/** KL(p | q) = 1/2 [tr(Sq^{-1} Sp) + (mq - mp)^T Sq^{-1} (mq - mp) - d + log(det Sq / det
 * Sp)]. */
template <int dim>
double kl_divergence(const Gaussian<dim> &p, const Gaussian<dim> &q);

/** W2(p, q) by the Bures formula. */
template <int dim>
double wasserstein2(const Gaussian<dim> &p, const Gaussian<dim> &q);

/** The energy distance 2 E|X-Y| - E|X-X'| - E|Y-Y'| of N(m1, s1^2) and N(m2, s2^2). */
double
energy_distance_gaussians_1d(const double m1, const double s1, const double m2, const double s2);
} // namespace densityflow
