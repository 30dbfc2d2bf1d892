// Distances between ensembles and the density against closed forms: W2 of a Gaussian
// sample (N^{-1/2}) and between Gaussians (Bures), the energy distance of an exact
// sample (its expectation E|X - X'| / N) and between Gaussians, the histogram total
// variation (binomial standard error); files read as CSV and .npy give the same
// distances as the points in memory, and bad files are refused.
#include <densityflow/base/exceptions.h>
#include <densityflow/base/random.h>
#include <densityflow/distances/distances.h>
#include <densityflow/distances/ensemble_reader.h>
#include <densityflow/mesh/point_locator.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
bool root()
{
  return Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
}

/** A problem whose density is N(m, s^2) at t = 0 (and stays so: rho0 = pi). */
std::string gaussian_problem(const unsigned int dim, const double m, const double s)
{
  std::ostringstream prm;
  prm.precision(17);
  const double L = std::abs(m) + 7 * s;
  prm << "set Dimension = " << dim << "\nset Constants = m = " << m << ", s = " << s << "\n"
      << "subsection Mesh\n set Lower corner = " << -L << ", " << -L << ", " << -L
      << "\n set Upper corner = " << L << ", " << L << ", " << L
      << "\n set Refinement = " << (dim == 1 ? 8 : 5) << "\nend\n"
      << "subsection Physics\n set Potential = ((x - m)^2" << (dim > 1 ? " + (y - m)^2" : "")
      << ") / (2 * s^2)\n"
      << " set Diffusion = 1\nend\n"
      << "subsection Initial density\n set Expression = exp(-((x - m)^2"
      << (dim > 1 ? " + (y - m)^2" : "") << ") / (2 * s^2))\nend\n"
      << "subsection Discretization\n set Degree = 2\nend\n";
  return prm.str();
}

/** N(m, s^2 I) points, drawn on rank 0 from the stream @p seed. */
template <int dim>
std::vector<Point<dim>>
gaussian_sample(const std::size_t n, const double m, const double s, const std::uint64_t seed)
{
  std::vector<Point<dim>> points;
  if (!root())
    return points;
  const ParticleRandom random(seed);
  double               z[4];
  for (std::size_t i = 0; i < n; ++i)
    {
      random.normals(i, 0, 0, z);
      Point<dim> p;
      for (unsigned int d = 0; d < dim; ++d)
        p[d] = m + s * z[d];
      points.push_back(p);
    }
  return points;
}

/** The distances of (rank 0's) @p points, with unit weights, by @p comparison. */
template <int dim>
EnsembleDistances distances_by(const DensityComparison<dim> &comparison,
                               const Simulation<dim>        &s,
                               std::vector<Point<dim>>       points)
{
  PointLocator<dim>                                             &locator = s.mesh().point_locator();
  std::vector<double>                                            weights(points.size(), 1.0);
  std::vector<typename Triangulation<dim>::active_cell_iterator> cells;
  const std::uint64_t outside = Utilities::MPI::sum<std::uint64_t>(
      locator.locate(points, weights, 1, cells).size(), MPI_COMM_WORLD);
  return comparison.compare(
      s.solver(), s.solver().statistics(nullptr), points, weights, cells, outside);
}

/** The distances of (rank 0's) @p points, with unit weights, to the density of @p s. */
template <int dim>
EnsembleDistances distances(const Simulation<dim>  &s,
                            std::vector<Point<dim>> points,
                            unsigned int            projections   = 100,
                            unsigned int            floor_samples = 0)
{
  DistanceParameters parameters;
  parameters.projections   = projections;
  parameters.floor_samples = floor_samples;
  const DensityComparison<dim> comparison(parameters, 4, MPI_COMM_WORLD, &s.mesh());
  return distances_by<dim>(comparison, s, std::move(points));
}

template <int dim>
std::unique_ptr<Simulation<dim>> density(const std::string &prm)
{
  static std::ostringstream log;
  return std::make_unique<Simulation<dim>>(
      ProblemParameters::from_string(prm, {"Output/Write files=false"}), MPI_COMM_WORLD, log);
}
} // namespace

// E W2(mu_N, mu) ~ sqrt(log log N / N) for a Gaussian: slope about -0.47 over N = 1e2..1e5.
TEST(Distances, WassersteinOfAGaussianSampleFallsLikeOneOverSqrtN)
{
  const auto          s = density<1>(gaussian_problem(1, 0, 1));
  std::vector<double> n_values, w2_values, w1_values;
  for (const std::size_t n : {100, 1000, 10000, 100000})
    {
      const unsigned int repeats = n >= 100000 ? 3 : 10;
      double             w1 = 0, w2 = 0;
      for (unsigned int r = 0; r < repeats; ++r)
        {
          const EnsembleDistances d = distances<1>(*s, gaussian_sample<1>(n, 0, 1, 1000 * n + r));
          w1 += d.w1 / repeats;
          w2 += d.w2 / repeats;
        }
      n_values.push_back(std::log(double(n)));
      w1_values.push_back(std::log(w1));
      w2_values.push_back(std::log(w2));
    }
  const auto slope = [&](const std::vector<double> &y) {
    double mx = 0, my = 0, sxy = 0, sxx = 0;
    for (std::size_t i = 0; i < y.size(); ++i)
      mx += n_values[i] / y.size(), my += y[i] / y.size();
    for (std::size_t i = 0; i < y.size(); ++i)
      sxy += (n_values[i] - mx) * (y[i] - my), sxx += (n_values[i] - mx) * (n_values[i] - mx);
    return sxy / sxx;
  };
  if (root())
    std::cout << "  W1 slope " << slope(w1_values) << ", W2 slope " << slope(w2_values)
              << "; W2 at N = 1e5: " << std::exp(w2_values.back()) << std::endl;
  EXPECT_NEAR(slope(w1_values), -0.5, 0.08);
  EXPECT_NEAR(slope(w2_values), -0.5, 0.1);
}

// W2(N(0.3, 1.2^2), N(0, 1)) = sqrt(0.3^2 + 0.2^2) (Bures in 1D).
TEST(Distances, WassersteinBetweenGaussiansIsBures)
{
  const auto              s = density<1>(gaussian_problem(1, 0, 1));
  const EnsembleDistances d = distances<1>(*s, gaussian_sample<1>(200000, 0.3, 1.2, 7));
  Gaussian<1>             a, b;
  a.mean[0] = 0.3, a.covariance[0][0] = 1.44, b.covariance[0][0] = 1;
  // The sample's own W2 to N(0.3, 1.44) is about sqrt(log log N / N) ~ 4e-3.
  EXPECT_NEAR(d.w2, wasserstein2(a, b), 0.015);
  // In 1D, W1 = E|F^{-1}(U) - G^{-1}(U)| = E|0.3 + 0.2 Z| (quantiles of two Gaussians).
  const double w1 = 0.2 * std::sqrt(2 / M_PI) * std::exp(-0.3 * 0.3 / (2 * 0.04)) +
                    0.3 * std::erf(0.3 / (0.2 * std::sqrt(2.0)));
  EXPECT_NEAR(d.w1, w1, 0.015);
  EXPECT_LE(d.w1, d.w2 + 1e-12);
  EXPECT_EQ(d.outside, 0u);
}

// E[E(mu_N, mu)] = E|X - X'| / N exactly (the V-statistic): 2 s / (sqrt(pi) N) in 1D,
// sqrt(pi) s / N for N(0, s^2 I) in 2D (where the sliced estimate is unbiased too).
TEST(Distances, EnergyDistanceOfAnExactSample)
{
  for (const unsigned int dim : {1u, 2u})
    {
      const std::size_t  n       = 500;
      const unsigned int repeats = 40;
      // The simulations are destroyed before MPI (and p4est) are finalised.
      std::vector<double> values;
      if (dim == 1)
        {
          const auto s = density<1>(gaussian_problem(1, 0, 1));
          for (unsigned int r = 0; r < repeats; ++r)
            values.push_back(
                distances<1>(*s, gaussian_sample<1>(n, 0, 1, 100 + r)).energy_distance);
        }
      else
        {
          const auto s = density<2>(gaussian_problem(2, 0, 1));
          for (unsigned int r = 0; r < repeats; ++r)
            values.push_back(
                distances<2>(*s, gaussian_sample<2>(n, 0, 1, 100 + r), 20).energy_distance);
        }
      double mean = 0, var = 0;
      for (const double v : values)
        mean += v / repeats;
      for (const double v : values)
        var += (v - mean) * (v - mean) / (repeats - 1);
      const double expected = (dim == 1 ? 2 / std::sqrt(M_PI) : std::sqrt(M_PI)) / n;
      if (root())
        std::cout << "  energy distance of an exact sample, " << dim << "D: mean " << mean << " +- "
                  << std::sqrt(var / repeats) << ", expected " << expected << std::endl;
      EXPECT_NEAR(mean, expected, 4 * std::sqrt(var / repeats)) << dim << "D";
    }
}

// Two Gaussians in 1D: E(N(0.3, 1.2^2), N(-0.5, 0.7^2)) = 0.430734 (closed form); the
// sample adds its E|X - X'| / N on average.
TEST(Distances, EnergyDistanceBetweenGaussians)
{
  const auto          s = density<1>(gaussian_problem(1, -0.5, 0.7));
  const std::size_t   n = 20000;
  std::vector<double> values;
  for (unsigned int r = 0; r < 10; ++r)
    values.push_back(distances<1>(*s, gaussian_sample<1>(n, 0.3, 1.2, 500 + r)).energy_distance);
  double mean = 0, var = 0;
  for (const double v : values)
    mean += v / values.size();
  for (const double v : values)
    var += (v - mean) * (v - mean) / (values.size() - 1);
  const double expected =
      energy_distance_gaussians_1d(0.3, 1.2, -0.5, 0.7) + 2 * 1.2 / (std::sqrt(M_PI) * n);
  if (root())
    std::cout << "  energy distance between Gaussians: " << mean << " +- "
              << std::sqrt(var / values.size()) << ", closed form " << expected << std::endl;
  EXPECT_NEAR(mean, expected, 4 * std::sqrt(var / values.size()));
}

namespace
{
/** N(0, I) on [-5, 5]^dim, Q2: a density for the slicing tests. */
std::string standard_gaussian_problem(const unsigned int dim, const unsigned int refinement)
{
  const std::string  r2 = dim == 2 ? "x^2 + y^2" : "x^2 + y^2 + z^2";
  std::ostringstream prm;
  prm << "set Dimension = " << dim << "\nsubsection Mesh\n set Lower corner = -5, -5, -5\n"
      << " set Upper corner = 5, 5, 5\n set Refinement = " << refinement << "\nend\n"
      << "subsection Physics\n set Potential = (" << r2 << ") / 2\n set Diffusion = 1\nend\n"
      << "subsection Initial density\n set Expression = exp(-(" << r2 << ") / 2)\nend\n"
      << "subsection Discretization\n set Degree = 2\nend\n";
  return prm.str();
}

/**
 * The standard deviation s of repeated estimates, and the standard error of log s: with
 * K estimates, Var(s^2) / s^4 = (kurtosis - (K - 3) / (K - 1)) / K, which is 2 / (K - 1)
 * for Gaussian estimates, so log s is known to about 1 / sqrt(2 (K - 1)).
 */
std::pair<double, double> spread_of(const std::vector<double> &x)
{
  const double K    = x.size();
  double       mean = 0, m2 = 0, m4 = 0;
  for (const double v : x)
    mean += v / K;
  for (const double v : x)
    {
      const double d = (v - mean) * (v - mean);
      m2 += d / K;
      m4 += d * d / K;
    }
  const double relative_variance = (m4 / (m2 * m2) - (K - 3) / (K - 1)) / K;
  return {std::sqrt(m2 * K / (K - 1)), 0.5 * std::sqrt(std::max(relative_variance, 0.0))};
}

/**
 * The root mean square of reported standard errors (its square is an unbiased estimate
 * of the variance they describe) and the standard error of its logarithm.
 */
std::pair<double, double> root_mean_square_of(const std::vector<double> &errors)
{
  const double K    = errors.size();
  double       mean = 0, variance = 0;
  for (const double e : errors)
    mean += e * e / K;
  for (const double e : errors)
    variance += (e * e - mean) * (e * e - mean) / (K - 1);
  return {std::sqrt(mean), 0.5 * std::sqrt(variance / K) / mean};
}

/**
 * The same ensemble against the same density with K = @p repeats seeds of the
 * directions: the reported slicing errors of the energy distance and of sliced W2 must
 * describe the spread of the K estimates. With the tolerance taken from the
 * uncertainty of both sides (4 standard errors of log(reported / observed)), a missing
 * factor c_d (pi/2 in 2D, 2 in 3D) must lie outside it.
 */
template <int dim>
void expect_slicing_errors_match_their_spread(const unsigned int refinement,
                                              const unsigned int projections,
                                              const unsigned int repeats)
{
  const auto              s        = density<dim>(standard_gaussian_problem(dim, refinement));
  const auto              normal   = gaussian_sample<dim>(1000, 0, 1, 23);
  const double            scale[3] = {1.0, 0.6, 0.8};
  std::vector<Point<dim>> points;
  for (const Point<dim> &z : normal)
    {
      Point<dim> p;
      for (unsigned int d = 0; d < dim; ++d)
        p[d] = (d == 0 ? 0.3 : 0.0) + scale[d] * z[d];
      points.push_back(p);
    }
  PointLocator<dim>  &locator = s->mesh().point_locator();
  std::vector<double> weights(points.size(), 1.0);
  std::vector<typename Triangulation<dim>::active_cell_iterator> cells;
  const std::uint64_t outside = Utilities::MPI::sum<std::uint64_t>(
      locator.locate(points, weights, 1, cells).size(), MPI_COMM_WORLD);
  ASSERT_EQ(outside, 0u);
  const DensityStatistics<dim> statistics = s->solver().statistics(nullptr);

  std::vector<double> energy, energy_error, w2, w2_error;
  for (unsigned int k = 0; k < repeats; ++k)
    {
      DistanceParameters parameters;
      parameters.projections = projections;
      parameters.seed        = 1000 + k;
      const DensityComparison<dim> comparison(parameters, 3, MPI_COMM_WORLD);
      const EnsembleDistances      d =
          comparison.compare(s->solver(), statistics, points, weights, cells, outside);
      energy.push_back(d.energy_distance);
      energy_error.push_back(d.energy_distance_slicing_error);
      w2.push_back(d.sliced_w2);
      w2_error.push_back(d.sliced_w2_slicing_error);
    }
  const double c_d = std::sqrt(M_PI) * std::tgamma((dim + 1) / 2.0) / std::tgamma(dim / 2.0);
  for (const auto &[name, estimates, errors] :
       {std::make_tuple("energy_distance", &energy, &energy_error),
        std::make_tuple("sliced_w2", &w2, &w2_error)})
    {
      const auto [observed, observed_log_error] = spread_of(*estimates);
      const auto [reported, reported_log_error] = root_mean_square_of(*errors);
      const double tolerance = 4 * std::sqrt(observed_log_error * observed_log_error +
                                             reported_log_error * reported_log_error);
      if (root())
        std::cout << "  " << dim << "D " << name << ": spread of " << repeats
                  << " estimates (P = " << projections << ") " << observed
                  << ", reported error (rms) " << reported << ", ratio " << reported / observed
                  << ", allowed factor " << std::exp(tolerance) << std::endl;
      EXPECT_LT(std::abs(std::log(reported / observed)), tolerance) << dim << "D " << name;
      // The check is sharp enough to see c_d.
      EXPECT_LT(tolerance, std::log(c_d)) << dim << "D " << name;
    }
}
} // namespace

// energy_distance_slicing_error and sliced_w2_slicing_error are standard errors over random
// directions: the estimates with other Distances/Seed scatter by that much (2D and 3D).
TEST(Distances, SlicingErrorsMatchTheSpreadOverSeeds)
{
  expect_slicing_errors_match_their_spread<2>(3, 20, 200);
  expect_slicing_errors_match_their_spread<3>(2, 20, 200);
}

// The bins of histogram_tv, as the README says: cells grouped by their ancestor at the
// finest mesh level where the effective number of bins 1 / sum p_B^2 is at most
// min(N / 20, 20). Computed here from the cells' masses, independently of the library.
template <int dim>
std::vector<double> readme_bins(const Simulation<dim> &s, const std::size_t n)
{
  std::vector<typename Triangulation<dim>::active_cell_iterator> cells;
  std::vector<Point<dim>>                                        atoms;
  std::vector<double>                                            weights;
  s.solver().quadrature_measure(4, cells, atoms, weights);
  const unsigned int       per_cell = atoms.size() / cells.size();
  std::vector<std::string> ids;
  std::vector<double>      masses;
  unsigned int             finest = 0;
  for (std::size_t c = 0; c < cells.size(); ++c)
    {
      finest   = std::max<unsigned int>(finest, cells[c]->level());
      double m = 0;
      for (unsigned int q = 0; q < per_cell; ++q)
        m += weights[c * per_cell + q];
      masses.push_back(m);
      ids.push_back(cells[c]->id().to_string());
    }
  finest                         = Utilities::MPI::max(finest, MPI_COMM_WORLD);
  const auto          all_ids    = Utilities::MPI::all_gather(MPI_COMM_WORLD, ids);
  const auto          all_masses = Utilities::MPI::all_gather(MPI_COMM_WORLD, masses);
  std::vector<double> chosen;
  for (unsigned int level = 0; level <= finest; ++level)
    {
      // A CellId's string is "coarse cell_levels:" and one child digit per level: the
      // coarse cell and the first digits name its ancestor at a level.
      std::map<std::string, double> bins;
      double                        total = 0;
      for (unsigned int r = 0; r < all_ids.size(); ++r)
        for (std::size_t c = 0; c < all_ids[r].size(); ++c)
          {
            const std::string &id    = all_ids[r][c];
            const std::size_t  colon = id.find(':');
            bins[id.substr(0, id.find('_')) + ":" + id.substr(colon + 1, level)] +=
                all_masses[r][c];
            total += all_masses[r][c];
          }
      double sum = 0;
      for (const auto &[id, m] : bins)
        sum += (m / total) * (m / total);
      if (level > 0 && 1 / sum > std::min(n / 20.0, 20.0))
        break;
      chosen.clear();
      for (const auto &[id, m] : bins)
        chosen.push_back(m / total);
    }
  return chosen;
}

// On a fine mesh (4096 cells for 4000 points) the histogram over the README's bins is
// within its binomial bound: n_B ~ Binomial(N, p_B), E|n_B/N - p_B| <= sqrt(p_B (1 - p_B) / N),
// about sqrt(2/pi) of it where N p_B is large, so the mean TV over repeats lies between 1/2
// and 1 of the bound; its exact floor (de Moivre's mean absolute deviation) lies there too,
// and every TV lies within 3 floor spreads of it. Over the cells themselves the same
// samples would have TV near 0.4.
TEST(Distances, HistogramTotalVariationOfAnExactSample)
{
  std::string prm = gaussian_problem(2, 0, 1);
  prm.replace(prm.find("set Refinement = 5"), 18, "set Refinement = 6");
  const auto                s     = density<2>(prm);
  const std::size_t         n     = 4000;
  const std::vector<double> bins  = readme_bins(*s, n);
  double                    bound = 0;
  for (const double p : bins)
    bound += 0.5 * std::sqrt(std::max(p, 0.0) * (1 - p) / n);
  DistanceParameters parameters;
  parameters.projections   = 10;
  parameters.floor_samples = 10;
  const DensityComparison<2> comparison(parameters, 4, MPI_COMM_WORLD, &s->mesh());
  double                     mean    = 0;
  const unsigned int         repeats = 10;
  EnsembleDistances          d;
  unsigned int               within = 0;
  for (unsigned int r = 0; r < repeats; ++r)
    {
      d = distances_by<2>(comparison, *s, gaussian_sample<2>(n, 0, 1, 900 + r));
      mean += d.histogram_tv / repeats;
      within +=
          std::abs(d.histogram_tv - d.histogram_tv_floor.value) <= 3 * d.histogram_tv_floor.spread;
    }
  if (root())
    std::cout << "  histogram TV of an exact sample over " << d.histogram_bins << " bins: " << mean
              << ", floor " << d.histogram_tv_floor.value << " +- " << d.histogram_tv_floor.spread
              << ", binomial bound " << bound << std::endl;
  EXPECT_EQ(d.histogram_bins, bins.size());
  EXPECT_GE(bins.size(), 5u);
  EXPECT_LT(mean, bound);
  EXPECT_GT(mean, 0.5 * bound);
  EXPECT_LT(d.histogram_tv_floor.value, bound);
  EXPECT_GT(d.histogram_tv_floor.value, 0.5 * bound);
  EXPECT_EQ(within, repeats);

  // The floor's closed forms against their definitions.
  for (const auto &[N, p] : std::vector<std::pair<unsigned int, double>>{{37, 0.3}, {200, 0.01}})
    {
      double mad = 0, binomial = std::pow(1 - p, N); // P(n = 0)
      for (unsigned int k = 0; k <= N; ++k)
        {
          mad += binomial * std::abs(double(k) / N - p);
          binomial *= (N - k) / (k + 1.0) * p / (1 - p);
        }
      EXPECT_NEAR(binomial_mean_absolute_deviation(N, p), mad, 1e-12) << N << ", " << p;
    }
  // E|W| for W ~ N(0, v I) in 1, 2, 3 dimensions: v^(1/2) times sqrt(2/pi), sqrt(pi/2),
  // 2 sqrt(2/pi).
  EXPECT_NEAR(expected_gaussian_norm({0.3}), std::sqrt(0.3 * 2 / M_PI), 1e-10);
  EXPECT_NEAR(expected_gaussian_norm({0.3, 0.3}), std::sqrt(0.3 * M_PI / 2), 1e-10);
  EXPECT_NEAR(expected_gaussian_norm({0.3, 0.3, 0.3}), 2 * std::sqrt(0.3 * 2 / M_PI), 1e-10);
}

// The noise floor: exact samples of rho_h (drawn here by Box-Muller from N(0, I), not by
// the floor's rejection sampler, with other seeds) have each distance within 3 floor
// spreads of its floor in at least 18 of 20 seeds: each of these laws exceeds its mean by
// 3 standard deviations with probability of 1-2% (chi with 1 and 2 degrees of freedom:
// 0.9%, 0.6%; the Cramer-von Mises law of N E_N in 1D: 1.6%), so 18 of 20 hold with
// probability > 0.94. The verdict takes the largest excess over all distances, so an
// exact sample reads "biased" more often (measured here: 1 to 2 in 20); at least 16 of 20
// consistent holds with probability > 0.95 for a rate up to 10%. A sample whose mean is
// off by 3 standard errors of the mean (sqrt(tr Sigma / N)) has its mean error 3.65 (1D)
// and 4.6 (2D) spreads above the floor by construction, and its energy distance about 5
// spreads above: it is flagged.
TEST(Distances, NoiseFloorOfExactAndBiasedSamples)
{
  for (const unsigned int dim : {1u, 2u})
    {
      const std::size_t  n = 1000, seeds = 20;
      DistanceParameters parameters;
      parameters.projections   = 20;
      parameters.floor_samples = 20;
      std::vector<EnsembleDistances> exact, biased;
      double                         energy_closed_form = 0;
      const auto                     run = [&](const auto &s, const auto &comparison, auto sample) {
        const double se = std::sqrt(double(dim) / n);
        for (unsigned int r = 0; r < seeds; ++r)
          {
            auto points = sample(n, 0, 1, 7000 + r);
            exact.push_back(distances_by(comparison, *s, points));
            // Shift to a mean of exactly 3 standard errors along (1, 1)/sqrt(2).
            if (root())
              {
                std::vector<double> mean(dim, 0.0);
                for (const auto &p : points)
                  for (unsigned int d = 0; d < dim; ++d)
                    mean[d] += p[d] / n;
                for (auto &p : points)
                  for (unsigned int d = 0; d < dim; ++d)
                    p[d] += 3 * se / std::sqrt(double(dim)) - mean[d];
              }
            biased.push_back(distances_by(comparison, *s, points));
          }
      };
      if (dim == 1)
        {
          const auto                 s = density<1>(gaussian_problem(1, 0, 1));
          const DensityComparison<1> comparison(parameters, 4, MPI_COMM_WORLD, &s->mesh());
          run(s, comparison, gaussian_sample<1>);
          energy_closed_form = 2 / std::sqrt(M_PI) / n;
        }
      else
        {
          const auto                 s = density<2>(gaussian_problem(2, 0, 1));
          const DensityComparison<2> comparison(parameters, 4, MPI_COMM_WORLD, &s->mesh());
          run(s, comparison, gaussian_sample<2>);
          energy_closed_form = std::sqrt(M_PI) / n;
        }
      // The closed-form floor of the energy distance: E|X - X'| / N, to quadrature
      // accuracy (sliced: every direction gives the same for N(0, I)).
      EXPECT_NEAR(
          exact[0].energy_distance_floor.value, energy_closed_form, 1e-3 * energy_closed_form)
          << dim << "D";
      const std::vector<std::pair<std::string, DistanceFloor EnsembleDistances::*>> floors = {
          {"mean_error", &EnsembleDistances::mean_error_floor},
          {"covariance_error", &EnsembleDistances::covariance_error_floor},
          {"histogram_tv", &EnsembleDistances::histogram_tv_floor},
          {"energy_distance", &EnsembleDistances::energy_distance_floor},
          {"w1", &EnsembleDistances::w1_floor},
          {"w2", &EnsembleDistances::w2_floor},
          {"sliced_w2", &EnsembleDistances::sliced_w2_floor}};
      const std::map<std::string, double EnsembleDistances::*> values = {
          {"mean_error", &EnsembleDistances::mean_error},
          {"covariance_error", &EnsembleDistances::covariance_error},
          {"histogram_tv", &EnsembleDistances::histogram_tv},
          {"energy_distance", &EnsembleDistances::energy_distance},
          {"w1", &EnsembleDistances::w1},
          {"w2", &EnsembleDistances::w2},
          {"sliced_w2", &EnsembleDistances::sliced_w2}};
      for (const auto &[name, floor] : floors)
        {
          const bool defined = std::isfinite(exact[0].*values.at(name));
          if (!defined)
            continue;
          unsigned int within = 0;
          for (const auto &d : exact)
            within += std::abs(d.*values.at(name) - (d.*floor).value) <= 3 * (d.*floor).spread;
          if (root())
            std::cout << "  " << dim << "D " << name << ": floor " << (exact[0].*floor).value
                      << " +- " << (exact[0].*floor).spread << "; exact samples within 3 spreads "
                      << within << "/" << seeds << std::endl;
          EXPECT_GE(within, 18u) << dim << "D " << name;
        }
      unsigned int consistent = 0, mean_flagged = 0, energy_flagged = 0, flagged = 0;
      double       mean_excess = 0;
      for (const auto &d : exact)
        consistent += d.verdict == "consistent";
      for (const auto &d : biased)
        {
          const double mean = (d.mean_error - d.mean_error_floor.value) / d.mean_error_floor.spread;
          mean_excess += mean / seeds;
          mean_flagged += mean > DistanceParameters::biased_excess;
          energy_flagged +=
              (d.energy_distance - d.energy_distance_floor.value) / d.energy_distance_floor.spread >
              DistanceParameters::biased_excess;
          flagged += d.verdict == "biased";
        }
      if (root())
        std::cout << "  " << dim << "D: exact samples consistent " << consistent << "/" << seeds
                  << "; shifted by 3 standard errors: mean error " << mean_excess
                  << " spreads above its floor, flagged by the mean " << mean_flagged
                  << ", by the energy distance " << energy_flagged << ", biased " << flagged
                  << std::endl;
      EXPECT_GE(consistent, 16u) << dim << "D";
      EXPECT_EQ(mean_flagged, seeds) << dim << "D";
      EXPECT_GE(energy_flagged, 18u) << dim << "D";
      EXPECT_EQ(flagged, seeds) << dim << "D";
    }
}

// The same points through a CSV file (with weights and time), a .npy file and memory.
TEST(Distances, FilesGiveTheSameDistancesAsMemory)
{
  const std::string directory = std::string(TEST_WORK_DIRECTORY) + "/files";
  if (root())
    std::filesystem::create_directories(directory);
  const auto                  s      = density<2>(gaussian_problem(2, 0.2, 0.8));
  const auto                  points = gaussian_sample<2>(3000, 0, 1, 3);
  const std::vector<Point<2>> all    = Utilities::MPI::broadcast(MPI_COMM_WORLD, points, 0);
  if (root())
    {
      std::ofstream csv(directory + "/points.csv");
      csv << "# written by the test\n# time = 0\nweight,y,x\n";
      csv.precision(17);
      for (const auto &p : all)
        csv << "1," << p[1] << ',' << p[0] << '\n';
      write_npy<2>(directory + "/points.npy", all);
    }
  MPI_Barrier(MPI_COMM_WORLD);
  const EnsembleDistances memory = distances<2>(*s, points);
  for (const std::string file : {"points.csv", "points.npy"})
    {
      // The CSV file carries its time; the .npy file gets it as --time would.
      const std::optional<double> time =
          file == std::string("points.csv") ? std::nullopt : std::optional<double>(0.0);
      const auto snapshots = read_ensembles<2>(directory + "/" + file, time, 1.0);
      ASSERT_EQ(snapshots.size(), 1u);
      EXPECT_EQ(snapshots[0].points.size(), 3000u);
      const EnsembleDistances read =
          distances<2>(*s, root() ? snapshots[0].points : std::vector<Point<2>>());
      EXPECT_DOUBLE_EQ(read.energy_distance, memory.energy_distance) << file;
      EXPECT_DOUBLE_EQ(read.sliced_w2, memory.sliced_w2) << file;
      EXPECT_DOUBLE_EQ(read.histogram_tv, memory.histogram_tv) << file;
      EXPECT_DOUBLE_EQ(read.mean_error, memory.mean_error) << file;
    }
}

// The time of a CSV snapshot decides which rho_h it is compared with: an exact sample of
// the OU solution at t1, written with a '# time = t1' line (and once without one, read
// with --time t1), gives the distances of the same points in memory at t1, and clearly
// others at t2 (its mean is then |m(t1) - m(t2)| = 0.29 away, 19 standard errors).
TEST(Distances, FileTimeDecidesTheDensityCompared)
{
  const std::string directory = std::string(TEST_WORK_DIRECTORY) + "/file-time";
  if (root())
    std::filesystem::create_directories(directory);
  OuProblem p;
  p.degree             = 2;
  p.refinement         = 4;
  p.s0                 = 0.25;
  p.time_step          = 0.05;
  p.end_time           = 0.3;
  const double      t1 = 0.3, t2 = 0.1;
  const std::size_t n  = 2000;
  const Gaussian<2> g1 = p.exact<2>(t1), g2 = p.exact<2>(t2);
  // m + S^{1/2} z is N(m, S).
  const SymmetricTensor<2, 2> root_covariance = symmetric_sqrt(g1.covariance);
  std::vector<Point<2>>       sample;
  for (const Point<2> &z : gaussian_sample<2>(n, 0, 1, 29))
    sample.emplace_back(g1.mean + root_covariance * Tensor<1, 2>(z));
  sample = Utilities::MPI::broadcast(MPI_COMM_WORLD, sample, 0);
  if (root())
    {
      std::ofstream with(directory + "/with-time.csv"), without(directory + "/without-time.csv");
      with << "# time = " << t1 << "\nx,y\n";
      without << "x,y\n";
      with.precision(17), without.precision(17);
      for (const auto &x : sample)
        {
          with << x[0] << ',' << x[1] << '\n';
          without << x[0] << ',' << x[1] << '\n';
        }
    }
  MPI_Barrier(MPI_COMM_WORLD);

  // Every rank reads the files, as `compare` does.
  std::vector<EnsembleSnapshot<2>> snapshots;
  try
    {
      for (auto &s : read_ensembles<2>(directory + "/with-time.csv", std::nullopt, p.end_time))
        snapshots.push_back(std::move(s));
    }
  catch (const InputError &e)
    {
      ADD_FAILURE() << "the file's '# time =' line was not used: " << e.what();
    }
  for (auto &s : read_ensembles<2>(directory + "/without-time.csv", t1, p.end_time))
    snapshots.push_back(std::move(s));
  for (const double t : {t1, t2})
    {
      EnsembleSnapshot<2> memory;
      memory.source  = "memory@" + std::to_string(t);
      memory.time    = t;
      memory.points  = sample;
      memory.weights = std::vector<double>(n, 1.0);
      snapshots.push_back(memory);
    }
  std::ostringstream log;
  Simulation<2>      simulation(
      ProblemParameters::from_string(p.text(), {"Output/Write files=false"}), MPI_COMM_WORLD, log);
  simulation.compare_ensembles(snapshots);
  simulation.run();
  std::map<std::string, EnsembleDistances> by_source;
  for (const EnsembleDistances &d : simulation.ensemble_distances())
    by_source[d.ensemble] = d;
  const EnsembleDistances at_t1 = by_source.at("memory@" + std::to_string(t1)),
                          at_t2 = by_source.at("memory@" + std::to_string(t2));
  for (const std::string file : {"with-time.csv", "without-time.csv"})
    {
      const auto found = by_source.find(directory + "/" + file);
      ASSERT_NE(found, by_source.end()) << file;
      const EnsembleDistances &d = found->second;
      EXPECT_DOUBLE_EQ(d.time, t1) << file;
      EXPECT_EQ(d.n_particles, n) << file;
      for (const auto member : {&EnsembleDistances::mean_error,
                                &EnsembleDistances::covariance_error,
                                &EnsembleDistances::histogram_tv,
                                &EnsembleDistances::energy_distance,
                                &EnsembleDistances::sliced_w2})
        EXPECT_NEAR(d.*member, at_t1.*member, 1e-12 * std::abs(at_t1.*member)) << file;
    }
  // At t1 the sample's mean is within 4 standard errors sqrt(tr S / N) of the exact mean,
  // and rho_h's mean (the run ends at t1) within its discretisation error of it; at t2
  // the sample is |m(t1) - m(t2)| away, of which at least half must show.
  const double standard_error = std::sqrt(trace(g1.covariance) / n);
  const double shift          = (g1.mean - g2.mean).norm();
  const double discretisation = (simulation.solver().statistics(nullptr).mean - g1.mean).norm();
  if (root())
    std::cout << "  exact sample of t1 = " << t1 << ": mean error " << at_t1.mean_error
              << " at t1 (standard error " << standard_error << ", rho_h's mean error "
              << discretisation << "), " << at_t2.mean_error
              << " at t2 (|m(t1) - m(t2)| = " << shift << "); energy distance "
              << at_t1.energy_distance << " at t1, " << at_t2.energy_distance << " at t2"
              << std::endl;
  EXPECT_LT(at_t1.mean_error, 4 * standard_error + discretisation);
  EXPECT_GT(at_t2.mean_error, shift / 2);
  EXPECT_GT(at_t2.energy_distance, 10 * at_t1.energy_distance);
}

// A system column (densityflow's own particles_*.csv) splits a file into one ensemble per
// system and time, each with exactly its own points and in the order of the file.
TEST(Distances, SystemColumnSplitsEnsembles)
{
  const std::string file = std::string(TEST_WORK_DIRECTORY) + "/systems.csv";
  if (root())
    std::ofstream(file) << "system,id,x,y,time\n0,0,1,2,0.5\n1,0,3,4,0.5\n0,1,5,6,0.5\n"
                           "1,1,7,8,0.5\n1,0,9,10,1\n";
  MPI_Barrier(MPI_COMM_WORLD);
  const auto snapshots = read_ensembles<2>(file, std::nullopt, 1.0);
  ASSERT_EQ(snapshots.size(), 3u);
  EXPECT_EQ(snapshots[0].source, file + "#system=0@t=0.500000");
  EXPECT_EQ(snapshots[1].source, file + "#system=1@t=0.500000");
  EXPECT_EQ(snapshots[2].source, file + "#system=1@t=1.000000");
  const std::vector<std::vector<Point<2>>> expected = {
      {Point<2>(1, 2), Point<2>(5, 6)}, {Point<2>(3, 4), Point<2>(7, 8)}, {Point<2>(9, 10)}};
  for (unsigned int k = 0; k < 3; ++k)
    {
      EXPECT_EQ(snapshots[k].points, expected[k]) << snapshots[k].source;
      EXPECT_DOUBLE_EQ(snapshots[k].time, k < 2 ? 0.5 : 1.0);
    }
}

namespace
{
std::string error_of(const std::string           &file,
                     const std::optional<double> &time = std::nullopt,
                     const double                 end  = 1)
{
  try
    {
      read_ensembles<2>(file, time, end);
    }
  catch (const InputError &e)
    {
      return e.what();
    }
  return "";
}
} // namespace

TEST(Distances, BadFilesAreRefused)
{
  const std::string d = std::string(TEST_WORK_DIRECTORY) + "/bad";
  if (root())
    {
      std::filesystem::create_directories(d);
      std::ofstream(d + "/three.csv") << "# time = 0.5\nx,y,z\n1,2,3\n";
      std::ofstream(d + "/one.csv") << "# time = 0.5\nx\n1\n";
      std::ofstream(d + "/nan.csv") << "# time = 0.5\nx,y\n1,2\nnan,3\n";
      std::ofstream(d + "/inf.csv") << "# time = 0.5\nx,y\n1,inf\n";
      std::ofstream(d + "/empty.csv") << "# time = 0.5\nx,y\n";
      std::ofstream(d + "/late.csv") << "# time = 2\nx,y\n1,2\n";
      std::ofstream(d + "/no-time.csv") << "x,y\n1,2\n";
      std::ofstream(d + "/short.csv") << "# time = 0\nx,y\n1\n";
      std::ofstream(d + "/negative.csv") << "# time = 0\nx,y,weight\n1,2,-1\n";
      std::ofstream(d + "/times.csv") << "x,y,time\n1,2,0\n3,4,-0.5\n";
      std::ofstream(d + "/twice.csv") << "# time = 0.5\n# time = 0.7\nx,y\n1,2\n";
      std::ofstream(d + "/column.csv") << "x,y,time\n1,2,0.5\n";
      write_npy<3>(d + "/three.npy", {Point<3>(1, 2, 3)});
      write_npy<2>(d + "/two.npy", {Point<2>(1, 2)});
      write_npy<2>(d + "/empty.npy", {});
      std::ofstream(d + "/garbage.npy") << "not a numpy file";
    }
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_NE(error_of(d + "/three.csv")
                .find("line 2: the column 'z' is a coordinate that a 2D problem does not have"),
            std::string::npos);
  EXPECT_NE(error_of(d + "/one.csv").find("line 2: the header 'x' has no column 'y'"),
            std::string::npos);
  EXPECT_NE(error_of(d + "/nan.csv").find("nan.csv, line 4: 'nan' is not a finite number"),
            std::string::npos);
  EXPECT_NE(error_of(d + "/inf.csv").find("line 3: 'inf' is not a finite number"),
            std::string::npos);
  EXPECT_NE(error_of(d + "/empty.csv").find("holds no points"), std::string::npos);
  EXPECT_NE(error_of(d + "/late.csv").find("time 2 is outside [0, 1]"), std::string::npos);
  EXPECT_NE(error_of(d + "/no-time.csv").find("no time"), std::string::npos);
  EXPECT_NE(error_of(d + "/short.csv").find("line 3: 1 values, but the header has 2 columns"),
            std::string::npos);
  EXPECT_NE(error_of(d + "/negative.csv").find("is negative"), std::string::npos);
  EXPECT_NE(error_of(d + "/times.csv").find("line 3: time -0.5 is outside"), std::string::npos);
  EXPECT_NE(error_of(d + "/three.npy", 0.5).find("shape (1, 3)"), std::string::npos);
  EXPECT_NE(error_of(d + "/empty.npy", 0.5).find("holds no points"), std::string::npos);
  EXPECT_NE(error_of(d + "/garbage.npy", 0.5).find("not a NumPy .npy file"), std::string::npos);
  EXPECT_NE(error_of(d + "/two.npy").find("needs its time"), std::string::npos);
  EXPECT_NE(error_of(d + "/missing.csv").find("cannot open"), std::string::npos);
  // One time per snapshot, given once: a second one is refused, naming both.
  EXPECT_NE(error_of(d + "/twice.csv")
                .find("twice.csv, line 2: '# time = 0.7' gives a second time, after '# time = 0.5' "
                      "(line 1)"),
            std::string::npos)
      << error_of(d + "/twice.csv");
  EXPECT_NE(error_of(d + "/one.csv", 0.7)
                .find("line 1: '# time = 0.5' gives a second time, after --time 0.7 on the "
                      "command line"),
            std::string::npos)
      << error_of(d + "/one.csv", 0.7);
  EXPECT_NE(error_of(d + "/column.csv", 0.5)
                .find("line 1: the file has a time column and also --time 0.5 on the command line"),
            std::string::npos)
      << error_of(d + "/column.csv", 0.5);
  EXPECT_EQ(error_of(d + "/column.csv"), "");
}

// Points outside the domain are counted, and left out of the distances.
TEST(Distances, PointsOutsideTheDomainAreCounted)
{
  const auto            s      = density<2>(gaussian_problem(2, 0, 1));
  std::vector<Point<2>> points = gaussian_sample<2>(1000, 0, 1, 11);
  if (root())
    points.insert(points.end(), {Point<2>(100, 0), Point<2>(0, -100), Point<2>(50, 50)});
  const EnsembleDistances d = distances<2>(*s, points);
  EXPECT_EQ(d.outside, 3u);
  EXPECT_EQ(d.n_particles, 1000u);
}
