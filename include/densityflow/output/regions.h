#pragma once

#include <densityflow/base/expression.h>
#include <densityflow/distances/distances.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/solvers/interface.h>

#include <deal.II/base/parameter_handler.h>
#include <deal.II/fe/mapping.h>

#include <memory>
#include <string>
#include <vector>

namespace densityflow
{
using namespace dealii;

/** A named region: the points where a muparser expression of x (y, z) and t is non-zero. */
struct RegionDefinition
{
  std::string name;
  std::string expression;
};

/**
 * The `Diagnostics` subsection: `Regions = left: x < 0; right: x > 0`, named regions
 * whose mass (diagnostics.csv) and particle fractions (particles-vs-pde.csv,
 * compare.csv) are reported. Names are checked here (not empty, letters, digits and
 * '_', no duplicates); the expressions when Regions is built (they need the dimension).
 */
struct RegionParameters
{
  std::vector<RegionDefinition> regions;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);

  /** Splits "name: expression; name: expression". InputError naming Diagnostics/Regions. */
  static std::vector<RegionDefinition> parse(const std::string &text);
};

/**
 * Named regions of space and what rho_h and point ensembles put into them.
 *
 * A region's mass is the quadrature of rho_h times the region's indicator. On a cell
 * whose Gauss points and (slightly inset) vertices all lie on one side, that is the
 * cell's Gauss rule
 * (n points per direction, the rule of the distances); a cell where they disagree is
 * cut by the region's boundary, and there the indicator and rho_h are sampled at the
 * Gauss points of each of its 8^dim sub-cells. The error of a cut cell is thus at
 * most the mass of the sub-cells the boundary crosses, about rho |boundary| h / 8
 * summed along the boundary (and far less for smooth boundaries, where the errors of
 * neighbouring sub-cells cancel); a boundary along mesh lines costs nothing. A region
 * thinner than the Gauss points' spacing within a cell can be missed.
 */
template <int dim>
class Regions
{
public:
  /**
   * @param constants  the problem's named constants (with eps)
   * @param degree     the finite-element degree (mapping, Gauss points degree + 2)
   * InputError naming Diagnostics/Regions and the region for a malformed expression.
   */
  Regions(const std::vector<RegionDefinition> &definitions,
          const Constants                     &constants,
          const Mesh<dim>                     &mesh,
          const unsigned int                   degree);
  ~Regions();

  bool empty() const;

  const std::vector<std::string> &names() const;

  /** Whether @p p lies in region @p k at time @p t. */
  bool contains(const std::size_t k, const Point<dim> &p, const double t) const;

  /** int_R rho_h for each region R at the solver's time. Collective. */
  std::vector<double> masses(const DensitySolver<dim> &solver) const;

  /**
   * Adds to @p d, for each region, the weighted fraction of the points in it, the
   * density's fraction p = @p region_masses / @p total_mass, and the binomial standard
   * error sqrt(p (1 - p) / N_eff) of the fraction of an exact i.i.d. sample of rho_h,
   * N_eff = (sum w)^2 / sum w^2 (= N for equal weights). @p points and @p weights: this
   * rank's points in the domain. Collective.
   */
  void add_fractions(EnsembleDistances             &d,
                     const std::vector<Point<dim>> &points,
                     const std::vector<double>     &weights,
                     const std::vector<double>     &region_masses,
                     const double                   total_mass,
                     const double                   time) const;

private:
  std::vector<std::string>                      region_names;
  std::vector<std::unique_ptr<Expression<dim>>> indicators;
  const Mapping<dim>                           &mapping;
  unsigned int                                  n_gauss;
  MPI_Comm                                      mpi_communicator;
};
} // namespace densityflow
