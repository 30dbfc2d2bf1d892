// Particle systems against exact solutions and closed forms: flow maps (RK4 order,
// carried log-density), Langevin against the exact moments of Euler-Maruyama, MALA on
// its stationary law, the probability-flow ODE against the exact OU flow map, and
// reflection at walls.
#include <densityflow/particles/particle_ensemble.h>

#include <deal.II/base/mpi.h>

#include <gtest/gtest.h>

#include <map>

#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
bool root()
{
  return Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
}

/** A simulation of @p prm, kept alive so that its particles can be inspected. */
template <int dim>
std::unique_ptr<Simulation<dim>> simulation(const std::string       &prm,
                                            std::vector<std::string> overrides = {})
{
  overrides.push_back("Output/Write files=false");
  static std::ostringstream log;
  return std::make_unique<Simulation<dim>>(
      ProblemParameters::from_string(prm, overrides), MPI_COMM_WORLD, log);
}

const std::string rotation = R"(
set Dimension = 2
set Constants = omega = 6.283185307179586
subsection Mesh
  set Lower corner = -1, -1
  set Upper corner = 1, 1
  set Refinement = 3
end
subsection Physics
  set Model = transport
  set Velocity = -omega * y; omega * x
  set Diffusion = 0
end
subsection Initial density
  set Expression = exp(-((x - 0.4)^2 + y^2) / 0.04)
end
subsection Time
  set End time = 1
  set Scheme = backward-euler
end
subsection Discretization
  set Degree = 0
end
subsection Particles
  set Number = 500
  set Dynamics = flow-map
end
)";
} // namespace

// After one turn every particle is back where it started; RK4's error is O(dt^4).
TEST(Particles, FlowMapReturnsHomeAtFourthOrder)
{
  std::vector<double> errors;
  for (const std::string dt : {"0.05", "0.025", "0.0125"})
    {
      auto       s       = simulation<2>(rotation, {"Time/Time step=" + dt});
      const auto initial = gather_positions(*s->particle_systems()[0]);
      s->run();
      const auto final = gather_positions(*s->particle_systems()[0]);
      ASSERT_EQ(initial.size(), 500u);
      ASSERT_EQ(final.size(), 500u);
      double error = 0;
      for (const auto &[i, x] : initial)
        error = std::max(error, x.distance(final.at(i)));
      errors.push_back(error);
    }
  if (root())
    std::cout << "  flow map after one turn: " << errors[0] << " " << errors[1] << " " << errors[2]
              << ", orders " << observed_order(errors[0], errors[1]) << " "
              << observed_order(errors[1], errors[2]) << std::endl;
  EXPECT_GE(observed_order(errors[1], errors[2]), 3.8);
}

// b = -x: X(t) = e^{-t} X(0) and log rho(X(t), t) = log rho0(X(0)) + 3 t, so the carried
// log-density must equal the exact e^{3t} rho0(e^t x) / Z at the particle.
TEST(Particles, CarriedLogDensityOfCompression)
{
  const std::string   prm = R"(
set Dimension = 3
subsection Mesh
  set Lower corner = -1, -1, -1
  set Upper corner = 1, 1, 1
  set Refinement = 2
end
subsection Physics
  set Model = transport
  set Velocity = -x; -y; -z
  set Diffusion = 0
end
subsection Initial density
  set Expression = exp(-((x - 0.2)^2 + (y - 0.1)^2 + z^2) / 0.045)
end
subsection Time
  set End time = 0.5
  set Time step = 0.01
  set Scheme = backward-euler
end
subsection Discretization
  set Degree = 0
end
subsection Particles
  set Number = 300
  set Dynamics = flow-map
end
)";
  auto                s   = simulation<3>(prm);
  const Expression<3> rho0("exp(-((x - 0.2)^2 + (y - 0.1)^2 + z^2) / 0.045)", {}, "test");
  const auto         &e = *s->particle_systems()[0];
  // The normalisation 1/Z is the same for every particle: log rho_0(X0) - log rho0(X0).
  const double log_Z_inverse = e.log_densities()[0] - std::log(rho0.value(e.positions()[0], 0));
  for (std::size_t k = 0; k < e.positions().size(); ++k)
    EXPECT_NEAR(
        e.log_densities()[k], std::log(rho0.value(e.positions()[k], 0)) + log_Z_inverse, 1e-12);
  s->run();
  double worst = 0;
  for (std::size_t k = 0; k < e.positions().size(); ++k)
    {
      const Point<3> back  = std::exp(0.5) * e.positions()[k];
      const double   exact = 3 * 0.5 + std::log(rho0.value(back, 0)) + log_Z_inverse;
      worst                = std::max(worst, std::abs(e.log_densities()[k] - exact));
    }
  worst = Utilities::MPI::max(worst, MPI_COMM_WORLD);
  if (root())
    std::cout << "  compression: max |carried log rho - exact| = " << worst << std::endl;
  EXPECT_LT(worst, 1e-8);
  EXPECT_EQ(e.n_particles(), 300u);
}

namespace
{
// OU in 2D with the non-diagonal A of ou-2d (eigenvalues 2, 1), eps = 0.5, on a box
// wide enough that walls play no part.
std::string ou_particles(const std::string &dynamics,
                         const std::string &initial,
                         const std::string &dt,
                         const std::string &end_time,
                         const std::string &number)
{
  OuProblem p;
  p.refinement     = 3;
  p.time_step      = std::stod(dt);
  p.end_time       = std::stod(end_time);
  p.scheme         = "backward-euler";
  std::string text = p.text();
  if (!initial.empty())
    {
      const auto at  = text.find("subsection Initial density\n  set Expression = ");
      const auto end = text.find("\nend", at);
      text.replace(at, end - at, "subsection Initial density\n  set Expression = " + initial);
    }
  return text + "subsection Particles\n set Number = " + number + "\n set Dynamics = " + dynamics +
         "\n set Seed = 7\nend\n";
}

SymmetricTensor<2, 2> ou_matrix()
{
  OuProblem p;
  return p.matrix<2>();
}

/** |empirical - expected| in units of the Monte-Carlo standard error, largest entry. */
double standard_errors(const ParticleMoments<2>    &m,
                       const Tensor<1, 2>          &mean,
                       const SymmetricTensor<2, 2> &covariance)
{
  double worst = 0;
  for (unsigned int i = 0; i < 2; ++i)
    {
      worst = std::max(worst, std::abs(m.mean[i] - mean[i]) / std::sqrt(covariance[i][i] / m.n));
      for (unsigned int j = i; j < 2; ++j)
        {
          const double se = std::sqrt(
              (covariance[i][i] * covariance[j][j] + covariance[i][j] * covariance[i][j]) / m.n);
          worst = std::max(worst, std::abs(m.covariance[i][j] - covariance[i][j]) / se);
        }
    }
  return worst;
}
} // namespace

// Euler-Maruyama for OU is a linear recursion, so its moments are known exactly:
// m_{n+1} = (I - dt A) m_n, S_{n+1} = (I - dt A) S_n (I - dt A)^T + 2 eps dt I. The
// particles match them within 4 standard errors, while the O(dt) bias against the exact
// OU law is many standard errors: the comparison is sharp.
TEST(Particles, LangevinMatchesEulerMaruyamaMoments)
{
  const double dt = 0.1, eps = 0.5;
  // Only the moments at the end count: no comparisons with rho_h in between.
  auto s = simulation<2>(ou_particles("langevin", "", "0.1", "1", "100000"), {"Output/Interval=0"});
  s->run();
  const ParticleMoments<2> m = s->particle_systems()[0]->moments();

  const SymmetricTensor<2, 2> A = ou_matrix();
  const Tensor<2, 2>          E = unit_symmetric_tensor<2>() - dt * Tensor<2, 2>(A);
  Tensor<1, 2>                mean;
  mean[0] = 1, mean[1] = 0.5;
  SymmetricTensor<2, 2> S = 0.1 * unit_symmetric_tensor<2>();
  for (unsigned int n = 0; n < 10; ++n)
    {
      mean = E * mean;
      S    = symmetrize(E * Tensor<2, 2>(S) * transpose(E)) +
          2 * eps * dt * unit_symmetric_tensor<2>();
    }
  OuProblem         p;
  const Gaussian<2> exact = p.exact<2>(1.0);
  if (root())
    std::cout << "  Langevin (dt = 0.1): " << standard_errors(m, mean, S)
              << " standard errors from the Euler-Maruyama moments, "
              << standard_errors(m, exact.mean, exact.covariance) << " from the exact OU moments"
              << std::endl;
  EXPECT_EQ(m.n, 100000u);
  EXPECT_LT(standard_errors(m, mean, S), 4.0);
  EXPECT_GT(standard_errors(m, exact.mean, exact.covariance), 4.0);
}

// A second statistic of the Langevin amplitude: Euler-Maruyama for 1D OU,
// X' = X - a X dt + sqrt(2 eps dt) xi, has the stationary variance v solving
// v = (1 - a dt)^2 v + 2 eps dt, i.e. v = eps / (a (1 - a dt / 2)) (0.5556 here, not the
// OU law's eps / a = 0.5). Started near it, after n steps the variance is v up to
// (1 - a dt)^{2n} = 1.3e-4 of the start's offset. The walls at 10 standard deviations
// reflect nothing. The sample variance of N Gaussian particles has the standard error
// v sqrt(2 / N).
TEST(Particles, LangevinStationaryVarianceOfEulerMaruyama)
{
  const double       a = 1, eps = 0.5, dt = 0.2, end_time = 4;
  const std::size_t  n = 40000;
  std::ostringstream prm;
  prm << "set Dimension = 1\nset Constants = a = " << a << "\n"
      << "subsection Mesh\n set Lower corner = -8\n set Upper corner = 8\n set Refinement = "
         "6\nend\n"
      << "subsection Physics\n set Potential = a * x^2 / 2\n set Potential gradient = a * x\n"
      << " set Diffusion = " << eps << "\nend\n"
      << "subsection Initial density\n set Expression = exp(-a * x^2 / (2 * eps))\nend\n"
      << "subsection Time\n set End time = " << end_time << "\n set Time step = " << dt
      << "\n set Scheme = backward-euler\nend\n"
      << "subsection Particles\n set Number = " << n << "\n set Dynamics = langevin\n"
      << " set Seed = 11\nend\n";
  auto s = simulation<1>(prm.str(), {"Output/Interval=0"}); // the end's moments only
  s->run();
  const ParticleMoments<1> m = s->particle_systems()[0]->moments();
  ASSERT_EQ(m.n, n);
  EXPECT_EQ(s->particle_systems()[0]->n_lost(), 0u);

  const double stationary = eps / (a * (1 - a * dt / 2));
  const double variance   = m.covariance[0][0];
  const double error      = stationary * std::sqrt(2.0 / n);
  if (root())
    std::cout << "  1D OU, Euler-Maruyama at dt = " << dt << ": variance " << variance
              << ", stationary " << stationary << " (" << (variance - stationary) / error
              << " standard errors), OU law " << eps / a << " (" << (variance - eps / a) / error
              << ")" << std::endl;
  EXPECT_LT(std::abs(variance - stationary), 4 * error);
  EXPECT_LT(std::abs(m.mean[0]), 4 * std::sqrt(stationary / n));
  // Sharp: the exact OU variance, which a time-step error of the noise could mimic, is
  // many standard errors away.
  EXPECT_GT(std::abs(variance - eps / a), 10 * error);
}

// Started at pi = N(0, eps A^{-1}) with a large step, MALA keeps pi; plain Langevin with
// the same step drifts towards its biased stationary law (25% too wide here).
TEST(Particles, MalaKeepsTheStationaryLaw)
{
  const std::string pi = "exp(-((2 * ((x + y) / sqrt(2))^2 + ((x - y) / sqrt(2))^2) / 2) / 0.5)";
  auto              s  = simulation<2>(ou_particles("mala, langevin", pi, "0.2", "2", "20000"));
  s->run();
  Gaussian<2> stationary;
  stationary.covariance = 0.5 * invert(ou_matrix());
  const double mala =
      standard_errors(s->particle_systems()[0]->moments(), stationary.mean, stationary.covariance);
  const double langevin =
      standard_errors(s->particle_systems()[1]->moments(), stationary.mean, stationary.covariance);
  const double acceptance = s->particle_systems()[0]->acceptance_rate(); // collective
  if (root())
    std::cout << "  from pi with dt = 0.2: MALA " << mala << " standard errors from pi (acceptance "
              << acceptance << "), Langevin " << langevin << std::endl;
  EXPECT_GT(acceptance, 0.5);
  EXPECT_LT(mala, 4.0);
  EXPECT_GT(langevin, 10.0);
}

// For OU from N(m0, s0 I) the probability flow is affine: X_t = m_t + (S_t / s0)^{1/2} (X_0 - m0).
// The particles, driven by the finite-element solution, follow it: moments within 1e-3 of
// those of the exactly mapped initial sample, and each particle close to its exact image.
TEST(Particles, ProbabilityFlowFollowsTheExactFlowMap)
{
  OuProblem p;
  p.degree     = 2;
  p.refinement = 6;
  p.time_step  = 0.005;
  p.end_time   = 1;
  const std::string prm =
      p.text() +
      "subsection Particles\n set Number = 2000\n set Dynamics = probability-flow\nend\n";
  auto       s       = simulation<2>(prm);
  const auto initial = gather_positions(*s->particle_systems()[0]);
  s->run();
  const auto final = gather_positions(*s->particle_systems()[0]);
  ASSERT_EQ(final.size(), initial.size());

  const Gaussian<2>           exact = p.exact<2>(1.0);
  const SymmetricTensor<2, 2> Phi = symmetric_sqrt(SymmetricTensor<2, 2>(exact.covariance / p.s0));
  Tensor<1, 2>                m0;
  m0[0] = p.m0[0], m0[1] = p.m0[1];
  double                worst = 0;
  std::vector<Point<2>> mapped, reached;
  for (const auto &[i, x0] : initial)
    {
      const Point<2> image(exact.mean + Phi * (x0 - Point<2>(m0)));
      worst = std::max(worst, image.distance(final.at(i)));
      mapped.push_back(image);
      reached.push_back(final.at(i));
    }
  const auto moments = [](const std::vector<Point<2>> &points) {
    Tensor<1, 2> mean;
    for (const auto &x : points)
      mean += x / double(points.size());
    SymmetricTensor<2, 2> cov;
    for (const auto &x : points)
      cov += symmetrize(outer_product(x - mean, x - mean)) / double(points.size());
    return std::make_pair(mean, cov);
  };
  const auto [mean_mapped, cov_mapped]   = moments(mapped);
  const auto [mean_reached, cov_reached] = moments(reached);
  if (root())
    std::cout << "  probability flow: |mean - exact| = " << (mean_reached - mean_mapped).norm()
              << ", |cov - exact| = " << (cov_reached - cov_mapped).norm() << ", worst particle "
              << worst << std::endl;
  EXPECT_LT((mean_reached - mean_mapped).norm(), 1e-3);
  EXPECT_LT((cov_reached - cov_mapped).norm(), 1e-3);
  // Tail particles see the less accurate grad log rho_h (measured 0.010; 0.012 with the
  // quotient grad u_h / u_h before the log interpolant); evaluating the
  // corrector velocity in the predictor's stale cells doubles this.
  EXPECT_LT(worst, 1.6e-2);
}

// Reflecting walls keep the uniform density uniform and lose nothing: pure diffusion on
// the unit square from the uniform law, mean and variance within 4 standard errors.
TEST(Particles, ReflectingWallsKeepTheUniformLaw)
{
  const std::string prm = R"(
set Dimension = 2
subsection Mesh
  set Lower corner = 0, 0
  set Upper corner = 1, 1
  set Refinement = 2
end
subsection Physics
  set Diffusion = 1
end
subsection Initial density
  set Expression = 1
end
subsection Time
  set End time = 0.5
  set Time step = 0.01
end
subsection Particles
  set Number = 20000
  set Dynamics = langevin
end
)";
  auto              s   = simulation<2>(prm);
  s->run();
  const auto              &e = *s->particle_systems()[0];
  const ParticleMoments<2> m = e.moments();
  Tensor<1, 2>             mean;
  mean[0] = mean[1]                   = 0.5;
  const SymmetricTensor<2, 2> uniform = unit_symmetric_tensor<2>() / 12.0;
  EXPECT_EQ(m.n, 20000u);
  EXPECT_EQ(e.n_lost(), 0u);
  EXPECT_LT(standard_errors(m, mean, uniform), 4.0);
}

// On a domain that is not a box (the Gmsh mesh with a hole), moves through the walls
// are undone: no particle is lost and all of them stay in cells.
TEST(Particles, WallsOfAMeshWithAHole)
{
  ProblemParameters parameters =
      ProblemParameters::from_file(std::string(PROBLEMS_DIRECTORY) + "/obstacle-2d.prm",
                                   {"Output/Write files=false",
                                    "Mesh/Refinement=1",
                                    "Time/End time=0.4",
                                    "Time/Time step=0.05",
                                    "Particles/Number=2000",
                                    "Particles/Dynamics=langevin, mala",
                                    "Output/Interval=0"});
  std::ostringstream log;
  Simulation<2>      s(parameters, MPI_COMM_WORLD, log);
  s.run();
  for (const auto &e : s.particle_systems())
    {
      EXPECT_EQ(e->n_particles(), 2000u) << to_string(e->dynamics());
      EXPECT_EQ(e->n_lost(), 0u);
    }
}
