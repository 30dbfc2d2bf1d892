// The IMEX-SSP3(4,3,3) tableau against the conditions for third order of an IMEX
// (partitioned) Runge-Kutta method with shared weights b: for each tableau, sum b = 1,
// b.c = 1/2, b.c^2 = 1/3, b.A c = 1/6; and the coupling conditions, the same with the
// other tableau's abscissae or matrix in the mixed places: b.(c c~) = 1/3, b.A c~ = 1/6,
// b.A~ c = 1/6. Also the implicit part's L-stability, R(inf) = 1 - b.A~^{-1} 1 = 0, and
// the explicit abscissae as the row sums. The solver tests (interaction_imex_test) see the
// order only as far as their step sizes resolve it (measured 2.5-2.7, tending to 3); an
// order-2 perturbation of the tableau (alpha 0.30, or eta + 0.01) passes them but not this.
#include <densityflow/solvers/transport/imex_tableau.h>

#include <gtest/gtest.h>

#include <array>
#include <cmath>

using namespace densityflow;

namespace
{
using Matrix = double[4][4];
using Vector = std::array<double, 4>;

/** The row sums of @p a: the abscissae of its stages. */
Vector row_sums(const Matrix &a)
{
  Vector c{};
  for (unsigned int i = 0; i < 4; ++i)
    for (unsigned int j = 0; j < 4; ++j)
      c[i] += a[i][j];
  return c;
}

/** sum_i b_i x_i y_i. */
double weighted(const Vector &x, const Vector &y)
{
  double sum = 0;
  for (unsigned int i = 0; i < 4; ++i)
    sum += imex_ssp3.b[i] * x[i] * y[i];
  return sum;
}

/** sum_ij b_i a_ij x_j. */
double weighted(const Matrix &a, const Vector &x)
{
  Vector ax{};
  for (unsigned int i = 0; i < 4; ++i)
    for (unsigned int j = 0; j < 4; ++j)
      ax[i] += a[i][j] * x[j];
  return weighted(ax, Vector{{1, 1, 1, 1}});
}

// The constants have 14 significant digits.
constexpr double tolerance = 1e-12;
} // namespace

TEST(ImexTableau, ExplicitAbscissaeAreTheRowSums)
{
  const Vector c = row_sums(imex_ssp3.explicit_a);
  for (unsigned int i = 0; i < 4; ++i)
    EXPECT_EQ(c[i], imex_ssp3.explicit_c[i]) << "stage " << i;
}

TEST(ImexTableau, ThirdOrderConditions)
{
  const Vector  one{{1, 1, 1, 1}};
  const Vector  c = row_sums(imex_ssp3.explicit_a), c_tilde = row_sums(imex_ssp3.implicit_a);
  const Matrix *A[2] = {&imex_ssp3.explicit_a, &imex_ssp3.implicit_a};
  const Vector *C[2] = {&c, &c_tilde};
  EXPECT_NEAR(weighted(one, one), 1, tolerance);
  for (unsigned int p = 0; p < 2; ++p)
    {
      EXPECT_NEAR(weighted(*C[p], one), 0.5, tolerance) << "tableau " << p;
      for (unsigned int q = 0; q < 2; ++q)
        {
          EXPECT_NEAR(weighted(*C[p], *C[q]), 1.0 / 3, tolerance) << "b.c c, tableaux " << p << q;
          EXPECT_NEAR(weighted(*A[p], *C[q]), 1.0 / 6, tolerance) << "b.A c, tableaux " << p << q;
        }
    }
}

TEST(ImexTableau, ImplicitPartIsLStable)
{
  // R(z) = 1 + z b.(I - z A~)^{-1} 1 -> 1 - b.A~^{-1} 1 as z -> infinity; A~ is lower
  // triangular, so A~^{-1} 1 by forward substitution.
  const auto &a = imex_ssp3.implicit_a;
  Vector      y{};
  for (unsigned int i = 0; i < 4; ++i)
    {
      double rhs = 1;
      for (unsigned int j = 0; j < i; ++j)
        rhs -= a[i][j] * y[j];
      y[i] = rhs / a[i][i];
    }
  EXPECT_NEAR(1 - weighted(y, Vector{{1, 1, 1, 1}}), 0, 1e-10);
}
