// The distance benchmark: the cost of comparing N = 1e4..1e6 points with a density
// represented by 1e5..1e6 quadrature points (2D, Q1, 9 Gauss points per cell), and of
// the exact 1D Wasserstein distances. Per run: locating the points in cells, all
// distances with P = 100 projections (moments, histogram TV, sliced energy distance,
// sliced W2), and the same with P = 1 (so the slicing's share shows).
//
//   distances_benchmark            (1 rank)
//   distances_benchmark DIM REFINEMENT N   one case, e.g. 2 8 10000
#include <densityflow/base/random.h>
#include <densityflow/distances/distances.h>
#include <densityflow/mesh/point_locator.h>
#include <densityflow/simulation/simulation.h>

#include <deal.II/base/mpi.h>

#include <cstdio>
#include <sstream>

using namespace densityflow;

namespace
{
template <int dim>
std::vector<Point<dim>> sample(const std::size_t n, const bool root)
{
  std::vector<Point<dim>> points;
  if (!root)
    return points;
  const ParticleRandom random(42);
  double               z[4];
  for (std::size_t i = 0; i < n; ++i)
    {
      random.normals(i, 0, 0, z);
      Point<dim> p;
      for (unsigned int d = 0; d < dim; ++d)
        p[d] = 0.5 + z[d];
      points.push_back(p);
    }
  return points;
}

template <int dim>
void run(const unsigned int refinement, const std::size_t n, const MPI_Comm comm)
{
  const bool         root = Utilities::MPI::this_mpi_process(comm) == 0;
  std::ostringstream prm, log;
  prm << "set Dimension = " << dim
      << "\nsubsection Mesh\n set Lower corner = -6, -6\n set Upper corner = 6, 6\n"
      << " set Refinement = " << refinement
      << "\nend\nsubsection Physics\n set Potential = 0\nend\n"
      << "subsection Initial density\n set Expression = exp(-(x^2" << (dim > 1 ? " + y^2" : "")
      << ") / 2)\nend\n"
      << "subsection Output\n set Write files = false\nend\n";
  Simulation<dim>    simulation(ProblemParameters::from_string(prm.str()), comm, log);
  PointLocator<dim> &locator = simulation.mesh().point_locator();

  std::vector<Point<dim>>                                        points = sample<dim>(n, root);
  std::vector<double>                                            weights(points.size(), 1.0);
  std::vector<typename Triangulation<dim>::active_cell_iterator> cells;
  double                                                         t0 = MPI_Wtime();
  const auto   outside        = locator.locate(points, weights, 1, cells).size();
  const double locate_seconds = MPI_Wtime() - t0;
  const auto   statistics     = simulation.solver().statistics(nullptr);

  double            seconds[2];
  EnsembleDistances d, d_one;
  for (const unsigned int projections : {100u, 1u})
    {
      DistanceParameters parameters;
      parameters.projections = projections;
      const DensityComparison<dim> comparison(parameters, 3, comm);
      t0 = MPI_Wtime();
      (projections == 1 ? d_one : d) =
          comparison.compare(simulation.solver(), statistics, points, weights, cells, outside);
      seconds[projections == 1] = MPI_Wtime() - t0;
    }
  if (root)
    std::printf(
        "%3u %9zu %9zu %10.3f %14.3f %12.3f %14.6e\n",
        dim,
        n,
        static_cast<std::size_t>(simulation.mesh().triangulation().n_global_active_cells()) *
            (dim == 1 ? 3 : 9),
        locate_seconds,
        seconds[0],
        seconds[1],
        dim == 1 ? d.w2 : d.sliced_w2);
}
} // namespace

int main(int argc, char **argv)
{
  Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  const MPI_Comm                   comm = MPI_COMM_WORLD;
  if (Utilities::MPI::this_mpi_process(comm) == 0)
    std::printf("distances, %u rank(s); seconds for: locating the points in cells; all distances "
                "with P = 100 "
                "projections; the same with P = 1\n%3s %9s %9s %10s %14s %12s %14s\n",
                Utilities::MPI::n_mpi_processes(comm),
                "dim",
                "N",
                "atoms",
                "locate_s",
                "distances_P100",
                "distances_P1",
                "(s)w2");
  if (argc == 4) // distances_benchmark DIM REFINEMENT N: one case (for profiles)
    {
      const unsigned int dim = std::stoul(argv[1]), refinement = std::stoul(argv[2]);
      const std::size_t  n = std::stoul(argv[3]);
      if (dim == 1)
        run<1>(refinement, n, comm);
      else
        run<2>(refinement, n, comm);
      return 0;
    }
  for (const unsigned int refinement : {7u, 8u})
    for (const std::size_t n : {10000ul, 100000ul, 1000000ul})
      run<2>(refinement, n, comm);
  // 1D: exact W1 and W2 through the quantile function (3 Gauss points per cell).
  for (const std::size_t n : {10000ul, 100000ul, 1000000ul})
    run<1>(15, n, comm);
  return 0;
}
