#pragma once

#include <densityflow/mesh/mesh.h>
#include <densityflow/solvers/interface.h>

#include <deal.II/base/parameter_handler.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace densityflow
{
using namespace dealii;

/** The `Distances` subsection: how ensembles are compared with the density. */
struct DistanceParameters
{
  /** Random directions of the sliced distances (2D, 3D). */
  unsigned int  projections = 100;
  std::uint64_t seed        = 1;
  /**
   * Exact samples of rho_h drawn per time and ensemble size for the noise floor of the
   * distances; 0 switches the floor off (otherwise at least 2: they give its spread).
   */
  unsigned int floor_samples = 4;

  /** A distance more than this many floor spreads above its floor reads as biased. */
  static constexpr double biased_excess = 3;
  /** Histogram bins: a typical point's bin holds at least max(N / this, 20) points. */
  static constexpr double histogram_bin_fraction = 20;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);
};

/**
 * What a distance would be for an exact i.i.d. sample of rho_h of the ensemble's size:
 * its mean (closed form where there is one) and its spread (standard deviation).
 */
struct DistanceFloor
{
  double value  = std::numeric_limits<double>::quiet_NaN();
  double spread = std::numeric_limits<double>::quiet_NaN();
};

/**
 * How far an ensemble of points is from rho_h at one time: the rows of
 * particles-vs-pde.csv and compare.csv. Undefined entries are NaN (written empty).
 * Every distance has its noise floor beside it (DistanceFloor, NaN when the floor is
 * off), and the verdict says whether the distances are what an exact sample gets.
 */
struct EnsembleDistances
{
  static constexpr double undefined = std::numeric_limits<double>::quiet_NaN();

  double        time = 0;
  std::string   ensemble;
  std::uint64_t n_particles = 0;
  /** Points in no cell of the mesh (left out of all distances). */
  std::uint64_t outside = 0;
  /** |mean_particles - mean_rho| (Euclidean) and ||cov_particles - cov_rho||_F. */
  double        mean_error = undefined, covariance_error = undefined;
  DistanceFloor mean_error_floor, covariance_error_floor;
  /** 1/2 sum_B |n_B / N - int_B rho_h| over bins B of cells (both normalised to unit mass). */
  double        histogram_tv = undefined;
  DistanceFloor histogram_tv_floor;
  /** The bins of histogram_tv: cells grouped by their ancestor at one mesh level. */
  std::uint64_t histogram_bins = 0;
  /**
   * Energy distance 2E|X-Y| - E|X-X'| - E|Y-Y'| (sliced in 2D/3D) and the Monte-Carlo
   * error of its slicing over the directions (not a sampling error: see the floor).
   */
  double        energy_distance = undefined, energy_distance_slicing_error = undefined;
  DistanceFloor energy_distance_floor;
  /** Exact W1, W2 against rho_h in 1D. */
  double        w1 = undefined, w2 = undefined;
  DistanceFloor w1_floor, w2_floor;
  /** Sliced W2 (sqrt of the mean of W2^2 over directions) in 2D/3D and its slicing error. */
  double        sliced_w2 = undefined, sliced_w2_slicing_error = undefined;
  DistanceFloor sliced_w2_floor;
  /**
   * The largest (distance - floor) / spread over the distances with a floor, the
   * distance it belongs to, and the verdict: "biased" where it exceeds
   * DistanceParameters::biased_excess, else "consistent" (empty without a floor).
   */
  double      floor_excess = undefined;
  std::string floor_excess_of, verdict;
  /** Flow map: |rho_carried - rho_h| / rho_carried at the particles, max and mean. */
  double density_error_max = undefined, density_error_mean = undefined;
  /** Per region of Diagnostics/Regions: the ensemble's (weighted) fraction in it, rho_h's
      fraction (int_R rho_h / int rho_h), and the binomial standard error of an exact
      sample's fraction. Empty without regions. */
  std::vector<double> region_fractions, region_density_fractions, region_fraction_errors;
};

/**
 * The columns of particles-vs-pde.csv and compare.csv in @p dim dimensions; each
 * region adds fraction_<name>, density_fraction_<name> and fraction_<name>_stderr at
 * the end.
 */
std::vector<std::string> distance_columns(const unsigned int              dim,
                                          const std::vector<std::string> &regions = {});

/** One row of those files, in the order of distance_columns(). */
std::vector<std::string> distance_row(const EnsembleDistances &d, const unsigned int dim);

/**
 * Standard distances between weighted point ensembles (particles of any code) and the
 * finite-element density rho_h:
 * - moments: error of the mean and of the covariance;
 * - histogram total variation over the cells;
 * - energy distance (MMD with the kernel -|x - y|) against rho_h's quadrature measure,
 *   exact in 1D, sliced through P random directions in 2D/3D (scaled by
 *   c_d = sqrt(pi) Gamma((d+1)/2)/Gamma(d/2), so it estimates the full energy
 *   distance) with the Monte-Carlo standard error of the slicing;
 * - Wasserstein: W1 and W2 in 1D exactly, through the quantile function of rho_h
 *   (piecewise, from its values at Gauss points); sliced W2 in 2D/3D;
 * - for particles that carry their density: its relative error against rho_h.
 * Points and quadrature points may live on any ranks; the results are the same on any
 * number of ranks (the sorted 1D problems are solved on rank 0). Negative parts of
 * rho_h enter the energy distance as they are and are set to zero for Wasserstein
 * distances (they are reported as negative_mass in diagnostics.csv).
 */
template <int dim>
class DensityComparison
{
public:
  /**
   * @param quadrature_points Gauss points per direction of rho_h's point measure
   * @param mesh the mesh of rho_h, where the noise floor draws its exact samples; without
   *             it (null) there is no floor
   */
  DensityComparison(const DistanceParameters &parameters,
                    const unsigned int        quadrature_points,
                    const MPI_Comm            communicator,
                    const Mesh<dim>          *mesh = nullptr);
  ~DensityComparison();

  /**
   * Compares located points with rho_h: @p points, @p weights and @p cells are this
   * rank's points in its own cells; @p outside counts points in no cell (all ranks);
   * @p log_density, if not null, holds the densities the points carry. Collective.
   */
  EnsembleDistances
  compare(const DensitySolver<dim>                                             &solver,
          const DensityStatistics<dim>                                         &density,
          const std::vector<Point<dim>>                                        &points,
          const std::vector<double>                                            &weights,
          const std::vector<typename Triangulation<dim>::active_cell_iterator> &cells,
          const std::uint64_t                                                   outside,
          const std::vector<double> *log_density = nullptr) const;

private:
  struct DensityData;
  struct PointSet;
  /** rho_h's point measure, bins and energy floor at the solver's time (cached). */
  const DensityData &density_data(const DensitySolver<dim> &solver) const;
  /** The distances of each of @p sets (unit or given weights) to rho_h. Collective. */
  std::vector<EnsembleDistances> distances_of(const DensitySolver<dim>     &solver,
                                              const DensityStatistics<dim> &density,
                                              const DensityData            &data,
                                              const std::vector<PointSet>  &sets,
                                              const std::uint64_t           n_bins_for) const;
  /** The floors of an ensemble of (effective) size @p n at the solver's time (cached). */
  const std::vector<EnsembleDistances> &floor_samples(const DensitySolver<dim>     &solver,
                                                      const DensityStatistics<dim> &density,
                                                      const DensityData            &data,
                                                      const std::uint64_t           n) const;

  DistanceParameters  parameters;
  unsigned int        n_quadrature;
  MPI_Comm            mpi_communicator;
  const Mesh<dim>    *mesh;
  const Mapping<dim> *mapping;
  /** What depends only on rho_h at one time, and the floor samples of one size there. */
  mutable std::unique_ptr<DensityData>   cached_density;
  mutable std::vector<EnsembleDistances> cached_floor;
  mutable std::uint64_t                  cached_floor_size = 0;
};

/**
 * E|n / N - p| for n ~ Binomial(N, p), exactly (de Moivre):
 * 2 nu C(N, nu) p^nu (1 - p)^(N - nu + 1) / N with nu = floor(N p) + 1.
 */
double binomial_mean_absolute_deviation(const std::uint64_t N, const double p);

/**
 * E|W| for W ~ N(0, diag(@p variances)), by a one-dimensional integral:
 * E sqrt(Q) = 1/(2 sqrt(pi)) int_0^inf (1 - E exp(-t Q)) t^(-3/2) dt.
 */
double expected_gaussian_norm(const std::vector<double> &variances);

/** A weighted atom (position, weight) of a measure on the line. */
using Atom = std::pair<double, double>;

/**
 * The energy distance 2 int (F_a - F_b)^2 dx between two weighted point measures on the
 * line, each normalised to unit mass (weights may be negative). Sorts its arguments.
 */
double energy_distance_1d(std::vector<Atom> &a, std::vector<Atom> &b);

/** W_p^p between two point measures on the line (weights >= 0, normalised). Sorts. */
double wasserstein_power_1d(std::vector<Atom> &a, std::vector<Atom> &b, const unsigned int p);

/**
 * A density on the line given by its values at the n Gauss points of each of a set of
 * intervals (cells), interpolated by the polynomial of degree n - 1 on each: exact for
 * piecewise polynomials of that degree. Negative values are set to zero.
 */
class PiecewiseDensity1D
{
public:
  /**
   * @param intervals the cells, disjoint, in any order
   * @param values    n values per cell, at the Gauss points of QGauss<1>(n)
   */
  PiecewiseDensity1D(const std::vector<std::pair<double, double>> &intervals,
                     const std::vector<double>                    &values,
                     const unsigned int                            n);

  double mass() const;

  /** W_p^p between the weighted sample @p atoms (normalised) and this density
      (normalised), through the quantile function; p = 1 or 2. Sorts @p atoms. */
  double wasserstein_power(std::vector<Atom> &atoms, const unsigned int p) const;

private:
  /** int_{a_c}^{y} rho(x) x^k dx within cell c. */
  double partial(const std::size_t c, const double y, const unsigned int k) const;
  double value(const std::size_t c, const double y) const;
  /** The point y with G(y) = s (G the CDF, unnormalised). */
  double quantile(const double s) const;
  /** int_alpha^beta |c - y|^p rho(y) dy, across cells. */
  double
  moment_between(const double alpha, const double beta, const double c, const unsigned int p) const;

  unsigned int                           n;
  std::vector<double>                    nodes, barycentric;
  std::vector<std::pair<double, double>> cells;
  std::vector<double>                    cell_values, cumulative;
};
} // namespace densityflow
