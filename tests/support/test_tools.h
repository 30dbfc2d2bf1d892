#pragma once
// Shared helpers of the tests: running a problem in memory, and the Ornstein-Uhlenbeck
// problems whose exact solutions the tests compare against.

#include <densityflow/simulation/problem_parameters.h>
#include <densityflow/simulation/simulation.h>

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <support/closed_forms.h>

namespace densityflow::testing
{
/** The diagnostics of a run, by column name. */
struct RunResult
{
  std::vector<std::string>         columns;
  std::vector<std::vector<double>> rows;

  double value(const std::size_t row, const std::string &column) const
  {
    for (std::size_t c = 0; c < columns.size(); ++c)
      if (columns[c] == column)
        return rows.at(row)[c];
    throw std::out_of_range("no column " + column);
  }
  double last(const std::string &column) const { return value(rows.size() - 1, column); }
};

template <int dim>
RunResult result_of(const Simulation<dim> &simulation)
{
  return {simulation.diagnostics().columns(), simulation.diagnostics().rows()};
}

/** Runs a problem given as parameter-file text, in memory (no files), silently. */
inline RunResult run(const std::string       &prm,
                     std::vector<std::string> overrides    = {},
                     const MPI_Comm           communicator = MPI_COMM_WORLD)
{
  overrides.push_back("Output/Write files=false");
  const ProblemParameters parameters = ProblemParameters::from_string(prm, overrides);
  std::ostringstream      log;
  switch (parameters.dimension)
    {
      case 1:
        {
          Simulation<1> simulation(parameters, communicator, log);
          simulation.run();
          return result_of(simulation);
        }
      case 2:
        {
          Simulation<2> simulation(parameters, communicator, log);
          simulation.run();
          return result_of(simulation);
        }
      default:
        {
          Simulation<3> simulation(parameters, communicator, log);
          simulation.run();
          return result_of(simulation);
        }
    }
}

/** All particles of a system, on every rank of @p communicator, by id. */
template <int dim>
std::map<std::uint64_t, Point<dim>> gather_positions(const ParticleEnsemble<dim> &ensemble,
                                                     const MPI_Comm communicator = MPI_COMM_WORLD)
{
  std::vector<std::pair<std::uint64_t, Point<dim>>> local;
  for (std::size_t k = 0; k < ensemble.ids().size(); ++k)
    local.emplace_back(ensemble.ids()[k], ensemble.positions()[k]);
  std::map<std::uint64_t, Point<dim>> all;
  for (const auto &part : Utilities::MPI::all_gather(communicator, local))
    all.insert(part.begin(), part.end());
  return all;
}

/** log2(e_coarse / e_fine): the observed order between two halvings. */
inline double observed_order(const double coarse_error, const double fine_error)
{
  return std::log2(coarse_error / fine_error);
}

/**
 * An Ornstein-Uhlenbeck problem V = x^T A x / 2 from N(m0, s0 I) on the box
 * [-L, L]^dim. In 2D A has the eigenvalues a1 along (1, 1) and a2 along (1, -1) (not
 * diagonal); in 3D A = diag(a1, a2, a3); in 1D A = a1.
 */
struct OuProblem
{
  unsigned int dim = 2;
  double       eps = 0.5;
  double       a1 = 2, a2 = 1, a3 = 1.5;
  double       m0[3]          = {1, 0.5, 0.25};
  double       s0             = 0.1;
  double       half_width     = 5;
  unsigned int refinement     = 5;
  unsigned int degree         = 1;
  std::string  lumping        = "auto";
  std::string  scheme         = "bdf2";
  std::string  bdf2_start     = "backward-euler";
  double       time_step      = 0.01;
  double       end_time       = 0.5;
  double       interval       = 0;
  std::string  preconditioner = "auto";
  double       tolerance      = 1e-12;

  /** The parameter file, with the exact solution. */
  std::string text() const
  {
    std::ostringstream prm;
    prm.precision(17);
    const auto gaussian_1d = [&](const std::string &coordinate, const std::string &a, double mean) {
      std::ostringstream g;
      g.precision(17);
      const std::string variance = "(" + std::to_string(s0) + " * exp(-2 * " + a +
                                   " * t) + eps / " + a + " * (1 - exp(-2 * " + a + " * t)))";
      g << "exp(-(" << coordinate << " - " << mean << " * exp(-" << a << " * t))^2 / (2 * "
        << variance << ")) / sqrt(2 * pi * " << variance << ")";
      return g.str();
    };
    std::string potential, exact, initial = "1";
    std::string lower, upper;
    const char *names[3] = {"x", "y", "z"};
    for (unsigned int d = 0; d < dim; ++d)
      {
        lower += (d ? ", " : "") + std::to_string(-half_width);
        upper += (d ? ", " : "") + std::to_string(half_width);
        initial += std::string(" * exp(-(") + names[d] + " - " + std::to_string(m0[d]) +
                   ")^2 / (2 * s0)) / sqrt(2 * pi * s0)";
      }
    if (dim == 1)
      {
        potential = "a1 * x^2 / 2";
        exact     = gaussian_1d("x", "a1", m0[0]);
      }
    else if (dim == 2)
      {
        potential = "(a1 * ((x + y) / sqrt(2))^2 + a2 * ((x - y) / sqrt(2))^2) / 2";
        exact = gaussian_1d("(x + y) / sqrt(2)", "a1", (m0[0] + m0[1]) / std::sqrt(2.0)) + " * " +
                gaussian_1d("(x - y) / sqrt(2)", "a2", (m0[0] - m0[1]) / std::sqrt(2.0));
      }
    else
      {
        potential = "(a1 * x^2 + a2 * y^2 + a3 * z^2) / 2";
        exact     = gaussian_1d("x", "a1", m0[0]) + " * " + gaussian_1d("y", "a2", m0[1]) + " * " +
                gaussian_1d("z", "a3", m0[2]);
      }
    prm << "set Dimension = " << dim << "\n"
        << "set Constants = a1 = " << a1 << ", a2 = " << a2 << ", a3 = " << a3 << ", s0 = " << s0
        << "\n"
        << "subsection Mesh\n  set Lower corner = " << lower << "\n  set Upper corner = " << upper
        << "\n  set Refinement = " << refinement << "\nend\n"
        << "subsection Physics\n  set Potential = " << potential << "\n  set Diffusion = " << eps
        << "\nend\n"
        << "subsection Initial density\n  set Expression = " << initial << "\nend\n"
        << "subsection Exact solution\n  set Expression = " << exact << "\nend\n"
        << "subsection Time\n  set End time = " << end_time << "\n  set Time step = " << time_step
        << "\n  set Scheme = " << scheme << "\n  set BDF2 start = " << bdf2_start << "\nend\n"
        << "subsection Discretization\n  set Degree = " << degree
        << "\n  set Mass lumping = " << lumping << "\nend\n"
        << "subsection Linear solver\n  set Preconditioner = " << preconditioner
        << "\n  set Tolerance = " << tolerance << "\nend\n"
        << "subsection Output\n  set Interval = " << interval << "\nend\n";
    return prm.str();
  }

  /** A as a matrix. */
  template <int d>
  SymmetricTensor<2, d> matrix() const
  {
    SymmetricTensor<2, d> A;
    if constexpr (d == 2)
      {
        A[0][0] = A[1][1] = (a1 + a2) / 2;
        A[0][1]           = (a1 - a2) / 2;
      }
    else
      {
        const double a[3] = {a1, a2, a3};
        for (int i = 0; i < d; ++i)
          A[i][i] = a[i];
      }
    return A;
  }

  /** The exact Gaussian at time t. */
  template <int d>
  Gaussian<d> exact(const double t) const
  {
    Gaussian<d> initial;
    for (int i = 0; i < d; ++i)
      {
        initial.mean[i]          = m0[i];
        initial.covariance[i][i] = s0;
      }
    return ornstein_uhlenbeck(matrix<d>(), Tensor<1, d>(), eps, initial, t);
  }

  /** The stationary Gaussian pi = N(0, eps A^{-1}). */
  template <int d>
  Gaussian<d> stationary() const
  {
    Gaussian<d> pi;
    pi.covariance = eps * invert(matrix<d>());
    return pi;
  }
};

/**
 * |X_h - X_exact| per particle of @p initial (by id) for an OuProblem with an isotropic start:
 * the exact probability-flow map X_t = m_t + (S_t / s0)^{1/2} (X_0 - m0) at p.end_time.
 */
inline std::vector<double> flow_map_errors(const OuProblem                         &p,
                                           const std::map<std::uint64_t, Point<2>> &initial,
                                           const std::map<std::uint64_t, Point<2>> &final)
{
  const Gaussian<2>           exact = p.exact<2>(p.end_time);
  const SymmetricTensor<2, 2> Phi = symmetric_sqrt(SymmetricTensor<2, 2>(exact.covariance / p.s0));
  const Point<2>              m0(p.m0[0], p.m0[1]);
  std::vector<double>         errors;
  for (const auto &[id, x0] : initial)
    errors.push_back(final.at(id).distance(Point<2>(exact.mean + Phi * (x0 - m0))));
  return errors;
}
} // namespace densityflow::testing
