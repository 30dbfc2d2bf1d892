// Bayesian posteriors (Physics/Likelihood): V = prior + sum over the rows of a data file
// of a negative log-likelihood. V, grad V and Laplace V against the sum evaluated here
// directly; every kind of bad data file refused with one message naming file and line;
// Langevin and MALA particles on a posterior against the Fokker-Planck stationary density
// within Monte-Carlo error.
#include <densityflow/base/exceptions.h>
#include <densityflow/physics/likelihood.h>
#include <densityflow/physics/physics.h>

#include <deal.II/base/mpi.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <random>

#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
bool root()
{
  return Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
}

/** A file of the test's own, one per rank so that ranks never share one. */
std::string write_file(const std::string &name, const std::string &text)
{
  std::filesystem::create_directories(TEST_WORK_DIRECTORY);
  const std::string path = std::string(TEST_WORK_DIRECTORY) + "/" + name + "-rank" +
                           std::to_string(Utilities::MPI::this_mpi_process(MPI_COMM_WORLD)) +
                           ".csv";
  std::ofstream(path) << text;
  return path;
}

struct Row
{
  double v, w;
};

/** Rows of a normal-ish sample with a second column, fixed seed, up to 1e3 in size. */
std::vector<Row> random_rows(const unsigned int n)
{
  std::mt19937                     generator(42);
  std::normal_distribution<double> normal(0.4, 0.9);
  std::vector<Row>                 rows(n);
  for (auto &row : rows)
    row = {normal(generator), 3 * normal(generator)};
  rows[0].w = 1e3; // a large term beside small ones: the sum must be compensated
  return rows;
}

std::string csv_of(const std::vector<Row> &rows)
{
  std::ostringstream out;
  out << std::setprecision(17) << "# a comment line\nv, w\n";
  for (const auto &row : rows)
    out << row.v << ", " << row.w << "\n";
  return out.str();
}

// The per-row term and its derivatives, written out here as the test's reference.
// l = 0.5 ((v - x) / exp(y))^2 + y + c w x^2 y
constexpr double c = 0.01;
double           term(const Row &r, const Point<2> &p)
{
  const double z = (r.v - p[0]) * std::exp(-p[1]);
  return 0.5 * z * z + p[1] + c * r.w * p[0] * p[0] * p[1];
}
Tensor<1, 2> term_gradient(const Row &r, const Point<2> &p)
{
  const double e2 = std::exp(-2 * p[1]), d = r.v - p[0];
  Tensor<1, 2> g;
  g[0] = -d * e2 + 2 * c * r.w * p[0] * p[1];
  g[1] = -d * d * e2 + 1 + c * r.w * p[0] * p[0];
  return g;
}
double term_laplacian(const Row &r, const Point<2> &p)
{
  const double e2 = std::exp(-2 * p[1]), d = r.v - p[0];
  return e2 + 2 * c * r.w * p[1] + 2 * d * d * e2;
}

std::string problem(const std::string &file, const std::string &gradient)
{
  return "set Dimension = 2\nset Constants = c = 0.01, s0 = 2\n"
         "subsection Physics\n  set Potential = (x^2 + y^2) / (2 * s0^2)\n"
         "  subsection Likelihood\n    set Data file = " +
         file +
         "\n    set Negative log-likelihood = 0.5 * ((v - x) / exp(y))^2 + y + c * w * x^2 * y\n"
         "    set Negative log-likelihood gradient = " +
         gradient + "\n  end\nend\n";
}

Physics<2> physics_of(const std::string &prm)
{
  const ProblemParameters parameters = ProblemParameters::from_string(prm);
  return Physics<2>(parameters.physics, parameters.constants);
}
} // namespace

// V = prior + sum_i l(x; row i) at random points, with and without the gradient
// expression. Tolerances: the value and the gradient expression are the same sums up to
// round-off (1e-13 of the sum of |terms|); differences of fourth order with h = 1e-3 are
// off by h^4 |V^(5)| / 30 plus round-off 1e-16 |V| / h, both below 1e-10 (1 + |V|) here;
// the Laplacian by second differences (h = 1e-2) by h^4 |V^(6)| / 90 + 1e-16 |V| / h^2,
// below 1e-7 (1 + |V|).
TEST(Posterior, PotentialIsPriorPlusTheSumOverRows)
{
  const std::vector<Row> rows = random_rows(200);
  const std::string      file = write_file("sum", csv_of(rows));
  const Physics<2>       exact_gradient =
      physics_of(problem(file,
                         "-(v - x) * exp(-2 * y) + 2 * c * w * x * y; "
                         "-(v - x)^2 * exp(-2 * y) + 1 + c * w * x^2"));
  const Physics<2> differences = physics_of(problem(file, ""));
  EXPECT_FALSE(exact_gradient.potential().is_constant_in_space());
  EXPECT_FALSE(exact_gradient.potential().depends_on_time());

  std::mt19937                           generator(3);
  std::uniform_real_distribution<double> uniform(-1.5, 1.5);
  double worst_value = 0, worst_gradient = 0, worst_differences = 0, worst_laplacian = 0;
  for (unsigned int k = 0; k < 50; ++k)
    {
      const Point<2> p(uniform(generator), uniform(generator));
      double         V = (p[0] * p[0] + p[1] * p[1]) / 8, scale = std::abs(V), laplacian = 0.5;
      Tensor<1, 2>   grad = p / 4.0;
      for (const auto &row : rows)
        {
          V += term(row, p);
          scale += std::abs(term(row, p));
          grad += term_gradient(row, p);
          laplacian += term_laplacian(row, p);
        }
      const double grad_scale = 1 + grad.norm() + scale;
      worst_value =
          std::max(worst_value, std::abs(exact_gradient.potential().value(p, 0) - V) / scale);
      worst_gradient = std::max(
          worst_gradient, (exact_gradient.potential().gradient(p, 0) - grad).norm() / grad_scale);
      worst_differences = std::max(
          worst_differences, (differences.potential().gradient(p, 0) - grad).norm() / (1 + scale));
      worst_laplacian =
          std::max(worst_laplacian,
                   std::abs(differences.potential().laplacian(p, 0) - laplacian) / (1 + scale));
      // With the gradient expression the Laplacian is its divergence by differences.
      worst_laplacian =
          std::max(worst_laplacian,
                   std::abs(exact_gradient.potential().laplacian(p, 0) - laplacian) / (1 + scale));
    }
  if (root())
    std::cout << "  200 rows, 50 points: relative errors V " << worst_value << ", grad V "
              << worst_gradient << " (expression), " << worst_differences
              << " (differences), Laplace V " << worst_laplacian << std::endl;
  EXPECT_LT(worst_value, 1e-13);
  EXPECT_LT(worst_gradient, 1e-13);
  EXPECT_LT(worst_differences, 1e-10);
  EXPECT_LT(worst_laplacian, 1e-7);
}

// Rows of very different size: 1e16 + 1 - 1e16 + 1 is 2, which Neumaier's compensated
// sum gets exactly and a naive sum gets as 1 (1e16 + 1 rounds to 1e16).
TEST(Posterior, RowsAreSummedWithCompensation)
{
  LikelihoodParameters parameters;
  parameters.data_file = parameters.resolved_data_file =
      write_file("compensated", "w\n1e16\n1\n-1e16\n1\n");
  parameters.negative_log_likelihood = "w + 0 * x";
  const Likelihood<2> likelihood(parameters, {});
  EXPECT_EQ(likelihood.n_rows(), 4u);
  EXPECT_EQ(likelihood.value(Point<2>(0.3, 0.1), 0), 2.0);
}

// Every bad data file: one InputError whose message names the file, the line and what
// is wrong. (The end-to-end run under MPI is in bad_input_test.)
TEST(Posterior, BadDataFilesAreRefusedWithFileAndLine)
{
  const auto message = [](const std::string &data, const std::string &expression = "") {
    const std::string file = write_file("bad", data);
    try
      {
        LikelihoodParameters parameters;
        parameters.data_file = parameters.resolved_data_file = file;
        parameters.negative_log_likelihood = expression.empty() ? "(v - x)^2 + y^2" : expression;
        Likelihood<2>(parameters, {{"eps", 1.0}, {"a", 2.0}});
      }
    catch (const InputError &e)
      {
        return std::string(e.what());
      }
    return std::string("no error");
  };
  const auto expect = [](const std::string &text, const std::vector<std::string> &parts) {
    for (const auto &part : parts)
      EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in: " << text;
    if (root())
      std::cout << "  " << text << std::endl;
  };
  const std::string file = "bad-rank";
  expect(message(""), {file, "is empty", "header"});
  expect(message("# only a comment\n\n"), {file, "is empty"});
  expect(message("v, w\n"), {file, "no data rows", "v, w"});
  expect(message("v, w\n1, 2\n3, abc\n"), {file, "line 3, column 'w'", "'abc' is not a number"});
  expect(message("v, w\n1, 2\n3, inf\n"), {file, "line 3, column 'w'", "not a finite number"});
  expect(message("v, w\n1, 2\n3\n"), {file, "line 3", "1 values", "2 columns"});
  expect(message("v, w\n1, 2, 3\n"), {file, "line 2", "3 values", "2 columns"});
  expect(message("v, w\n1, \n"), {file, "line 2, column 'w'", "is not a number"});
  expect(message("v, log-w\n1, 2\n"), {file, "line 1", "'log-w'", "not a name"});
  expect(message("v, v\n1, 2\n"), {file, "line 1", "'v' is repeated"});
  expect(message("v, x\n1, 2\n"), {file, "the column 'x'", "variable or constant"});
  expect(message("v, a\n1, 2\n"), {file, "the column 'a'", "variable or constant"});
  expect(message("v, w\n1, 2\n", "(v - x)^2 / sigma"),
         {"Negative log-likelihood", "'sigma' is neither a column", "v, w"});
  expect(message("v, w\n1, 2\n", "(v - x)^2 +"), {"Negative log-likelihood", "cannot be parsed"});

  // A missing file, and a data file or expression without the other, from the .prm.
  try
    {
      physics_of(problem("/nonexistent/data.csv", ""));
      ADD_FAILURE() << "a missing file was accepted";
    }
  catch (const InputError &e)
    {
      expect(e.what(), {"Physics/Likelihood/Data file", "cannot open", "/nonexistent/data.csv"});
    }
  EXPECT_THROW(
      ProblemParameters::from_string(
          "subsection Physics\n subsection Likelihood\n  set Data file = d.csv\n end\nend\n"),
      InputError);
  EXPECT_THROW(ProblemParameters::from_string("subsection Physics\n subsection Likelihood\n  set "
                                              "Negative log-likelihood = x^2\n end\nend\n"),
               InputError);
}

namespace
{
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

// The posterior of the mean x and log standard deviation y of 8 observations (prior
// N(0, 2^2) on each; on the box: mean (0.5902, -0.3985), sd (0.256, 0.283) by brute-force
// quadrature). Density and particles start from the tempered posterior pi^0.7 (written
// out with the data's sums 4.8 and 5.5736: a start that decays like pi keeps
// rho0 / sqrt(pi) bounded, which the weighted solver needs) and relax to pi: the
// Fokker-Planck density (Q1 lumped, h = 0.05, backward Euler) and 4000 Langevin and 4000
// MALA particles (step 2e-3), compared at t = 0.8. The particles' means and covariances
// agree with the density's within 4.5 Monte-Carlo standard errors (Gaussian standard
// errors of the mean and of the covariance). Euler-Maruyama's bias in the variance,
// about dt |Hess V| / 2 = 1.6%, is 0.7 standard errors; the walls hold both alike (pi
// restricted to the box). The density's mean is the quadrature's within 1e-3 (left of
// the start's offset at t = 0.8: 2e-4; Q1's error at h = 0.05: 1e-4).
TEST(Posterior, LangevinAndMalaAgreeWithTheStationaryDensity)
{
  const std::string file =
      write_file("observations", "v\n0.91\n-0.32\n1.47\n0.18\n0.66\n1.21\n-0.05\n0.74\n");
  const std::string prm = R"(
set Dimension = 2
subsection Mesh
  set Lower corner = -1, -1.6
  set Upper corner = 2.2, 0.8
  set Subdivisions = 4, 3
  set Refinement = 4
end
subsection Physics
  set Potential = (x^2 + y^2) / 8
  subsection Likelihood
    set Data file = )" + file +
                          R"(
    set Negative log-likelihood = 0.5 * ((v - x) * exp(-y))^2 + y
    set Negative log-likelihood gradient = -(v - x) * exp(-2 * y); 1 - (v - x)^2 * exp(-2 * y)
  end
end
subsection Initial density
  set Expression = exp(-0.7 * ((x^2 + y^2) / 8 + 0.5 * exp(-2 * y) * (5.5736 - 9.6 * x + 8 * x^2) + 8 * y))
end
subsection Time
  set End time = 0.8
  set Time step = 0.02
  set Scheme = backward-euler
end
subsection Discretization
  set Degree = 1
end
subsection Particles
  set Number = 4000
  set Dynamics = langevin, mala
  set Time step = 0.002
  set Seed = 5
end
subsection Distances
  set Floor samples = 0
end
)";
  std::ostringstream log;
  Simulation<2>      s(
      ProblemParameters::from_string(prm, {"Output/Write files=false"}), MPI_COMM_WORLD, log);
  s.run();
  const RunResult       fp = result_of(s);
  Tensor<1, 2>          mean;
  SymmetricTensor<2, 2> covariance;
  mean[0]                 = fp.last("mean_x");
  mean[1]                 = fp.last("mean_y");
  covariance[0][0]        = fp.last("cov_xx");
  covariance[0][1]        = fp.last("cov_xy");
  covariance[1][1]        = fp.last("cov_yy");
  const double langevin   = standard_errors(s.particle_systems()[0]->moments(), mean, covariance);
  const double mala       = standard_errors(s.particle_systems()[1]->moments(), mean, covariance);
  const double acceptance = s.particle_systems()[1]->acceptance_rate(); // collective
  if (root())
    std::cout << "  posterior: Fokker-Planck mean (" << mean << "), covariance (" << covariance
              << "); Langevin " << langevin << ", MALA " << mala
              << " standard errors from it (acceptance " << acceptance << ")" << std::endl;
  EXPECT_NEAR(mean[0], 0.59020, 1e-3);
  EXPECT_NEAR(mean[1], -0.39851, 1e-3);
  EXPECT_LT(langevin, 4.5);
  EXPECT_LT(mala, 4.5);
}
