#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/vector.h>

#include <cmath>

#include <support/closed_forms.h>

namespace densityflow
{
template <int dim>
double Gaussian<dim>::density(const Point<dim> &x) const
{
  const SymmetricTensor<2, dim> inverse = invert(covariance);
  const Tensor<1, dim>          d       = x - Point<dim>(mean);
  return std::exp(-0.5 * (d * (inverse * d))) /
         std::sqrt(std::pow(2 * M_PI, dim) * determinant(covariance));
}

namespace
{
/** f(S) for a symmetric S through its eigendecomposition. */
template <int dim, typename F>
SymmetricTensor<2, dim> spectral(const SymmetricTensor<2, dim> &S, const F &f)
{
  const auto              eigen = eigenvectors(S);
  SymmetricTensor<2, dim> result;
  for (const auto &[lambda, v] : eigen)
    result += f(lambda) * symmetrize(outer_product(v, v));
  return result;
}
} // namespace

template <int dim>
SymmetricTensor<2, dim> symmetric_exponential(const SymmetricTensor<2, dim> &A, const double t)
{
  return spectral(A, [t](const double lambda) { return std::exp(-lambda * t); });
}

template <int dim>
SymmetricTensor<2, dim> symmetric_sqrt(const SymmetricTensor<2, dim> &S)
{
  return spectral(S, [](const double lambda) { return std::sqrt(std::max(lambda, 0.0)); });
}

template <int dim>
Gaussian<dim> ornstein_uhlenbeck(const SymmetricTensor<2, dim> &A,
                                 const Tensor<1, dim>          &m,
                                 const double                   eps,
                                 const Gaussian<dim>           &initial,
                                 const double                   t)
{
  const SymmetricTensor<2, dim> E = symmetric_exponential(A, t);
  Gaussian<dim>                 result;
  result.mean = m + E * (initial.mean - m);
  // e^{-At} S0 e^{-At} is symmetric; symmetrize() removes the round-off asymmetry.
  const Tensor<2, dim> propagated =
      Tensor<2, dim>(E) * Tensor<2, dim>(initial.covariance) * Tensor<2, dim>(E);
  // A^{-1} and e^{-2At} commute, so their product is symmetric.
  const Tensor<2, dim> relaxed =
      Tensor<2, dim>(invert(A)) *
      Tensor<2, dim>(unit_symmetric_tensor<dim>() - symmetric_exponential(A, 2 * t));
  result.covariance = symmetrize(propagated) + eps * symmetrize(relaxed);
  return result;
}

template <int dim>
double kl_divergence(const Gaussian<dim> &p, const Gaussian<dim> &q)
{
  const SymmetricTensor<2, dim> q_inverse = invert(q.covariance);
  const Tensor<1, dim>          d         = q.mean - p.mean;
  return 0.5 *
         (trace(Tensor<2, dim>(q_inverse) * Tensor<2, dim>(p.covariance)) + d * (q_inverse * d) -
          dim + std::log(determinant(q.covariance) / determinant(p.covariance)));
}

template <int dim>
double wasserstein2(const Gaussian<dim> &p, const Gaussian<dim> &q)
{
  const SymmetricTensor<2, dim> root = symmetric_sqrt(q.covariance);
  const Tensor<2, dim>          inner =
      Tensor<2, dim>(root) * Tensor<2, dim>(p.covariance) * Tensor<2, dim>(root);
  const double squared = (p.mean - q.mean).norm_square() + trace(p.covariance) +
                         trace(q.covariance) - 2 * trace(symmetric_sqrt(symmetrize(inner)));
  return std::sqrt(std::max(squared, 0.0));
}

template <int dim>
Tensor<2, dim> matrix_exponential(const Tensor<2, dim> &M)
{
  // Scale until |M| / 2^s < 1/2, sum 20 Taylor terms (error below 1e-20), square back.
  const double   norm    = M.norm();
  const int      squares = norm > 0.5 ? static_cast<int>(std::ceil(std::log2(norm / 0.5))) : 0;
  Tensor<2, dim> scaled  = M / std::pow(2.0, squares);
  Tensor<2, dim> result = unit_symmetric_tensor<dim>(), term = unit_symmetric_tensor<dim>();
  for (unsigned int k = 1; k <= 20; ++k)
    {
      term   = term * scaled / double(k);
      result = result + term;
    }
  for (int s = 0; s < squares; ++s)
    result = result * result;
  return result;
}

template <int dim>
Gaussian<dim> linear_drift_gaussian(const Tensor<2, dim> &B,
                                    const Tensor<1, dim> &m,
                                    const double          eps,
                                    const Gaussian<dim>  &initial,
                                    const double          t)
{
  // B S + S B^T = 2 eps I for the symmetric S: one equation per (i, j), i <= j.
  constexpr unsigned int n = dim * (dim + 1) / 2;
  FullMatrix<double>     lyapunov(n, n);
  Vector<double>         rhs(n), unknowns(n);
  const auto             index = [](unsigned int i, unsigned int j) {
    if (i > j)
      std::swap(i, j);
    return i * dim - i * (i - 1) / 2 + (j - i);
  };
  for (unsigned int i = 0; i < dim; ++i)
    for (unsigned int j = i; j < dim; ++j)
      {
        const unsigned int row = index(i, j);
        for (unsigned int k = 0; k < dim; ++k)
          {
            lyapunov(row, index(k, j)) += B[i][k]; // (B S)_ij
            lyapunov(row, index(i, k)) += B[j][k]; // (S B^T)_ij
          }
        rhs(row) = i == j ? 2 * eps : 0;
      }
  lyapunov.gauss_jordan();
  lyapunov.vmult(unknowns, rhs);
  SymmetricTensor<2, dim> stationary;
  for (unsigned int i = 0; i < dim; ++i)
    for (unsigned int j = i; j < dim; ++j)
      stationary[i][j] = unknowns(index(i, j));

  const Tensor<2, dim> E = matrix_exponential(Tensor<2, dim>(-t * B));
  Gaussian<dim>        result;
  result.mean = m + E * (initial.mean - m);
  result.covariance =
      stationary + symmetrize(E * Tensor<2, dim>(initial.covariance - stationary) * transpose(E));
  return result;
}

double
energy_distance_gaussians_1d(const double m1, const double s1, const double m2, const double s2)
{
  // E|X - Y| for X - Y ~ N(delta, s^2); E|X - X'| = 2 s1 / sqrt(pi).
  const auto mean_abs = [](const double delta, const double s) {
    return s * std::sqrt(2 / M_PI) * std::exp(-delta * delta / (2 * s * s)) +
           delta * (1 - 2 * 0.5 * std::erfc(delta / (s * std::sqrt(2.0))));
  };
  const double s = std::sqrt(s1 * s1 + s2 * s2);
  return 2 * mean_abs(m1 - m2, s) - 2 * s1 / std::sqrt(M_PI) - 2 * s2 / std::sqrt(M_PI);
}

#define DENSITYFLOW_INSTANTIATE(dim)                                                               \
  template Tensor<2, dim> matrix_exponential(const Tensor<2, dim> &);                              \
  template Gaussian<dim>  linear_drift_gaussian(                                                   \
       const Tensor<2, dim> &, const Tensor<1, dim> &, double, const Gaussian<dim> &, double);     \
  template struct Gaussian<dim>;                                                                   \
  template Gaussian<dim>           ornstein_uhlenbeck(const SymmetricTensor<2, dim> &,             \
                                                      const Tensor<1, dim> &,                      \
                                                      double,                                      \
                                                      const Gaussian<dim> &,                       \
                                                      double);                                     \
  template SymmetricTensor<2, dim> symmetric_exponential(const SymmetricTensor<2, dim> &, double); \
  template SymmetricTensor<2, dim> symmetric_sqrt(const SymmetricTensor<2, dim> &);                \
  template double                  kl_divergence(const Gaussian<dim> &, const Gaussian<dim> &);    \
  template double                  wasserstein2(const Gaussian<dim> &, const Gaussian<dim> &);
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
} // namespace densityflow
