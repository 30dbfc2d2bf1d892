// The closed forms the tests rely on, checked against their defining properties.
#include <gtest/gtest.h>

#include <support/closed_forms.h>

using namespace densityflow;

TEST(ClosedForms, OrnsteinUhlenbeckSolvesTheMomentEquations)
{
  // m' = -A (m - mu), S' = -A S - S A + 2 eps I, checked by central differences in t.
  SymmetricTensor<2, 2> A;
  A[0][0] = 1.5;
  A[1][1] = 1.5;
  A[0][1] = 0.5;
  Tensor<1, 2> mu;
  mu[0] = 0.3;
  Gaussian<2> initial;
  initial.mean[0]          = 1;
  initial.mean[1]          = -0.5;
  initial.covariance[0][0] = 0.2;
  initial.covariance[1][1] = 0.05;
  initial.covariance[0][1] = 0.03;
  const double       eps = 0.7, t = 0.4, h = 1e-5;
  const auto         g = [&](const double s) { return ornstein_uhlenbeck(A, mu, eps, initial, s); };
  const Gaussian<2>  now = g(t);
  const Tensor<1, 2> dm  = (g(t + h).mean - g(t - h).mean) / (2 * h);
  const Tensor<2, 2> dS =
      (Tensor<2, 2>(g(t + h).covariance) - Tensor<2, 2>(g(t - h).covariance)) / (2 * h);
  const Tensor<1, 2> m_rhs = -(A * (now.mean - mu));
  const Tensor<2, 2> S_rhs = -Tensor<2, 2>(A) * Tensor<2, 2>(now.covariance) -
                             Tensor<2, 2>(now.covariance) * Tensor<2, 2>(A) +
                             2 * eps * unit_symmetric_tensor<2>();
  EXPECT_LT((dm - m_rhs).norm(), 1e-8);
  EXPECT_LT((dS - S_rhs).norm(), 1e-8);
  EXPECT_LT((Tensor<1, 2>(g(0).mean) - initial.mean).norm(), 1e-15);
}

TEST(ClosedForms, KullbackLeibler)
{
  Gaussian<1> p, q;
  p.mean[0]          = 0.3;
  p.covariance[0][0] = 2.0;
  q.mean[0]          = -0.2;
  q.covariance[0][0] = 0.5;
  // 1D: log(sq/sp) + (sp^2 + (mp - mq)^2) / (2 sq^2) - 1/2 with variances 2 and 0.5.
  const double expected = std::log(std::sqrt(0.5 / 2.0)) + (2.0 + 0.25) / (2 * 0.5) - 0.5;
  EXPECT_NEAR(kl_divergence(p, q), expected, 1e-14);
  EXPECT_NEAR(kl_divergence(p, p), 0.0, 1e-15);
}

TEST(ClosedForms, WassersteinBures)
{
  Gaussian<1> p, q;
  p.mean[0]          = 1.0;
  p.covariance[0][0] = 4.0;
  q.mean[0]          = -1.0;
  q.covariance[0][0] = 1.0;
  EXPECT_NEAR(wasserstein2(p, q), std::sqrt(4.0 + 1.0), 1e-14); // (m1-m2)^2 + (s1-s2)^2
  Gaussian<2> a, b;
  a.covariance = unit_symmetric_tensor<2>();
  b.covariance = 4.0 * unit_symmetric_tensor<2>();
  EXPECT_NEAR(wasserstein2(a, b), std::sqrt(2.0), 1e-14);
}

TEST(ClosedForms, EnergyDistanceOfTwoGaussians)
{
  // The example of the verification notes (Monte Carlo with 4e6 samples: 0.43040).
  EXPECT_NEAR(energy_distance_gaussians_1d(0.3, 1.2, -0.5, 0.7), 0.430734, 1e-6);
  EXPECT_NEAR(energy_distance_gaussians_1d(0.1, 0.8, 0.1, 0.8), 0.0, 1e-15);
}
