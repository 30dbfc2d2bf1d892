#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace dealii
{
class ParameterHandler;
}

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
 * The noise floor of the distance @p member from the same distance of exact samples
 * (@p samples, at least 2): their mean and standard deviation.
 */
DistanceFloor monte_carlo_floor(const std::vector<EnsembleDistances> &samples,
                                const double EnsembleDistances::*member);

/**
 * Sets floor_excess, floor_excess_of and the verdict of @p d from its distances and
 * their floors (left undefined where no distance has a floor with a spread).
 */
void set_verdict(EnsembleDistances &d);
} // namespace densityflow
