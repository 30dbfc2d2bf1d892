// The factorised Fokker-Planck weights against the direct ones: the scaled mass, stiffness
// and lumped mass of every cell, Q1-Q3 in 1D-3D, for a mild V, a steep V (factors up to
// e^{+-290}), V with a large offset (which only the per-cell shift keeps in range) and a cell
// too steep for the factors (the direct formula, bit for bit).
#include <densityflow/solvers/fokker_planck/weighted_cell_matrices.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/fe/mapping_q.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/tria.h>

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>

using namespace densityflow;

namespace
{
struct Potential
{
  std::string                                   name;
  std::function<double(const double *, double)> value; // (x, dim) -> V
  double                                        eps;
  /** Whether every cell must take the factorised weights (else every cell the direct). */
  bool factorised;
};

/** The largest |V|/eps over the points of a cell, for the round-off of the exponents. */
double max_exponent(const std::vector<double> &V_q, const std::vector<double> &V, double eps)
{
  double m = 0;
  for (const double v : V_q)
    m = std::max(m, std::abs(v) / eps);
  for (const double v : V)
    m = std::max(m, std::abs(v) / eps);
  return m;
}

/** The largest difference seen, as a fraction of its tolerance (printed). */
double worst = 0;

template <int dim>
void compare_on_mesh(const unsigned int degree, const Potential &potential)
{
  Triangulation<dim> triangulation;
  GridGenerator::hyper_cube(triangulation, -1, 1);
  triangulation.refine_global(1);
  const FE_Q<dim> fe(degree);
  DoFHandler<dim> dof_handler(triangulation);
  dof_handler.distribute_dofs(fe);
  const MappingQ<dim>   mapping(1);
  const QGauss<dim>     quadrature(degree + 2);
  const Quadrature<dim> support(fe.get_unit_support_points());
  FEValues<dim>         fe_values(mapping,
                          fe,
                          quadrature,
                          update_values | update_gradients | update_JxW_values |
                              update_quadrature_points);
  FEValues<dim>         support_values(mapping, fe, support, update_quadrature_points);
  const unsigned int    n_q = quadrature.size(), n = fe.n_dofs_per_cell();
  const double          eps  = potential.eps;
  const auto            V_of = [&](const Point<dim> &p) { return potential.value(&p[0], dim); };

  for (const bool consistent_mass : {true, false})
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        support_values.reinit(cell);
        std::vector<double> V_q(n_q), V(n);
        for (unsigned int q = 0; q < n_q; ++q)
          V_q[q] = V_of(fe_values.quadrature_point(q));
        for (unsigned int i = 0; i < n; ++i)
          V[i] = V_of(support_values.quadrature_point(i));

        WeightedCellMatrices direct, factorised;
        weighted_cell_matrices(fe_values,
                               V_q.data(),
                               V,
                               eps,
                               consistent_mass,
                               degree == 1,
                               WeightEvaluation::direct,
                               direct);
        weighted_cell_matrices(fe_values,
                               V_q.data(),
                               V,
                               eps,
                               consistent_mass,
                               degree == 1,
                               WeightEvaluation::factorised,
                               factorised);
        const std::string where = potential.name + ", " + std::to_string(dim) + "D Q" +
                                  std::to_string(degree) +
                                  (consistent_mass ? ", consistent" : ", lumped");
        ASSERT_EQ(factorised.direct_fallback, !potential.factorised) << where;

        // Round-off: a few units per exponential (whose argument is off by |V|/eps units)
        // and one per term of the sum over the quadrature points.
        const double tolerance = 4 * DBL_EPSILON * (n_q + max_exponent(V_q, V, eps));
        const auto   check     = [&](const FullMatrix<double> &a,
                               const FullMatrix<double> &b,
                               const std::string        &which) {
          ASSERT_EQ(a.m(), b.m()) << where << which;
          // The weight is positive, so sum_q |term_ij| <= sqrt(A_ii A_jj) (Cauchy-Schwarz):
          // the scale of the round-off of entry (i, j) even where the terms cancel.
          for (unsigned int i = 0; i < a.m(); ++i)
            for (unsigned int j = 0; j < a.n(); ++j)
              {
                const double scale = std::sqrt(std::abs(b(i, i) * b(j, j)));
                ASSERT_TRUE(std::isfinite(a(i, j)) && scale > 0) << where << which;
                ASSERT_LE(std::abs(a(i, j) - b(i, j)), tolerance * scale)
                    << where << which << " (" << i << ", " << j << ")";
                worst = std::max(worst, std::abs(a(i, j) - b(i, j)) / (tolerance * scale));
              }
        };
        check(factorised.mass, direct.mass, " mass");
        if (degree == 1 || !potential.factorised)
          {
            // Degree 1 keeps the direct lumped mass and geometric stiffness, and a steep
            // cell the direct formula: bit for bit.
            for (unsigned int i = 0; i < n; ++i)
              {
                ASSERT_EQ(factorised.lumped(i), direct.lumped(i)) << where;
                for (unsigned int j = 0; j < n; ++j)
                  ASSERT_EQ(factorised.stiffness(i, j), direct.stiffness(i, j)) << where;
              }
            if (!potential.factorised && consistent_mass)
              {
                for (unsigned int i = 0; i < n; ++i)
                  for (unsigned int j = 0; j < n; ++j)
                    ASSERT_EQ(factorised.mass(i, j), direct.mass(i, j)) << where;
              }
            continue;
          }
        check(factorised.stiffness, direct.stiffness, " stiffness");
        for (unsigned int i = 0; i < n; ++i)
          {
            double scale = 0; // sum_q |term_i|
            for (unsigned int q = 0; q < n_q; ++q)
              scale += std::exp(-(V_q[q] - V[i]) / eps) * std::abs(fe_values.shape_value(i, q)) *
                       fe_values.JxW(q);
            ASSERT_LE(std::abs(factorised.lumped(i) - direct.lumped(i)), tolerance * scale)
                << where << " lumped " << i;
            worst = std::max(
                worst, std::abs(factorised.lumped(i) - direct.lumped(i)) / (tolerance * scale));
          }
      }
}

const std::vector<Potential> potentials = {
    {"mild V = |x|^2/2",
     [](const double *x, double d) {
       double v = 0;
       for (int k = 0; k < int(d); ++k)
         v += x[k] * x[k] / 2;
       return v;
     },
     0.5,
     true},
    // Over a cell of width 1 (V_max - V_min)/eps reaches ~580: factors up to e^{+-290}.
    {"steep V",
     [](const double *x, double d) {
       return 150 * x[0] + (d > 1 ? 20 * x[1] * x[1] : 0) + (d > 2 ? 5 * std::sin(3 * x[2]) : 0);
     },
     0.3,
     true},
    // exp(-V/eps) alone underflows: only the shift by c keeps the factors in range.
    {"offset V = 1500 + x . (1, 2, 3)",
     [](const double *x, double d) {
       double v = 1500;
       for (int k = 0; k < int(d); ++k)
         v += (k + 1) * x[k];
       return v;
     },
     1.0,
     true},
    // (V_max - V_min)/eps = 640 > max_factorised_spread on every cell: the direct formula
    // (whose weights still fit: up to e^640).
    {"too steep V = 320 x", [](const double *x, double) { return 320 * x[0]; }, 0.5, false}};
} // namespace

TEST(FokkerPlanckWeights, FactorisedEqualsDirect1D)
{
  for (const auto &potential : potentials)
    for (unsigned int degree = 1; degree <= 3; ++degree)
      compare_on_mesh<1>(degree, potential);
  std::printf("largest difference: %.2g of its tolerance\n", worst);
}

TEST(FokkerPlanckWeights, FactorisedEqualsDirect2D)
{
  for (const auto &potential : potentials)
    for (unsigned int degree = 1; degree <= 3; ++degree)
      compare_on_mesh<2>(degree, potential);
  std::printf("largest difference: %.2g of its tolerance\n", worst);
}

TEST(FokkerPlanckWeights, FactorisedEqualsDirect3D)
{
  for (const auto &potential : potentials)
    for (unsigned int degree = 1; degree <= 3; ++degree)
      compare_on_mesh<3>(degree, potential);
  std::printf("largest difference: %.2g of its tolerance\n", worst);
}
