// Interacting particles (Particles/Dynamics = interacting) against their exact ODEs.
//
// In 1D with the Riesz kernel W(z) = -|z| (r = 1), particle x_(i) of N sorted particles
// feels (1/N)((i - 1) - (N - i)) from the others (its own atom counts 0), so:
// - the MMD flow to nu = U[0, 1] (V = 0): x_(i)' = 2 (s_i - x_(i)), s_i = (i - 1/2) / N
//   (the target's part 1 - 2 F_nu(x) = 1 - 2x);
// - aggregation with V = x^2/2 and no target: x_(i)' = a_i - x_(i), a_i = (2i - 1)/N - 1.
// Both are linear with the order of the particles kept (their gaps relax to 1/N and 2/N),
// so x_(i)(T) = c_i + (x_(i)(0) - c_i) e^{-kT}: the particles are the closed-form quantiles
// Q(s_i, T) of the mean-field flow started from their own empirical quantiles. What is left
// is SSP-RK3's error, O(dt^3).
#include <densityflow/particles/particle_ensemble.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>

#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
struct ParticleFlow
{
  double lower, upper;
  /** The relaxation rate k of the sorted particles. */
  double k;
  /** The Physics and Interaction subsections. */
  std::string physics;
  /** c_i of the sorted particle i = 1..N. */
  double (*centre)(std::size_t i, std::size_t n);

  std::string problem(const double dt, const double end_time, const unsigned int n) const
  {
    std::ostringstream out;
    out << std::setprecision(17) << "set Dimension = 1\n"
        << "subsection Mesh\n  set Lower corner = " << lower << "\n  set Upper corner = " << upper
        << "\n  set Refinement = 2\nend\n"
        << physics << "subsection Initial density\n  set Expression = 1 + 0.6 * cos(2 * pi * (x - ("
        << lower << ")) / " << upper - lower << ")\nend\n"
        << "subsection Time\n  set End time = " << end_time << "\n  set Time step = " << dt
        << "\nend\n"
        << "subsection Discretization\n  set Degree = 1\nend\n"
        << "subsection Particles\n  set Number = " << n
        << "\n  set Dynamics = interacting\n  set Seed = 5\nend\n";
    return out.str();
  }
};

ParticleFlow mmd_to_uniform()
{
  return {0,
          1,
          2,
          "subsection Physics\n  set Model = interaction\n  set Diffusion = 0\nend\n"
          "subsection Interaction\n  subsection Target\n    set Density = 1\n  end\nend\n",
          [](std::size_t i, std::size_t n) { return (i - 0.5) / n; }};
}

ParticleFlow aggregation()
{
  return {-1,
          1,
          1,
          "subsection Physics\n  set Model = interaction\n  set Diffusion = 0\n"
          "  set Potential = x^2 / 2\n  set Potential gradient = x\nend\n",
          [](std::size_t i, std::size_t n) { return (2.0 * i - 1) / n - 1; }};
}

/** The particles of the run of @p prm on @p communicator, by id: at the start and at the end. */
template <int dim>
std::pair<std::map<std::uint64_t, Point<dim>>, std::map<std::uint64_t, Point<dim>>>
run_particles(const std::string &prm, const MPI_Comm communicator = MPI_COMM_WORLD)
{
  std::ostringstream log;
  Simulation<dim>    simulation(
      ProblemParameters::from_string(prm, {"Output/Write files=false"}), communicator, log);
  const auto &ensemble = *simulation.particle_systems()[0];
  const auto  initial  = gather_positions(ensemble, communicator);
  simulation.run();
  return {initial, gather_positions(ensemble, communicator)};
}

/** The largest distance of the sorted particles at T from their exact ODE solution. */
double largest_error(const ParticleFlow &flow, const double dt, const double T, const unsigned n)
{
  const auto [initial, final] = run_particles<1>(flow.problem(dt, T, n));
  EXPECT_EQ(final.size(), n) << "a particle left the domain";
  std::vector<double> x0, x1;
  for (const auto &[id, x] : initial)
    x0.push_back(x[0]);
  for (const auto &[id, x] : final)
    x1.push_back(x[0]);
  std::sort(x0.begin(), x0.end());
  std::sort(x1.begin(), x1.end());
  double error = 0;
  for (std::size_t i = 1; i <= x0.size(); ++i)
    {
      const double c = flow.centre(i, n);
      error = std::max(error, std::abs(x1[i - 1] - (c + (x0[i - 1] - c) * std::exp(-flow.k * T))));
    }
  return error;
}

void check_exact_particles(const ParticleFlow &flow)
{
  const double T = 0.5, n = 200;
  const double coarse = largest_error(flow, 0.05, T, n), fine = largest_error(flow, 0.025, T, n);
  // SSP-RK3 on y' = -k y: the local error is (k dt)^4 / 24 |y|, T / dt of them, |y| <= 1.
  const double bound = T * std::pow(flow.k, 4) * std::pow(0.05, 3) / 24;
  std::cout << "  largest error dt = 0.05: " << coarse << ", dt = 0.025: " << fine << ", order "
            << observed_order(coarse, fine) << " (bound at dt = 0.05: " << bound << ")"
            << std::endl;
  EXPECT_LT(coarse, bound);
  EXPECT_GT(observed_order(coarse, fine), 2.7);
}
} // namespace

TEST(InteractingParticles, MmdFlowToUniformIsExact1D)
{
  check_exact_particles(mmd_to_uniform());
}

TEST(InteractingParticles, AggregationIsExact1D)
{
  check_exact_particles(aggregation());
}

// The ensemble does not depend on the number of ranks: the run on this communicator
// equals the run on each rank alone, particle by particle (2D, with a target and a
// potential; direct and sliced summation).
TEST(InteractingParticles, SameOnAnyNumberOfRanks2D)
{
  for (const std::string summation : {"direct", "sliced"})
    {
      const std::string prm =
          "set Dimension = 2\n"
          "subsection Mesh\n  set Lower corner = -2, -2\n  set Upper corner = 2, 2\n"
          "  set Refinement = 3\nend\n"
          "subsection Physics\n  set Model = interaction\n  set Diffusion = 0\n"
          "  set Potential = (x^2 + y^2) / 8\n  set Potential gradient = x / 4; y / 4\nend\n"
          "subsection Interaction\n  set Velocity summation = " +
          summation +
          "\n  subsection Target\n"
          "    set Density = exp(-((x - 0.5)^2 + y^2) / 0.5)\n  end\nend\n"
          "subsection Initial density\n  set Expression = exp(-(x^2 + (y - 0.3)^2) / 0.3)\nend\n"
          "subsection Time\n  set End time = 0.2\n  set Time step = 0.05\nend\n"
          "subsection Particles\n  set Number = 150\n  set Dynamics = interacting\nend\n";
      const auto [start, all]        = run_particles<2>(prm);
      const auto [start_self, alone] = run_particles<2>(prm, MPI_COMM_SELF);
      ASSERT_EQ(all.size(), alone.size()) << summation;
      double largest_move = 0;
      for (const auto &[id, x] : all)
        {
          EXPECT_EQ(x, alone.at(id)) << summation << ", particle " << id;
          largest_move = std::max(largest_move, x.distance(start.at(id)));
        }
      // They moved (a test of nothing otherwise).
      EXPECT_GT(largest_move, 0.05) << summation;
    }
}

// eps > 0: the McKean-Vlasov particles dX_i = -grad(W * mu_N)(X_i) dt + sqrt(2 eps) dW_i with
// W = |z|^2 / 2 (attraction, no repulsion): the drift is -(X_i - m_N) exactly, m_N the
// particles' mean, so the centred variance S^2 = mean (X_i - m_N)^2 contracts by SSP-RK3's
// R = 1 - dt + dt^2/2 - dt^3/6 per step and the noise adds 2 eps dt (1 - 1/N) (its own mean
// removed): E S_n^2 = R^{2n} S_0^2 + 2 eps dt (1 - 1/N) (1 - R^{2n}) / (1 - R^2), within
// Monte-Carlo error sqrt(2/N) S^2 (the ensemble is nearly Gaussian); the mean takes a random
// walk of variance 2 eps T / N. The ensemble is the same on any number of ranks. (The mesh
// is coarse so that the steps are dt, not the CFL step of rho_h's velocity: that one
// depends on rho_h, which CG solves give to round-off only.)
TEST(InteractingParticles, McKeanVlasovNoiseMatchesTheVarianceRecursion)
{
  const double       eps = 0.25, dt = 0.05, T = 1;
  const unsigned int n = 1000;
  std::ostringstream prm;
  prm << "set Dimension = 1\n"
      << "subsection Mesh\n  set Lower corner = -6\n  set Upper corner = 6\n"
      << "  set Refinement = 3\nend\n" // coarse: the CFL step stays above dt
      << "subsection Physics\n  set Model = interaction\n  set Diffusion = " << eps << "\nend\n"
      << "subsection Interaction\n  subsection Kernel\n    set Type = attractive-repulsive\n"
      << "    set Attractive exponent = 2\n    set Repulsive exponent = none\n  end\nend\n"
      << "subsection Initial density\n  set Expression = exp(-(x - 0.5)^2 / 2)\nend\n"
      << "subsection Time\n  set End time = " << T << "\n  set Time step = " << dt << "\nend\n"
      << "subsection Particles\n  set Number = " << n
      << "\n  set Dynamics = interacting\n  set Seed = 9\nend\n";
  const auto [initial, final] = run_particles<1>(prm.str());
  ASSERT_EQ(final.size(), n) << "a particle left the domain";
  const auto moments = [](const std::map<std::uint64_t, Point<1>> &x) {
    double mean = 0, square = 0;
    for (const auto &[id, p] : x)
      mean += p[0] / x.size();
    for (const auto &[id, p] : x)
      square += (p[0] - mean) * (p[0] - mean) / x.size();
    return std::make_pair(mean, square);
  };
  const auto [m0, s0]      = moments(initial);
  const auto [m1, s1]      = moments(final);
  const double       R     = 1 - dt + dt * dt / 2 - dt * dt * dt / 6;
  const unsigned int steps = std::lround(T / dt);
  const double       decay = std::pow(R, 2.0 * steps);
  const double expected    = decay * s0 + 2 * eps * dt * (1 - 1.0 / n) * (1 - decay) / (1 - R * R);
  const double error       = std::sqrt(2.0 / n) * expected;
  std::cout << "  centred variance " << s0 << " -> " << s1 << ", recursion " << expected << " ("
            << (s1 - expected) / error << " standard errors; mean-field limit eps + (S0^2 - eps) "
            << "e^{-2T} = " << eps + (s0 - eps) * std::exp(-2 * T) << "); mean " << m0 << " -> "
            << m1 << std::endl;
  EXPECT_LT(std::abs(s1 - expected), 4 * error);
  EXPECT_LT(std::abs(m1 - m0), 4 * std::sqrt(2 * eps * T / n));
  // The noise is there: without it S^2 would be decay * S0^2, many standard errors below.
  EXPECT_GT(s1 - decay * s0, 10 * error);

  const auto [initial_self, alone] = run_particles<1>(prm.str(), MPI_COMM_SELF);
  for (const auto &[id, x] : final)
    EXPECT_EQ(x, alone.at(id)) << "particle " << id;
}
