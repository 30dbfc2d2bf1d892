// The path model (Physics/Model = path): the least-kinetic-energy velocity of the
// geometric path between two Gaussians against its closed form. For
// rho_t = N(m_t, S_t) the velocity is v = m' + A (x - m_t), A symmetric with
// A S + S A = S'; on the geometric path with beta = t the precision is
// L_t = (1 - t) L0 + t L1 and L_t m_t = (1 - t) L0 m0 + t L1 m1.
#include <densityflow/mesh/mesh.h>
#include <densityflow/particles/particle_ensemble.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/path/path_solver.h>
#include <densityflow/solvers/path/path_velocity.h>
#include <densityflow/solvers/transport/transport_solver.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping_q.h>
#include <deal.II/lac/full_matrix.h>

#include <gtest/gtest.h>

#include <cmath>
#include <iomanip>
#include <iostream>

#include <support/test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
/** The geometric path from N(m0, L0^{-1}) to N(m1, L1^{-1}) with beta(t) = t. */
template <int dim>
struct GaussianPath
{
  SymmetricTensor<2, dim> L0, L1;
  Tensor<1, dim>          m0, m1;

  struct State
  {
    Tensor<1, dim>          m, dm;
    SymmetricTensor<2, dim> S, A;
  };

  State at(const double t) const
  {
    State                         s;
    const SymmetricTensor<2, dim> L = (1 - t) * L0 + t * L1, dL = L1 - L0;
    s.S                    = invert(L);
    const Tensor<1, dim> N = (1 - t) * (L0 * m0) + t * (L1 * m1), dN = L1 * m1 - L0 * m0;
    s.m                     = s.S * N;
    s.dm                    = s.S * (dN - dL * s.m);
    const Tensor<2, dim> dS = -(Tensor<2, dim>(s.S) * Tensor<2, dim>(dL) * Tensor<2, dim>(s.S));
    // A S + S A = S' for the dim (dim + 1) / 2 entries of the symmetric A.
    std::vector<std::pair<unsigned int, unsigned int>> entries;
    for (unsigned int i = 0; i < dim; ++i)
      for (unsigned int j = i; j < dim; ++j)
        entries.emplace_back(i, j);
    const unsigned int n = entries.size();
    FullMatrix<double> M(n, n);
    Vector<double>     rhs(n), a(n);
    for (unsigned int r = 0; r < n; ++r)
      {
        const auto [k, l] = entries[r];
        rhs(r)            = dS[k][l];
        for (unsigned int c = 0; c < n; ++c)
          {
            // A = sum_c a_c (E_ij + E_ji) / (1 + delta_ij)
            const auto [i, j] = entries[c];
            SymmetricTensor<2, dim> E;
            E[i][j] = 1;
            const Tensor<2, dim> AS_SA =
                Tensor<2, dim>(E) * Tensor<2, dim>(s.S) + Tensor<2, dim>(s.S) * Tensor<2, dim>(E);
            M(r, c) = AS_SA[k][l];
          }
      }
    M.gauss_jordan();
    M.vmult(a, rhs);
    for (unsigned int c = 0; c < n; ++c)
      s.A[entries[c].first][entries[c].second] = a(c);
    return s;
  }

  Tensor<1, dim> velocity(const Point<dim> &x, const double t) const
  {
    const State s = at(t);
    return s.dm + s.A * (Tensor<1, dim>(x) - s.m);
  }

  double density(const Point<dim> &x, const double t) const
  {
    const State          s = at(t);
    const Tensor<1, dim> d = Tensor<1, dim>(x) - s.m;
    return std::exp(-0.5 * d * (invert(s.S) * d)) /
           std::sqrt(std::pow(2 * numbers::PI, dim) * determinant(s.S));
  }

  /** E|v|^2 = |m'|^2 + tr(A S A). */
  double kinetic_energy(const double t) const
  {
    const State          s = at(t);
    const Tensor<2, dim> A(s.A), S(s.S);
    return s.dm * s.dm + trace(A * S * A);
  }

  /** (x - m)^T L (x - m) / 2 as an expression. */
  static std::string quadratic(const SymmetricTensor<2, dim> &L, const Tensor<1, dim> &m)
  {
    const char        *names[] = {"x", "y", "z"};
    std::ostringstream out;
    out << std::setprecision(17) << "0";
    for (unsigned int i = 0; i < dim; ++i)
      for (unsigned int j = 0; j < dim; ++j)
        out << " + 0.5 * " << L[i][j] << " * (" << names[i] << " - (" << m[i] << ")) * ("
            << names[j] << " - (" << m[j] << "))";
    return out.str();
  }

  std::string problem(const double       box,
                      const unsigned int subdivisions,
                      const unsigned int refinement,
                      const unsigned int degree,
                      const double       end_time,
                      const double       step) const
  {
    std::ostringstream out;
    out << std::setprecision(17) << "set Dimension = " << dim << "\n"
        << "subsection Mesh\n  set Lower corner = " << -box;
    for (unsigned int d = 1; d < dim; ++d)
      out << ", " << -box;
    out << "\n  set Upper corner = " << box;
    for (unsigned int d = 1; d < dim; ++d)
      out << ", " << box;
    out << "\n  set Subdivisions = " << subdivisions;
    for (unsigned int d = 1; d < dim; ++d)
      out << ", " << subdivisions;
    out << "\n  set Refinement = " << refinement << "\nend\n"
        << "subsection Physics\n  set Model = path\n  set Potential = " << quadratic(L1, m1)
        << "\n  set Diffusion = 1\nend\n"
        << "subsection Initial density\n  set Expression = exp(-(" << quadratic(L0, m0)
        << "))\nend\n"
        << "subsection Time\n  set End time = " << end_time << "\n  set Time step = " << step
        << "\nend\n"
        << "subsection Discretization\n  set Degree = " << degree << "\nend\n"
        << "subsection Linear solver\n  set Tolerance = 1e-10\nend\n"
        << "subsection Output\n  set Interval = " << end_time << "\nend\n";
    return out.str();
  }
};

GaussianPath<1> path_1d()
{
  GaussianPath<1> p;
  p.L0[0][0] = 1, p.m0[0] = -1;
  p.L1[0][0] = 4, p.m1[0] = 1.5;
  return p;
}

GaussianPath<2> path_2d()
{
  GaussianPath<2> p;
  p.L0[0][0] = 2, p.L0[0][1] = 0.5, p.L0[1][1] = 1.5;
  p.L1[0][0] = 3, p.L1[0][1] = -1, p.L1[1][1] = 2.5;
  p.m0[0] = -1, p.m0[1] = 0.5;
  p.m1[0] = 1, p.m1[1] = -0.5;
  return p;
}

struct VelocityError
{
  double relative_l2, kinetic_energy, action, length;
};

/** sqrt(int rho |v_h - v|^2) / sqrt(int rho |v|^2) at the end time, Gauss rule p + 3. */
template <int dim>
VelocityError velocity_error(const GaussianPath<dim> &path, const std::string &prm)
{
  const ProblemParameters parameters =
      ProblemParameters::from_string(prm, {"Output/Write files=false"});
  std::ostringstream log;
  Simulation<dim>    simulation(parameters, MPI_COMM_WORLD, log);
  simulation.run();
  const auto       &solver = dynamic_cast<const PathSolver<dim> &>(simulation.solver());
  const double      t      = solver.time();
  const auto       &dofs   = solver.get_dof_handler();
  const QGauss<dim> gauss(dofs.get_fe().degree + 3);
  MappingQ<dim>     mapping(1);
  FEValues<dim>     fe_values(
      mapping, dofs.get_fe(), gauss, update_quadrature_points | update_JxW_values);
  double                      error = 0, energy = 0;
  std::vector<double>         rho;
  std::vector<Tensor<1, dim>> v;
  for (const auto &cell : dofs.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        solver.evaluate(cell, fe_values.get_quadrature_points(), rho, v, nullptr);
        for (unsigned int q = 0; q < gauss.size(); ++q)
          {
            const Point<dim>    &x     = fe_values.quadrature_point(q);
            const Tensor<1, dim> exact = path.velocity(x, t);
            const double         w     = path.density(x, t) * fe_values.JxW(q);
            error += w * (v[q] - exact).norm_square();
            energy += w * exact.norm_square();
          }
      }
  error  = Utilities::MPI::sum(error, MPI_COMM_WORLD);
  energy = Utilities::MPI::sum(energy, MPI_COMM_WORLD);
  // diagnostics.csv's own columns: zero action at t = 0, the solver's figures at the end.
  const Diagnostics &csv  = simulation.diagnostics();
  const std::size_t  last = csv.rows().size() - 1;
  EXPECT_EQ(csv.value(0, "action"), 0.0);
  EXPECT_EQ(csv.value(0, "w2_length"), 0.0);
  EXPECT_EQ(csv.value(last, "time"), t);
  EXPECT_EQ(csv.value(last, "kinetic_energy"), solver.kinetic_energy());
  EXPECT_EQ(csv.value(last, "action"), solver.action());
  EXPECT_EQ(csv.value(last, "w2_length"), solver.length());
  EXPECT_EQ(csv.value(last, "max_speed"), solver.max_speed());
  return {std::sqrt(error / energy), solver.kinetic_energy(), solver.action(), solver.length()};
}

template <int dim>
void check_velocity_order(const GaussianPath<dim> &path,
                          const double             box,
                          const unsigned int       subdivisions,
                          const unsigned int       degree,
                          const unsigned int       first,
                          const unsigned int       last)
{
  std::vector<double> errors;
  for (unsigned int r = first; r <= last; ++r)
    {
      const VelocityError e =
          velocity_error(path, path.problem(box, subdivisions, r, degree, 0.5, 0.25));
      errors.push_back(e.relative_l2);
      const double exact_energy = path.kinetic_energy(0.5);
      if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
        std::cout << dim << "D Q" << degree << " refinement " << r << ": relative rho-weighted L2 "
                  << "error of v " << e.relative_l2 << ", kinetic energy " << e.kinetic_energy
                  << " (exact " << exact_energy << ")"
                  << (errors.size() > 1
                          ? ", order " +
                                std::to_string(std::log2(errors[errors.size() - 2] / errors.back()))
                          : std::string())
                  << std::endl;
      EXPECT_LT(std::abs(e.kinetic_energy - exact_energy), 2 * e.relative_l2 * exact_energy);
    }
  if (degree == 1)
    {
      // The gradient of Q1 converges at order 1; the last halving must show it (0.2
      // below: measured 0.98-1.00 in 1D and 2D).
      const double order = std::log2(errors[errors.size() - 2] / errors.back());
      EXPECT_GT(order, degree - 0.2);
    }
  else
    // The exact potential of a Gaussian path is quadratic: Q2 holds it, and what is left
    // is the linear solver's tolerance (1e-10), the weight floor and the truncated
    // domain (measured 4e-8 in 1D, 1.2e-7 in 2D; Q1 is at 1e-2).
    EXPECT_LT(errors.back(), 1e-6);
}
} // namespace

/**
 * The action int_0^1 int rho |v|^2 dx dt of the 1D geometric Gaussian path: the
 * solver's trapezoidal sum over its steps against the same sum of the exact kinetic
 * energies (Q2 holds the exact velocity: 1e-6) and against the exact integral (Simpson,
 * 2000 intervals) within the trapezoidal rule's bound T dt^2 max|KE''| / 12.
 */
TEST(PathVelocity, GaussianAction)
{
  const GaussianPath<1> path = path_1d();
  const double          T = 1, dt = 0.05;
  const VelocityError   e         = velocity_error(path, path.problem(9, 18, 2, 2, T, dt));
  double                trapezoid = 0, length = 0, second_derivative = 0;
  for (double t = 0; t < T - dt / 2; t += dt)
    {
      trapezoid += dt / 2 * (path.kinetic_energy(t) + path.kinetic_energy(t + dt));
      length +=
          dt / 2 * (std::sqrt(path.kinetic_energy(t)) + std::sqrt(path.kinetic_energy(t + dt)));
    }
  const unsigned int n     = 2000;
  double             exact = 0;
  for (unsigned int i = 0; i <= n; ++i)
    {
      const double t = T * i / n, w = (i == 0 || i == n) ? 1 : (i % 2 == 1 ? 4 : 2);
      exact += w * path.kinetic_energy(t) * T / n / 3;
      if (i > 0 && i < n)
        {
          const double h = T / n;
          second_derivative =
              std::max(second_derivative,
                       std::abs(path.kinetic_energy(t + h) - 2 * path.kinetic_energy(t) +
                                path.kinetic_energy(t - h)) /
                           (h * h));
        }
    }
  const double bound = T * dt * dt * second_derivative / 12;
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    std::cout << "action " << e.action << ", trapezoid of the exact kinetic energy " << trapezoid
              << ", exact " << exact << " (trapezoidal bound " << bound << "); W2 length "
              << e.length << " (trapezoid of the exact " << length << ")" << std::endl;
  EXPECT_LT(std::abs(e.action - trapezoid), 1e-6 * trapezoid);
  EXPECT_LT(std::abs(e.length - length), 1e-6 * length);
  EXPECT_LT(std::abs(e.action - exact), bound + 1e-6 * exact);
}

TEST(PathVelocity, GaussianOrder1D)
{
  check_velocity_order(path_1d(), 9, 18, 1, 1, 4);
  check_velocity_order(path_1d(), 9, 18, 2, 1, 4);
}

TEST(PathVelocity, GaussianOrder2D)
{
  check_velocity_order(path_2d(), 8, 16, 1, 0, 2);
  check_velocity_order(path_2d(), 8, 16, 2, 0, 2);
}

namespace
{
/** X_t = m_t + M_t (X_0 - m_0) with M' = A M, M_0 = I: the exact flow map (RK4, fine steps). */
template <int dim>
Tensor<2, dim> flow_matrix(const GaussianPath<dim> &path, const double T)
{
  const unsigned int n = 2000;
  const double       h = T / n;
  Tensor<2, dim>     M = unit_symmetric_tensor<dim>();
  const auto         f = [&](const double t, const Tensor<2, dim> &X) {
    return Tensor<2, dim>(path.at(t).A) * X;
  };
  for (unsigned int i = 0; i < n; ++i)
    {
      const double         t  = i * h;
      const Tensor<2, dim> k1 = f(t, M), k2 = f(t + h / 2, M + h / 2 * k1),
                           k3 = f(t + h / 2, M + h / 2 * k2), k4 = f(t + h, M + h * k3);
      M += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
    }
  return M;
}

struct FlowMapError
{
  double position, log_density;
};

/**
 * The largest error over 200 flow-map particles of a Q2 path run to T = 1 with step
 * @p dt: position against the exact affine flow map, carried log-density against
 * log rho_T at the particle.
 */
template <int dim>
FlowMapError flow_map_error(const GaussianPath<dim> &path,
                            const double             box,
                            const unsigned int       subdivisions,
                            const unsigned int       refinement,
                            const double             dt)
{
  const double      T = 1;
  const std::string prm =
      path.problem(box, subdivisions, refinement, 2, T, dt) +
      "subsection Particles\n set Number = 200\n set Dynamics = flow-map\nend\n";
  std::ostringstream log;
  Simulation<dim>    simulation(
      ProblemParameters::from_string(prm, {"Output/Write files=false"}), MPI_COMM_WORLD, log);
  const auto &ensemble = *simulation.particle_systems()[0];
  const auto  initial  = gather_positions(ensemble);
  simulation.run();
  const auto final = gather_positions(ensemble);
  EXPECT_EQ(final.size(), 200u);
  std::vector<std::pair<std::uint64_t, double>> local;
  for (std::size_t k = 0; k < ensemble.ids().size(); ++k)
    local.emplace_back(ensemble.ids()[k], ensemble.log_densities()[k]);
  std::map<std::uint64_t, double> log_density;
  for (const auto &part : Utilities::MPI::all_gather(MPI_COMM_WORLD, local))
    log_density.insert(part.begin(), part.end());

  const Tensor<2, dim> M     = flow_matrix(path, T);
  const auto           start = path.at(0), end = path.at(T);
  FlowMapError         e{0, 0};
  for (const auto &[id, x0] : initial)
    {
      const Point<dim> exact(end.m + M * (Tensor<1, dim>(x0) - start.m));
      e.position    = std::max(e.position, final.at(id).distance(exact));
      e.log_density = std::max(
          e.log_density, std::abs(log_density.at(id) - std::log(path.density(final.at(id), T))));
    }
  return e;
}

/**
 * Q2 holds the exact (quadratic) potential, so what is left is Heun's error, O(dt^2)
 * in the positions and, through div v and grad log rho, in the carried log-density.
 */
template <int dim>
void check_flow_map(const GaussianPath<dim> &path,
                    const double             box,
                    const unsigned int       subdivisions,
                    const unsigned int       refinement)
{
  const FlowMapError coarse   = flow_map_error(path, box, subdivisions, refinement, 0.1),
                     fine     = flow_map_error(path, box, subdivisions, refinement, 0.05);
  const double position_order = observed_order(coarse.position, fine.position),
               density_order  = observed_order(coarse.log_density, fine.log_density);
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    std::cout << dim << "D flow map, dt = 0.1 / 0.05: largest position error " << coarse.position
              << " / " << fine.position << " (order " << position_order << "), carried log-density "
              << coarse.log_density << " / " << fine.log_density << " (order " << density_order
              << ")" << std::endl;
  EXPECT_GT(position_order, 1.7);
  EXPECT_GT(density_order, 1.7);
  // Heun's constants are not known in closed form: twice the measured (position 4.8e-3
  // in 1D, 2.3e-3 in 2D; log-density 2.8e-2, 1.1e-2) catches a wrong velocity scale.
  EXPECT_LT(fine.position, 1e-2);
  EXPECT_LT(fine.log_density, 6e-2);
}
} // namespace

/** Flow-map particles along the path: the exact affine map and log-density, Heun's order. */
TEST(PathFlowMap, FollowsTheExactMap1D)
{
  check_flow_map(path_1d(), 9, 18, 2);
}

TEST(PathFlowMap, FollowsTheExactMap2D)
{
  check_flow_map(path_2d(), 8, 16, 0);
}

namespace
{
/**
 * The relative L2 error at T = 0.25 of the DG transport (degree @p dg_degree, SSP-RK3)
 * of rho0 by the path's own velocity v_h (PathVelocity, Q2 phi_h) against rho_T.
 */
double transport_error(const unsigned int refinement, const unsigned int dg_degree)
{
  const GaussianPath<1>   path = path_1d();
  const double            T    = 0.25;
  const std::string       prm  = path.problem(9, 18, refinement, 2, T, T);
  const ProblemParameters p    = ProblemParameters::from_string(prm, {"Output/Write files=false"});
  const ProblemParameters q =
      ProblemParameters::from_string(prm,
                                     {"Output/Write files=false",
                                      "Physics/Model=transport",
                                      "Physics/Potential=0",
                                      "Physics/Diffusion=0",
                                      "Discretization/Degree=" + std::to_string(dg_degree)});
  Mesh<1>       mesh(p.mesh, 2, MPI_COMM_WORLD);
  Physics<1>    path_physics(p.physics, p.constants);
  PathSolver<1> path_solver(mesh, path_physics, p.path, p.discretization, p.time, p.linear_solver);
  Expression<1> rho0(p.initial_density, path_physics.constants(), "Initial density/Expression");
  path_solver.set_initial_density(rho0);
  Physics<1> physics(q.physics, q.constants);
  const auto velocity = std::make_shared<PathVelocity<1>>(mesh, path_solver);
  physics.set_velocity(velocity);
  TransportSolver<1> transport(mesh, physics, q.discretization, q.time, q.linear_solver);
  transport.set_initial_density(rho0);
  while (transport.time() < T - 1e-12)
    transport.advance(std::min(transport.time_step(), T - transport.time()));
  path_solver.solve_at_time(T);

  const QGauss<1>     gauss(dg_degree + 3);
  MappingQ<1>         mapping(1);
  FEValues<1>         fe_values(mapping,
                        transport.get_dof_handler().get_fe(),
                        gauss,
                        update_quadrature_points | update_JxW_values);
  double              error = 0, norm = 0;
  std::vector<double> rho;
  for (const auto &cell : mesh.triangulation().active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        transport.density_at(cell, fe_values.get_quadrature_points(), rho);
        for (unsigned int q = 0; q < gauss.size(); ++q)
          {
            const double exact = path_solver.density(fe_values.quadrature_point(q));
            error += std::pow(rho[q] - exact, 2) * fe_values.JxW(q);
            norm += exact * exact * fe_values.JxW(q);
          }
      }
  return std::sqrt(Utilities::MPI::sum(error, MPI_COMM_WORLD) /
                   Utilities::MPI::sum(norm, MPI_COMM_WORLD));
}
} // namespace

/**
 * Self-consistency: rho0 transported by the computed v_t is rho_t. Q2 holds the exact
 * v of the Gaussian path, so the DG transport's own order p + 1 shows.
 */
TEST(PathVelocity, TransportByItReproducesThePath)
{
  for (const unsigned int degree : {1u, 2u})
    {
      std::vector<double> errors;
      // Each new time of a stage is a Neumann solve and every quadrature point is
      // located and evaluated on its own: coarse meshes keep this test short.
      for (unsigned int r = 2 - degree; r <= 4 - degree; ++r)
        errors.push_back(transport_error(r, degree));
      const double order = observed_order(errors[1], errors[2]);
      if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
        std::cout << "transport by the path velocity, DG degree " << degree
                  << ": relative L2 errors " << errors[0] << ", " << errors[1] << ", " << errors[2]
                  << " (orders " << observed_order(errors[0], errors[1]) << ", " << order << ")"
                  << std::endl;
      EXPECT_GT(order, degree + 1 - 0.3);
    }
}

/**
 * problems/path-bimodal-1d.prm: the geometric path from N(-a, s^2) to the equal-weight
 * mixture of N(-a, s^2) and N(a, s^2) carries half the mass across a gap where rho_t is
 * of order exp(-a^2 / (2 s^2)): the action grows faster than the squared distance 2 a^2
 * of the transport between the modes, and so does the largest |v|. Over [0, 1] the action
 * is at least the squared W2 length (Cauchy-Schwarz).
 */
TEST(PathVelocity, BimodalActionGrowsWithSeparation)
{
  double previous_ratio = 0, previous_speed = 0;
  for (const double a : {1.0, 1.5, 2.0, 2.5})
    {
      const std::string       corner = std::to_string(a + 4);
      const ProblemParameters parameters =
          ProblemParameters::from_file(std::string(PROBLEMS_DIRECTORY) + "/path-bimodal-1d.prm",
                                       {"Output/Write files=false",
                                        "Constants=a = " + std::to_string(a) + ", s = 0.5",
                                        "Mesh/Lower corner=-" + corner,
                                        "Mesh/Upper corner=" + corner,
                                        "Time/Time step=0.02"});
      std::ostringstream log;
      Simulation<1>      simulation(parameters, MPI_COMM_WORLD, log);
      simulation.run();
      const auto  &solver = dynamic_cast<const PathSolver<1> &>(simulation.solver());
      const double ratio  = solver.action() / (2 * a * a);
      if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
        std::cout << "bimodal a = " << a << ": action " << solver.action()
                  << " (2 a^2 = " << 2 * a * a << ", ratio " << ratio << "), W2 length "
                  << solver.length() << ", largest |v| " << solver.peak_speed() << std::endl;
      EXPECT_GE(solver.action(), solver.length() * solver.length() * (1 - 1e-12));
      EXPECT_GT(ratio, previous_ratio);
      EXPECT_GT(solver.peak_speed(), previous_speed);
      previous_ratio = ratio;
      previous_speed = solver.peak_speed();
    }
}
