// The interaction benchmark: the nonlocal velocity -grad(W * mu) of N signed atoms at M
// points (W = -|z|), 1D by sorting (sort + prefix sums + two binary searches per point, or
// one sort of the points and a merge) and 2D by slicing (P directions), against direct
// summation (O(N M), timed on a smaller M and extrapolated where it would take long); the
// sliced error against P; one mmd-1d run's time per step; the time of an SSP-RK3 step of
// mmd-2d at about 1e5 DoFs (run it on 2 ranks for the figure).
//
//   interaction_benchmark [--only-step]
//   mpirun -np 2 interaction_benchmark --only-step
#include <densityflow/simulation/simulation.h>
#include <densityflow/solvers/interaction/interaction_field.h>

#include <deal.II/base/mpi.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <sstream>

using namespace densityflow;

namespace
{
double seconds_since(const std::chrono::steady_clock::time_point start)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void velocity_costs(const std::size_t n, const std::size_t m, const std::size_t m_direct)
{
  std::mt19937_64                        random(1);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<Point<1>>                  points(n), at(m);
  std::vector<double>                    weights(n);
  for (std::size_t j = 0; j < n; ++j)
    points[j][0] = u(random), weights[j] = u(random) - 0.5;
  for (std::size_t k = 0; k < m; ++k)
    at[k][0] = u(random);
  InteractionField<1> field(1.0, InteractionSummation::sorted);
  auto                start = std::chrono::steady_clock::now();
  field.set_atoms(points, weights);
  const double sort_time = seconds_since(start);
  start                  = std::chrono::steady_clock::now();
  double check           = 0;
  for (const Point<1> &x : at)
    check += field.velocity(x)[0];
  const double sorted_time = seconds_since(start);
  start                    = std::chrono::steady_clock::now();
  std::vector<Tensor<1, 1>> v;
  field.velocities(at, v);
  const double merged_time = seconds_since(start);
  for (const Tensor<1, 1> &w : v)
    check -= w[0]; // the same numbers: check is unchanged
  start = std::chrono::steady_clock::now();
  for (std::size_t k = 0; k < m_direct; ++k)
    check += field.velocity_direct(at[k])[0];
  const double direct_time = seconds_since(start) * double(m) / m_direct;
  std::printf("1D: N = %8zu atoms, M = %8zu points: sorted %.3f s (sort %.3f s, %.3f s for M "
              "evaluations by binary searches; %.3f s by sorting the points and merging: "
              "%.3f s in all); direct %.1f s (timed on %zu points)  [%g]\n",
              n,
              m,
              sort_time + sorted_time,
              sort_time,
              sorted_time,
              merged_time,
              sort_time + merged_time,
              direct_time,
              m_direct,
              check);
}
/** n signed atoms and m points in the unit square. */
void random_2d(const std::size_t      n,
               const std::size_t      m,
               std::vector<Point<2>> &points,
               std::vector<double>   &weights,
               std::vector<Point<2>> &at)
{
  std::mt19937_64                        random(2);
  std::uniform_real_distribution<double> u(0, 1);
  points.resize(n), weights.resize(n), at.resize(m);
  for (std::size_t j = 0; j < n; ++j)
    points[j] = Point<2>(u(random), u(random)), weights[j] = (u(random) - 0.5) / n;
  for (Point<2> &x : at)
    x = Point<2>(u(random), u(random));
}

/** 2D: sliced with P directions against direct summation, N atoms, M points. */
void sliced_costs(const std::size_t n, const std::size_t m, const std::size_t m_direct)
{
  std::vector<Point<2>> points, at;
  std::vector<double>   weights;
  random_2d(n, m, points, weights, at);
  InteractionField<2> sliced(1.0, InteractionSummation::sliced, {100, 5, 1});
  auto                start = std::chrono::steady_clock::now();
  sliced.set_atoms(points, weights);
  const double atoms_time = seconds_since(start);
  start                   = std::chrono::steady_clock::now();
  std::vector<Tensor<1, 2>> v;
  std::vector<double>       se;
  sliced.velocities(at, v, &se);
  const double        sliced_time = seconds_since(start);
  InteractionField<2> direct(1.0, InteractionSummation::direct);
  direct.set_atoms(points, weights);
  start        = std::chrono::steady_clock::now();
  double error = 0, standard_error = 0, norm = 0;
  for (std::size_t k = 0; k < m_direct; ++k)
    {
      const Tensor<1, 2> exact = direct.velocity(at[k]);
      error += (v[k] - exact).norm_square(), standard_error += se[k] * se[k];
      norm += exact.norm_square();
    }
  const double direct_time = seconds_since(start) * double(m) / m_direct;
  std::printf("2D: N = %zu atoms, M = %zu points, P = 100: sliced %.3f s (set_atoms: sort, "
              "energy %.3f s; velocities at the M points %.3f s); direct %.1f s (timed on %zu "
              "points); rms error %.2e (reported standard error %.2e, rms |v| %.2e)\n",
              n,
              m,
              atoms_time + sliced_time,
              atoms_time,
              sliced_time,
              direct_time,
              m_direct,
              std::sqrt(error / m_direct),
              std::sqrt(standard_error / m_direct),
              std::sqrt(norm / m_direct));
}

/** The sliced error and time against P at N = M = 1e4 (2D). */
void sliced_tradeoff()
{
  std::vector<Point<2>> points, at;
  std::vector<double>   weights;
  random_2d(10000, 10000, points, weights, at);
  InteractionField<2> direct(1.0, InteractionSummation::direct);
  direct.set_atoms(points, weights);
  std::vector<Tensor<1, 2>> exact;
  direct.velocities(at, exact);
  for (const unsigned int P : {10u, 20u, 50u, 100u, 200u, 400u, 1000u})
    {
      InteractionField<2> sliced(1.0, InteractionSummation::sliced, {P, 5, 1});
      const auto          start = std::chrono::steady_clock::now();
      sliced.set_atoms(points, weights);
      std::vector<Tensor<1, 2>> v;
      std::vector<double>       se;
      sliced.velocities(at, v, &se);
      const double time  = seconds_since(start);
      double       error = 0, standard_error = 0;
      for (std::size_t k = 0; k < at.size(); ++k)
        error += (v[k] - exact[k]).norm_square(), standard_error += se[k] * se[k];
      std::printf("2D, N = M = 1e4: P = %4u: %.3f s, rms error %.2e, rms standard error %.2e\n",
                  P,
                  time,
                  std::sqrt(error / at.size()),
                  std::sqrt(standard_error / at.size()));
    }
}

/** Seconds of mmd-2d (Q1, 160 x 160 cells, 102400 DoFs) to @p steps steps of 1e-3. */
double mmd_2d_run(const unsigned int steps, std::string &description)
{
  ProblemParameters parameters =
      ProblemParameters::from_file(std::string(DENSITYFLOW_PROBLEMS) + "/mmd-2d.prm",
                                   {"Output/Write files=false",
                                    "Mesh/Subdivisions=5, 5",
                                    "Mesh/Refinement=5",
                                    "Time/Time step=0.001",
                                    "Time/End time=" + std::to_string(0.001 * steps),
                                    "Output/Interval=1"});
  std::ostringstream log;
  MPI_Barrier(MPI_COMM_WORLD);
  const auto    start = std::chrono::steady_clock::now();
  Simulation<2> simulation(parameters, MPI_COMM_WORLD, log);
  simulation.run();
  description = simulation.solver().description();
  return Utilities::MPI::max(seconds_since(start), MPI_COMM_WORLD);
}
} // namespace

int main(int argc, char **argv)
{
  Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  const bool                       root = Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
  const std::string                only = argc > 1 ? argv[1] : "";
  if (only == "--only-step")
    {
      std::string  description;
      const double one = mmd_2d_run(1, description), three = mmd_2d_run(3, description);
      if (root)
        std::printf("mmd-2d on %u rank(s): %s\n  1 step: %.2f s, 3 steps: %.2f s: %.2f s per "
                    "SSP-RK3 step (setup and the diagnostics excluded by the difference)\n",
                    Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD),
                    description.c_str(),
                    one,
                    three,
                    (three - one) / 2);
      return 0;
    }
  velocity_costs(100000, 100000, 1000);
  velocity_costs(1000000, 1000000, 100);
  sliced_costs(100000, 100000, 1000);
  sliced_tradeoff();

  for (const unsigned int refinement : {8u, 10u})
    {
      ProblemParameters parameters =
          ProblemParameters::from_file(std::string(DENSITYFLOW_PROBLEMS) + "/mmd-1d.prm",
                                       {"Output/Write files=false",
                                        "Mesh/Refinement=" + std::to_string(refinement),
                                        "Time/End time=0.05"});
      std::ostringstream log;
      const auto         start = std::chrono::steady_clock::now();
      Simulation<1>      simulation(parameters, MPI_COMM_WORLD, log);
      simulation.run();
      const double total = seconds_since(start);
      std::printf("mmd-1d, %u cells, Q2: %u DoFs, %.3f s to t = 0.05 (setup and output "
                  "included)\n",
                  1u << refinement,
                  static_cast<unsigned int>(simulation.solver().n_dofs()),
                  total);
    }
}
