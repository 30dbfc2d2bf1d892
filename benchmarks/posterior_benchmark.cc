// The posterior benchmark: the cost of V = prior + sum over the rows of a data file of
// a negative log-likelihood (Physics/Likelihood), for the logistic regression of
// problems/posterior-2d.prm with 10 to 10^4 rows (doses drawn at random, fixed seed):
// - V and grad V per point (per row), with the gradient expression and by differences;
// - the Fokker-Planck solver's setup (V at every quadrature point and node, once) and
//   one step, Q1 on 64 x 64 cells, against the same problem without data (eps = 50
//   there, so that exp(-V/eps) of 10^3 rows stays in range);
// - Langevin particle-steps per second (the drift is grad V at every step).
//
//   posterior_benchmark              (1 rank)
#include <densityflow/mesh/mesh.h>
#include <densityflow/particles/particle_ensemble.h>
#include <densityflow/physics/likelihood.h>
#include <densityflow/physics/physics.h>
#include <densityflow/simulation/problem_parameters.h>
#include <densityflow/simulation/simulation.h>

#include <deal.II/base/mpi.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

using namespace densityflow;

namespace
{
const std::string nll      = "log(1 + exp(x + y * dose)) - dead * (x + y * dose)";
const std::string gradient = "1 / (1 + exp(-(x + y * dose))) - dead; "
                             "dose * (1 / (1 + exp(-(x + y * dose))) - dead)";

std::string write_data(const unsigned int rows)
{
  const std::string file = "/tmp/posterior_benchmark_" + std::to_string(rows) + ".csv";
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    {
      std::mt19937                           generator(rows);
      std::uniform_real_distribution<double> uniform(-2, 2);
      std::ofstream                          out(file);
      out << "dose,dead\n";
      for (unsigned int r = 0; r < rows; ++r)
        {
          const double dose = uniform(generator);
          const double p    = 1 / (1 + std::exp(-(-0.4 + 1.3 * dose)));
          out << dose << "," << (uniform(generator) < 4 * p - 2 ? 1 : 0) << "\n";
        }
    }
  MPI_Barrier(MPI_COMM_WORLD);
  return file;
}

double seconds_since(const std::chrono::steady_clock::time_point start)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/** Seconds per call of @p f over a fixed set of points. */
template <typename F>
double per_point(const F &f, const unsigned int n)
{
  std::mt19937                           generator(1);
  std::uniform_real_distribution<double> uniform(-3, 3);
  std::vector<Point<2>>                  points(n);
  for (auto &p : points)
    p = Point<2>(uniform(generator), uniform(generator));
  double     sink  = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const auto &p : points)
    sink += f(p);
  const double seconds = seconds_since(start) / n;
  if (sink == 1.2345) // keeps the calls
    std::printf(" ");
  return seconds;
}

/** Setup and first-step seconds of posterior-2d with @p rows rows (0: the prior alone). */
std::pair<double, double> fokker_planck(const unsigned int rows)
{
  std::vector<std::string> overrides = {"Output/Write files=false",
                                        "Particles/Number=0",
                                        "Time/End time=0.02",
                                        "Mesh/Refinement=6",
                                        "Discretization/Degree=1",
                                        // V/eps of 10^3 rows overflows exp(V/(2 eps)) at
                                        // the corners; the cost of V does not depend on eps.
                                        "Physics/Diffusion=50"};
  if (rows == 0)
    overrides.insert(overrides.end(),
                     {"Physics/Likelihood/Data file=",
                      "Physics/Likelihood/Negative log-likelihood=",
                      "Physics/Likelihood/Negative log-likelihood gradient="});
  else
    overrides.push_back("Physics/Likelihood/Data file=" + write_data(rows));
  const ProblemParameters parameters = ProblemParameters::from_file(
      std::string(DENSITYFLOW_PROBLEMS) + "/posterior-2d.prm", overrides);
  std::ostringstream log;
  MPI_Barrier(MPI_COMM_WORLD);
  auto          start = std::chrono::steady_clock::now();
  Simulation<2> simulation(parameters, MPI_COMM_WORLD, log);
  const double  setup = seconds_since(start);
  start               = std::chrono::steady_clock::now();
  simulation.run();
  return {setup, seconds_since(start)};
}
} // namespace

int main(int argc, char **argv)
{
  Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  const bool                       root = Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;

  const auto [setup0, step0] = fokker_planck(0);
  if (root)
    std::printf("Posterior (logistic regression, 2 parameters), 1 core\n"
                "prior alone: Fokker-Planck setup %.3f s, one BDF2 step + output %.3f s "
                "(Q1, 4225 DoFs)\n"
                "%6s %10s %10s %12s %12s %10s %10s %14s\n",
                setup0,
                step0,
                "rows",
                "V us/pt",
                "ns/row",
                "gradV expr",
                "gradV diff",
                "FP setup",
                "FP step",
                "Langevin p-s/s");
  for (const unsigned int rows : {10u, 100u, 1000u, 10000u})
    {
      LikelihoodParameters parameters;
      parameters.data_file                        = write_data(rows);
      parameters.resolved_data_file               = parameters.data_file;
      parameters.negative_log_likelihood          = nll;
      parameters.negative_log_likelihood_gradient = gradient;
      const Likelihood<2> with_gradient(parameters, {});
      parameters.negative_log_likelihood_gradient = "";
      const Likelihood<2> differences(parameters, {});
      const unsigned int  n = std::max(20u, 200000u / rows);
      const double V = per_point([&](const Point<2> &p) { return with_gradient.value(p, 0); }, n);
      const double g =
          per_point([&](const Point<2> &p) { return with_gradient.gradient(p, 0)[0]; }, n);
      const double d =
          per_point([&](const Point<2> &p) { return differences.gradient(p, 0)[0]; }, n / 8);
      const auto [setup, step] = rows <= 1000 ? fokker_planck(rows) : std::make_pair(0.0, 0.0);

      // Langevin particles on the posterior: one drift (grad V) per particle-step.
      MeshParameters mesh_parameters;
      mesh_parameters.lower_corner = {-3, -3};
      mesh_parameters.upper_corner = {3, 3};
      mesh_parameters.refinement   = 4;
      const Mesh<2>     mesh(mesh_parameters, 1, MPI_COMM_WORLD);
      PhysicsParameters physics_parameters;
      physics_parameters.potential                                   = "(x^2 + y^2) / 2";
      physics_parameters.potential_gradient                          = "x; y";
      physics_parameters.likelihood                                  = parameters;
      physics_parameters.likelihood.negative_log_likelihood_gradient = gradient;
      const Physics<2>   physics(physics_parameters, {});
      ParticleParameters particle_parameters;
      particle_parameters.number   = std::max(100u, 1000000u / rows);
      particle_parameters.dynamics = {ParticleDynamics::langevin};
      ParticleEnsemble<2> ensemble(
          ParticleDynamics::langevin, 0, particle_parameters, mesh, physics);
      ensemble.sample(Expression<2>("exp(-(x^2 + y^2) / 2)", {}, "Initial density/Expression"));
      const auto start = std::chrono::steady_clock::now();
      for (unsigned int s = 0; s < 5; ++s)
        ensemble.advance(0.01, nullptr);
      const double rate = 5.0 * particle_parameters.number / seconds_since(start);
      if (root)
        std::printf("%6u %10.3f %10.1f %12.3f %12.3f %10.3f %10.3f %14.3e\n",
                    rows,
                    V * 1e6,
                    V * 1e9 / rows,
                    g * 1e6,
                    d * 1e6,
                    setup,
                    step,
                    rate);
    }
  if (root)
    std::printf("(V, grad V in microseconds per point; FP setup and step in seconds, not run "
                "for 10^4 rows)\n");
  return 0;
}
