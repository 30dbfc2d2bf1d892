// The velocity-grid benchmark (Physics/Velocity grid): reading a 100 x 256 x 256 x 2
// float64 grid (105 MB) and checking it (the setup), interpolating it (value and
// divergence at random points and times), and flow-map particles (RK4, carrying
// log-density) on it, N = 1e5 and 1e6, in their per-rank arrays.
//
//   velocity_grid_benchmark              (1 rank)
//   mpirun -np 2 velocity_grid_benchmark (2 ranks: each reads the whole grid)
#include <densityflow/base/npy.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/particles/particle_ensemble.h>
#include <densityflow/physics/physics.h>
#include <densityflow/physics/velocity_grid.h>

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>

using namespace densityflow;

int main(int argc, char **argv)
{
  Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  const MPI_Comm                   comm  = MPI_COMM_WORLD;
  const unsigned int               ranks = Utilities::MPI::n_mpi_processes(comm);
  const bool                       root  = Utilities::MPI::this_mpi_process(comm) == 0;

  // A rotation that slows down in time plus a contraction: smooth, with non-zero divergence.
  const unsigned int n_t = 100, n = 256;
  const double       L = 4, T = 1;
  const std::string  file = "velocity_grid_benchmark.npy";
  if (root)
    {
      std::vector<double> values(std::size_t(n_t) * n * n * 2);
      for (unsigned int k = 0; k < n_t; ++k)
        for (unsigned int i = 0; i < n; ++i)
          for (unsigned int j = 0; j < n; ++j)
            {
              const double t = k * T / (n_t - 1), x = -L + i * 2 * L / (n - 1),
                           y       = -L + j * 2 * L / (n - 1);
              const std::size_t at = ((std::size_t(k) * n + i) * n + j) * 2;
              values[at]           = -(1 - t / 2) * y - 0.5 * x * std::cos(y);
              values[at + 1]       = (1 - t / 2) * x - 0.5 * y * std::cos(x);
            }
      write_npy(file, values, {n_t, n, n, 2});
    }
  MPI_Barrier(comm);

  MeshParameters mesh_parameters;
  mesh_parameters.lower_corner = {-L, -L};
  mesh_parameters.upper_corner = {L, L};
  mesh_parameters.refinement   = 6;
  const Mesh<2>          mesh(mesh_parameters, 1, comm);
  VelocityGridParameters grid_parameters;
  grid_parameters.file = grid_parameters.resolved_file = file;
  grid_parameters.lower_corner                         = {-L, -L};
  grid_parameters.upper_corner                         = {L, L};
  grid_parameters.end_time                             = T;

  MPI_Barrier(comm);
  double     start = MPI_Wtime();
  const auto grid  = read_velocity_grid<2>(grid_parameters, mesh.bounding_box(), T);
  MPI_Barrier(comm);
  const double setup = MPI_Wtime() - start;
  if (root)
    std::printf("velocity grid %u x %u x %u x 2 (float64, %.0f MB), %u rank(s)\n"
                "  setup (read + check, every rank): %.3f s\n",
                n_t,
                n,
                n,
                n_t * n * n * 2 * 8 / 1e6,
                ranks,
                setup);

  std::mt19937                           random(1);
  std::uniform_real_distribution<double> u(-L, L), time(0, T);
  std::vector<Point<2>>                  points(1000000);
  std::vector<double>                    times(points.size());
  for (std::size_t q = 0; q < points.size(); ++q)
    {
      points[q] = Point<2>(u(random), u(random));
      times[q]  = time(random);
    }
  double sum = 0;
  start      = MPI_Wtime();
  for (std::size_t q = 0; q < points.size(); ++q)
    sum += grid->value(points[q], times[q])[0] + grid->divergence(points[q], times[q]);
  const double evaluation = MPI_Wtime() - start;
  if (root)
    std::printf("  value + divergence at 1e6 random (x, t): %.3f s, %.1f ns per point (sum %.3g)\n",
                evaluation,
                evaluation * 1e9 / points.size(),
                sum);

  // Points close together, as particles from one density are: the grid's cache lines are
  // shared, and what remains is the arithmetic.
  std::normal_distribution<double> normal(0, 0.3);
  for (std::size_t q = 0; q < points.size(); ++q)
    points[q] = Point<2>(1 + normal(random), 0.5 + normal(random));
  std::sort(points.begin(), points.end(), [](const Point<2> &p, const Point<2> &q) {
    return p[0] < q[0];
  });
  start = MPI_Wtime();
  for (std::size_t q = 0; q < points.size(); ++q)
    sum += grid->value(points[q], 0.5)[0] + grid->divergence(points[q], 0.5);
  const double coherent = MPI_Wtime() - start;
  if (root)
    std::printf("  value + divergence at 1e6 points of N((1, 0.5), 0.09 I), sorted by x, t = 0.5: "
                "%.3f s, %.1f ns per point (sum %.3g)\n",
                coherent,
                coherent * 1e9 / points.size(),
                sum);

  PhysicsParameters physics_parameters;
  physics_parameters.model     = Model::transport;
  physics_parameters.diffusion = 0;
  Physics<2> physics(physics_parameters, {});
  physics.set_velocity(grid);
  const Expression<2> rho0(
      "exp(-((x - 1)^2 + (y - 0.5)^2) / 0.2)", {}, "Initial density/Expression");
  // The CPU time of this process beside the wall time: on a shared machine the wall
  // time measures the load as much as the code.
  if (root)
    std::printf("  flow-map particles (RK4 with log-density), arrays only\n%9s %6s %10s %16s %16s "
                "%16s\n",
                "N",
                "steps",
                "seconds",
                "particle-steps/s",
                "per core",
                "per CPU second");
  for (const std::uint64_t N : {100000ULL, 1000000ULL})
    {
      ParticleParameters parameters;
      parameters.number   = N;
      parameters.dynamics = {ParticleDynamics::flow_map};
      ParticleEnsemble<2> ensemble(ParticleDynamics::flow_map, 0, parameters, mesh, physics);
      ensemble.sample(rho0);
      const unsigned int steps = 10;
      MPI_Barrier(comm);
      start                   = MPI_Wtime();
      const std::clock_t cpu0 = std::clock();
      for (unsigned int s = 0; s < steps; ++s)
        ensemble.advance(0.01, nullptr);
      const double cpu = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
      MPI_Barrier(comm);
      const double seconds = MPI_Wtime() - start;
      const double rate    = double(N) * steps / seconds;
      // Each rank moves about N / ranks particles.
      const double cpu_rate = double(N) / ranks * steps / Utilities::MPI::max(cpu, comm);
      if (root)
        std::printf("%9llu %6u %10.4f %16.3e %16.3e %16.3e\n",
                    static_cast<unsigned long long>(N),
                    steps,
                    seconds,
                    rate,
                    rate / ranks,
                    cpu_rate);
    }
  if (root)
    std::remove(file.c_str());
  return 0;
}
