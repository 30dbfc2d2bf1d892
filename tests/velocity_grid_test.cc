// Velocity fields from other codes on a space-time grid (Physics/Velocity grid): the
// interpolant is exact for fields multilinear in space and linear in time (values and
// divergence, also fused), the .npy reader keeps the file's order, a grid of the exact OU
// probability-flow velocity carries rho0 to the Gaussian of the Fokker-Planck problem
// up to the time interpolation's O(dt_grid^2), and every kind of bad file is refused.
#include <densityflow/base/exceptions.h>
#include <densityflow/base/npy.h>
#include <densityflow/physics/velocity_grid.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <random>

#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
unsigned int rank()
{
  return Utilities::MPI::this_mpi_process(MPI_COMM_WORLD);
}

/** A file name no other rank or concurrent test run writes. */
std::string scratch(const std::string &name)
{
  return "velocity_grid_test_np" + std::to_string(Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD)) +
         "_r" + std::to_string(rank()) + "_" + name;
}

/**
 * w_d(x, t) = sum over subsets S of the axes of (c0 + c1 t) prod_{e in S} x_e: the most
 * general field that is multilinear in x and linear in t.
 */
template <int dim>
struct MultilinearField
{
  std::vector<double> c0, c1; // [d][S]

  explicit MultilinearField(std::mt19937 &random)
  {
    std::uniform_real_distribution<double> u(-1, 1);
    for (unsigned int k = 0; k < dim * (1u << dim); ++k)
      {
        c0.push_back(u(random));
        c1.push_back(u(random));
      }
  }

  double term(const unsigned int d, const unsigned int S, const Point<dim> &x, double t) const
  {
    double p = c0[d * (1u << dim) + S] + c1[d * (1u << dim) + S] * t;
    for (unsigned int e = 0; e < dim; ++e)
      if (S & (1u << e))
        p *= x[e];
    return p;
  }

  Tensor<1, dim> value(const Point<dim> &x, const double t) const
  {
    Tensor<1, dim> w;
    for (unsigned int d = 0; d < dim; ++d)
      for (unsigned int S = 0; S < (1u << dim); ++S)
        w[d] += term(d, S, x, t);
    return w;
  }

  double divergence(const Point<dim> &x, const double t) const
  {
    double result = 0;
    for (unsigned int d = 0; d < dim; ++d)
      for (unsigned int S = 0; S < (1u << dim); ++S)
        if (S & (1u << d))
          {
            Point<dim> y = x;
            y[d]         = 1; // the derivative of x_d in the product
            result += term(d, S, y, t);
          }
    return result;
  }
};

/** The values of @p w at the nodes of the grid, C order (n_t, n_1, .., n_dim, dim). */
template <int dim, typename Field>
std::vector<double> sample(const Field                         &w,
                           const unsigned int                   n_t,
                           const std::array<unsigned int, dim> &n,
                           const Point<dim>                    &lower,
                           const Point<dim>                    &upper,
                           const double                         t0,
                           const double                         t1)
{
  std::size_t n_space = 1;
  for (unsigned int d = 0; d < dim; ++d)
    n_space *= n[d];
  std::vector<double> values;
  for (unsigned int k = 0; k < n_t; ++k)
    for (std::size_t flat = 0; flat < n_space; ++flat)
      {
        Point<dim>  x;
        std::size_t rest = flat;
        for (unsigned int d = dim; d-- > 0;)
          {
            const unsigned int i = rest % n[d];
            rest /= n[d];
            x[d] = lower[d] + i * (upper[d] - lower[d]) / (n[d] - 1);
          }
        const Tensor<1, dim> v = w.value(x, n_t > 1 ? t0 + k * (t1 - t0) / (n_t - 1) : t0);
        for (unsigned int d = 0; d < dim; ++d)
          values.push_back(v[d]);
      }
  return values;
}

template <int dim>
void check_exact(const unsigned int n_t)
{
  std::mt19937                           random(17 + dim);
  const MultilinearField<dim>            w(random);
  std::array<unsigned int, dim>          n;
  Point<dim>                             lower, upper;
  std::uniform_real_distribution<double> u(0, 1);
  for (unsigned int d = 0; d < dim; ++d)
    {
      n[d]     = 3 + d;
      lower[d] = -1 - u(random);
      upper[d] = 1 + u(random);
    }
  const double            t0 = -0.5, t1 = 1.5;
  const VelocityGrid<dim> grid(
      sample<dim>(w, n_t, n, lower, upper, t0, t1), n_t, n, lower, upper, t0, t1);
  // With one slice the field is steady: compare with w at the slice's time.
  double worst_value = 0, worst_divergence = 0;
  for (unsigned int q = 0; q < 1000; ++q)
    {
      Point<dim> x;
      for (unsigned int d = 0; d < dim; ++d)
        x[d] = lower[d] + u(random) * (upper[d] - lower[d]);
      const double t  = n_t > 1 ? t0 + u(random) * (t1 - t0) : 0.7;
      const double te = n_t > 1 ? t : t0;
      // The fused evaluation (asked first, so it gathers the corners itself) gives value()
      // and divergence() to the bit: flow-map particles use it, and their results must not
      // depend on which is called.
      Tensor<1, dim> fused_value;
      double         fused_divergence;
      grid.value_and_divergence(x, t, fused_value, fused_divergence);
      EXPECT_EQ(fused_value, grid.value(x, t));
      EXPECT_EQ(fused_divergence, grid.divergence(x, t));
      worst_value     = std::max(worst_value, (grid.value(x, t) - w.value(x, te)).norm());
      worst_divergence =
          std::max(worst_divergence, std::abs(grid.divergence(x, t) - w.divergence(x, te)));
    }
  // The coefficients and coordinates are O(1): only round-off remains.
  EXPECT_LT(worst_value, 1e-13) << dim << "D, n_t = " << n_t;
  EXPECT_LT(worst_divergence, 1e-12) << dim << "D, n_t = " << n_t;
  EXPECT_EQ(grid.depends_on_time(), n_t > 1);
}

/** The message of the InputError that @p f throws (empty if none). */
template <typename F>
std::string input_error(const F &f)
{
  try
    {
      f();
    }
  catch (const InputError &e)
    {
      return e.what();
    }
  return "";
}

/** A .npy file with the header fields given as text, and @p bytes of data. */
void write_raw_npy(const std::string &file,
                   const std::string &descr,
                   const std::string &shape,
                   const bool         fortran,
                   const std::string &data)
{
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': (" +
                       shape + "), }";
  header += std::string((64 - (10 + header.size() + 1) % 64) % 64, ' ') + "\n";
  std::ofstream out(file, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  out.put(static_cast<char>(header.size() & 0xff));
  out.put(static_cast<char>(header.size() >> 8));
  out << header << data;
}

VelocityGridParameters grid_parameters(const std::string &file)
{
  VelocityGridParameters p;
  p.file = p.resolved_file = file;
  p.lower_corner           = {-1, -1};
  p.upper_corner           = {1, 1};
  p.start_time             = 0;
  p.end_time               = 1;
  return p;
}

const BoundingBox<2> unit_box(std::make_pair(Point<2>(-1, -1), Point<2>(1, 1)));

/** The message of reading @p p (the mesh [-1, 1]^2, T = 1). */
std::string read_error(const VelocityGridParameters &p)
{
  return input_error([&] { read_velocity_grid<2>(p, unit_box, 1.0); });
}
} // namespace

TEST(VelocityGrid, ExactForMultilinearFields)
{
  for (const unsigned int n_t : {1u, 4u})
    {
      check_exact<1>(n_t);
      check_exact<2>(n_t);
      check_exact<3>(n_t);
    }
}

// What write_npy writes (float64, C order) and what a NumPy user with a transposed array
// writes (float32, Fortran order) are both read as w(t_k, x_i, y_j).
TEST(VelocityGrid, ReadsFloat64AndFortranOrderFloat32)
{
  std::mt19937                  random(5);
  const MultilinearField<2>     w(random);
  const std::array<unsigned, 2> n{{3, 4}};
  const Point<2>                lower(-1, -1), upper(1, 1);
  const std::vector<double>     values = sample<2>(w, 2, n, lower, upper, 0, 1);
  const std::string             file   = scratch("f8.npy");
  write_npy(file, values, {2, 3, 4, 2});
  const auto grid = read_velocity_grid<2>(grid_parameters(file), unit_box, 1.0);
  // Fortran order: the first index varies fastest.
  std::vector<float> fortran(values.size());
  for (unsigned int k = 0; k < 2; ++k)
    for (unsigned int i = 0; i < 3; ++i)
      for (unsigned int j = 0; j < 4; ++j)
        for (unsigned int d = 0; d < 2; ++d)
          fortran[k + 2 * (i + 3 * (j + 4 * d))] = values[((k * 3 + i) * 4 + j) * 2 + d];
  const std::string file32 = scratch("f4.npy");
  write_raw_npy(file32,
                "<f4",
                "2, 3, 4, 2",
                true,
                std::string(reinterpret_cast<const char *>(fortran.data()), fortran.size() * 4));
  const auto grid32 = read_velocity_grid<2>(grid_parameters(file32), unit_box, 1.0);
  for (const Point<2> &x : {Point<2>(0.3, -0.7), Point<2>(-0.9, 0.95), Point<2>(1, 1)})
    for (const double t : {0.0, 0.4, 1.0})
      {
        EXPECT_LT((grid->value(x, t) - w.value(x, t)).norm(), 1e-14);
        EXPECT_LT(std::abs(grid->divergence(x, t) - w.divergence(x, t)), 1e-13);
        // float32 rounding of O(1) values, amplified by at most 1/h = 1.5 in the divergence.
        EXPECT_LT((grid32->value(x, t) - w.value(x, t)).norm(), 1e-6);
        EXPECT_LT(std::abs(grid32->divergence(x, t) - w.divergence(x, t)), 1e-5);
      }
  std::remove(file.c_str());
  std::remove(file32.c_str());
}

TEST(VelocityGridBadFile, Missing)
{
  const std::string message = read_error(grid_parameters("no_such_velocity.npy"));
  EXPECT_NE(message.find("Physics/Velocity grid/File = 'no_such_velocity.npy'"), std::string::npos)
      << message;
  EXPECT_NE(message.find("cannot open"), std::string::npos) << message;
}

TEST(VelocityGridBadFile, NotNpy)
{
  const std::string file = scratch("text.npy");
  std::ofstream(file) << "t,x,y\n0,1,2\n";
  const std::string message = read_error(grid_parameters(file));
  EXPECT_NE(message.find("Physics/Velocity grid/File = '" + file + "'"), std::string::npos)
      << message;
  EXPECT_NE(message.find("not a NumPy .npy file"), std::string::npos) << message;
  std::remove(file.c_str());
}

TEST(VelocityGridBadFile, WrongDtype)
{
  const std::string file = scratch("int.npy");
  write_raw_npy(file, "<i8", "1, 2, 2, 2", false, std::string(8 * 8, '\0'));
  const std::string message = read_error(grid_parameters(file));
  EXPECT_NE(message.find("'<i8'; densityflow reads little-endian float64 or float32"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("Physics/Velocity grid/File"), std::string::npos) << message;
  std::remove(file.c_str());
}

TEST(VelocityGridBadFile, WrongShape)
{
  // No time axis; 3 components in 2D; one node on an axis.
  for (const std::vector<std::size_t> &shape :
       std::vector<std::vector<std::size_t>>{{4, 4, 2}, {1, 4, 4, 3}, {2, 1, 4, 2}})
    {
      const std::string file = scratch("shape.npy");
      std::size_t       size = 1;
      for (const std::size_t e : shape)
        size *= e;
      write_npy(file, std::vector<double>(size, 0.0), shape);
      const std::string message = read_error(grid_parameters(file));
      EXPECT_NE(message.find("a 2D velocity grid needs (n_t, n_x, n_y, 2)"), std::string::npos)
          << message;
      EXPECT_NE(message.find("Physics/Velocity grid/File = '" + file + "'"), std::string::npos)
          << message;
      std::remove(file.c_str());
    }
}

TEST(VelocityGridBadFile, ShorterThanItsShape)
{
  const std::string file = scratch("short.npy");
  write_raw_npy(file, "<f8", "2, 3, 3, 2", false, std::string(8 * 10, '\0'));
  const std::string message = read_error(grid_parameters(file));
  EXPECT_NE(message.find("shorter than its shape (2, 3, 3, 2)"), std::string::npos) << message;
  std::remove(file.c_str());
}

TEST(VelocityGridBadFile, NotFinite)
{
  const std::string   file = scratch("nan.npy");
  std::vector<double> values(2 * 3 * 4 * 2, 1.0);
  values[((1 * 3 + 2) * 4 + 3) * 2 + 0] = std::numeric_limits<double>::quiet_NaN();
  write_npy(file, values, {2, 3, 4, 2});
  const std::string message = read_error(grid_parameters(file));
  EXPECT_NE(message.find("the value at index (1, 2, 3, 0) is not a finite number"),
            std::string::npos)
      << message;
  std::remove(file.c_str());
}

TEST(VelocityGridBadFile, DoesNotCoverTheMesh)
{
  const std::string file = scratch("small.npy");
  write_npy(file, std::vector<double>(2 * 2 * 2 * 2, 0.0), {2, 2, 2, 2});
  VelocityGridParameters p  = grid_parameters(file);
  p.upper_corner            = {1, 0.9};
  const std::string message = read_error(p);
  EXPECT_NE(message.find("does not hold the mesh's bounding box"), std::string::npos) << message;
  // The mesh's own corners, to round-off, are enough.
  p.upper_corner = {1 - 1e-14, 1};
  EXPECT_EQ(read_error(p), "");
  std::remove(file.c_str());
}

TEST(VelocityGridBadFile, TimesDoNotCoverTheRun)
{
  const std::string file = scratch("times.npy");
  write_npy(file, std::vector<double>(3 * 2 * 2 * 2, 0.0), {3, 2, 2, 2});
  VelocityGridParameters p = grid_parameters(file);
  p.end_time               = 0.5; // the run goes to T = 1
  std::string message      = read_error(p);
  EXPECT_NE(message.find("must hold the run's [0, 1]"), std::string::npos) << message;
  p.end_time   = 1;
  p.start_time = 0.25;
  message      = read_error(p);
  EXPECT_NE(message.find("span [0.25, 1]"), std::string::npos) << message;
  // A steady grid (n_t = 1) needs no times.
  write_npy(file, std::vector<double>(2 * 2 * 2, 0.0), {1, 2, 2, 2});
  EXPECT_EQ(read_error(p), "");
  std::remove(file.c_str());
}

TEST(VelocityGridBadFile, ParametersThatConflict)
{
  const std::string transport = "set Dimension = 2\nsubsection Physics\n  set Model = transport\n"
                                "  set Diffusion = 0\n";
  const std::string grid      = "  subsection Velocity grid\n    set File = v.npy\n"
                                "    set Lower corner = -1, -1\n    set Upper corner = 1, 1\n"
                                "  end\n";
  std::string       message   = input_error([&] {
    ProblemParameters::from_string(transport + "  set Velocity = 1; 0\n" + grid + "end\n");
  });
  EXPECT_NE(message.find("Physics/Velocity and Physics/Velocity grid/File both give"),
            std::string::npos)
      << message;
  message = input_error([&] {
    ProblemParameters::from_string("set Dimension = 2\nsubsection Physics\n" + grid + "end\n");
  });
  EXPECT_NE(message.find("Physics/Velocity grid/File is for Model = transport"), std::string::npos)
      << message;
  message = input_error([&] {
    ProblemParameters::from_string(transport + grid + "end\n",
                                   {"Physics/Velocity grid/Lower corner=a, b"});
  });
  EXPECT_NE(message.find("Physics/Velocity grid/Lower corner = 'a, b'"), std::string::npos)
      << message;
}

namespace
{
// OU with A = diag(a1, a2), eps = D, from N(m0, s0 I): rho_t = N(m(t), diag(s(t))) with
// m_i = m0_i e^{-a_i t}, s_i = D/a_i + (s0 - D/a_i) e^{-2 a_i t}, and the probability-flow
// velocity v_i = -a_i x_i + D (x_i - m_i(t)) / s_i(t) (affine in x: S' = B S + S B^T with
// B = -A + D S^{-1}) carries rho0 along the same rho_t with no diffusion.
struct OuFlow
{
  double D = 0.5, a[2] = {1, 2}, m0[2] = {0.5, 0.25}, s0 = 0.15, T = 0.5, L = 3;

  double mean(const unsigned int i, const double t) const { return m0[i] * std::exp(-a[i] * t); }
  double variance(const unsigned int i, const double t) const
  {
    return D / a[i] + (s0 - D / a[i]) * std::exp(-2 * a[i] * t);
  }
  /** v_i = b_i(t) x_i + c_i(t). */
  double b(const unsigned int i, const double t) const { return -a[i] + D / variance(i, t); }
  double c(const unsigned int i, const double t) const { return -D * mean(i, t) / variance(i, t); }
  Tensor<1, 2> value(const Point<2> &x, const double t) const
  {
    return Tensor<1, 2>({b(0, t) * x[0] + c(0, t), b(1, t) * x[1] + c(1, t)});
  }

  std::string problem() const
  {
    std::ostringstream prm;
    prm.precision(17);
    prm << "set Dimension = 2\nset Constants = D = " << D << ", a1 = " << a[0] << ", a2 = " << a[1]
        << ", m1 = " << m0[0] << ", m2 = " << m0[1] << ", s0 = " << s0
        << "\nsubsection Mesh\n  set Lower corner = " << -L << ", " << -L
        << "\n  set Upper corner = " << L << ", " << L << "\n  set Refinement = 4\nend\n"
        << "subsection Physics\n  set Model = transport\n  set Diffusion = 0\nend\n"
        << "subsection Initial density\n  set Expression = exp(-((x - m1)^2 + (y - m2)^2) / "
           "(2 * s0))\nend\n"
        << "subsection Time\n  set End time = " << T << "\n  set Time step = 1\nend\n"
        << "subsection Discretization\n  set Degree = 1\nend\n"
        << "subsection Output\n  set Interval = 0\nend\n";
    return prm.str();
  }

  static std::string velocity_expression()
  {
    std::string v;
    for (const std::string i : {"1", "2"})
      {
        const std::string x = i == "1" ? "x" : "y";
        const std::string s = "(D / a" + i + " + (s0 - D / a" + i + ") * exp(-2 * a" + i + " * t))";
        v += (v.empty() ? "" : "; ") + ("-a" + i + " * " + x + " + D * (" + x + " - m" + i +
                                        " * exp(-a" + i + " * t)) / " + s);
      }
    return v;
  }

  /**
   * Mean and variance along axis i at T of the flow of the grid's velocity: v_h is the
   * linear interpolation in t of v(t_k), still affine in x, so m' = b_h m + c_h and
   * s' = 2 b_h s, integrated here by RK4 with steps far below the slices' spacing.
   */
  std::pair<double, double> grid_moments(const unsigned int i, const unsigned int n_t) const
  {
    const double tau         = T / (n_t - 1);
    const auto   interpolate = [&](const auto &f, const double t) {
      const unsigned int k = std::min<unsigned int>(t / tau, n_t - 2);
      const double       w = t / tau - k;
      return (1 - w) * f(i, k * tau) + w * f(i, (k + 1) * tau);
    };
    const auto rhs = [&](const double t, const std::array<double, 2> &y) {
      const double bh = interpolate([&](unsigned j, double s) { return b(j, s); }, t);
      const double ch = interpolate([&](unsigned j, double s) { return c(j, s); }, t);
      return std::array<double, 2>{{bh * y[0] + ch, 2 * bh * y[1]}};
    };
    std::array<double, 2> y{{m0[i], s0}};
    const unsigned int    steps = 2000 * (n_t - 1);
    const double          h     = T / steps;
    for (unsigned int n = 0; n < steps; ++n)
      {
        const double t  = n * h;
        const auto   k1 = rhs(t, y);
        const auto   k2 = rhs(t + h / 2, {{y[0] + h / 2 * k1[0], y[1] + h / 2 * k1[1]}});
        const auto   k3 = rhs(t + h / 2, {{y[0] + h / 2 * k2[0], y[1] + h / 2 * k2[1]}});
        const auto   k4 = rhs(t + h, {{y[0] + h * k3[0], y[1] + h * k3[1]}});
        for (unsigned int j = 0; j < 2; ++j)
          y[j] += h / 6 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
      }
    return {y[0], y[1]};
  }
};
} // namespace

// The grid holds v at n_t equally spaced times (7 x 7 nodes: v is affine in x, so space adds
// nothing). The same DG transport run with the exact v as an expression is the reference:
// what differs is the time interpolation, O(tau^2) in v and so in rho_T, whose moments the
// ODE of the interpolated flow predicts (grid_moments). Measured (1 and 2 ranks): see README.
TEST(VelocityGrid, OuProbabilityFlowConvergesAtOrderTwoInTime)
{
  const OuFlow    ou;
  const RunResult reference = run(ou.problem(), {"Physics/Velocity=" + ou.velocity_expression()});
  const std::array<unsigned int, 2> n{{7, 7}};
  const Point<2>                    lower(-ou.L, -ou.L), upper(ou.L, ou.L);
  const char                       *columns[2][2] = {{"mean_x", "cov_xx"}, {"mean_y", "cov_yy"}};
  std::vector<double>               differences;
  for (const unsigned int n_t : {3u, 5u, 9u})
    {
      const std::string file = "velocity_grid_test_np" +
                               std::to_string(Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD)) +
                               "_ou.npy";
      if (rank() == 0)
        write_npy(file, sample<2>(ou, n_t, n, lower, upper, 0, ou.T), {n_t, 7, 7, 2});
      MPI_Barrier(MPI_COMM_WORLD);
      const RunResult grid = run(ou.problem(),
                                 {"Physics/Velocity grid/File=" + file,
                                  "Physics/Velocity grid/Lower corner=-3, -3",
                                  "Physics/Velocity grid/Upper corner=3, 3"});
      MPI_Barrier(MPI_COMM_WORLD);
      if (rank() == 0)
        std::remove(file.c_str());
      double largest = 0;
      for (unsigned int i = 0; i < 2; ++i)
        {
          const auto [m, s]         = ou.grid_moments(i, n_t);
          const double exact[2]     = {ou.mean(i, ou.T), ou.variance(i, ou.T)};
          const double predicted[2] = {m - exact[0], s - exact[1]};
          for (unsigned int j = 0; j < 2; ++j)
            {
              const double measured = grid.last(columns[i][j]) - reference.last(columns[i][j]);
              if (rank() == 0)
                std::cout << "  n_t = " << n_t << " " << columns[i][j] << ": grid - exact v "
                          << measured << ", predicted " << predicted[j] << std::endl;
              EXPECT_NEAR(measured, predicted[j], 0.03 * std::abs(predicted[j]) + 1e-7)
                  << columns[i][j] << ", n_t = " << n_t;
              largest = std::max(largest, std::abs(measured));
            }
        }
      differences.push_back(largest);
    }
  for (std::size_t k = 1; k < differences.size(); ++k)
    {
      const double order = observed_order(differences[k - 1], differences[k]);
      if (rank() == 0)
        std::cout << "  largest moment difference " << differences[k] << ", order " << order
                  << std::endl;
      EXPECT_GT(order, 1.8);
      EXPECT_LT(order, 2.2);
    }
}
