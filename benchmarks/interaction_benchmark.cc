// The interaction benchmark: the nonlocal velocity -grad(W * mu) of N signed atoms at M
// points (W = -|z|, 1D), by sorting (sort + prefix sums + two binary searches per point)
// and by direct summation (O(N M), timed on a smaller M and extrapolated where it would
// take long), and one mmd-1d run's time per step. One rank.
//
//   interaction_benchmark
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
  for (std::size_t k = 0; k < m_direct; ++k)
    check += field.velocity_direct(at[k])[0];
  const double direct_time = seconds_since(start) * double(m) / m_direct;
  std::printf("N = %8zu atoms, M = %8zu points: sorted %.3f s (sort %.3f s, %.3f s for M "
              "evaluations); direct %.1f s (timed on %zu points)  [%g]\n",
              n,
              m,
              sort_time + sorted_time,
              sort_time,
              sorted_time,
              direct_time,
              m_direct,
              check);
}
} // namespace

int main(int argc, char **argv)
{
  Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  velocity_costs(100000, 100000, 1000);
  velocity_costs(1000000, 1000000, 100);

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
