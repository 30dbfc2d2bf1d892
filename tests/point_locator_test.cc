// The point locator (mesh.point_locator()) and the particle store's moves between ranks: on a box
// mesh every point is found in the cell that GridTools::find_active_cell_around_point finds, on the
// rank that owns it, with its data; points outside the domain are reported; hints from an earlier
// call (points moved to neighbouring cells) give the same cells. On a ball with a mapping of degree
// 2, points between a boundary cell's chord and its arc are in that cell. Particles keep their ids
// (above 2^53 too), log-densities and state when they are located or sent to other ranks.
#include <densityflow/mesh/mesh.h>
#include <densityflow/mesh/point_locator.h>
#include <densityflow/particles/particle_store.h>

#include <deal.II/base/mpi.h>
#include <deal.II/fe/mapping_q1.h>
#include <deal.II/grid/grid_tools.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

using namespace densityflow;

namespace
{
using CellIterator = Triangulation<2>::active_cell_iterator;

unsigned int n_ranks()
{
  return Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD);
}

unsigned int rank()
{
  return Utilities::MPI::this_mpi_process(MPI_COMM_WORLD);
}

/** Points with their data: the point's tag and its coordinates (stride 3). */
struct Points
{
  std::vector<Point<2>>     points;
  std::vector<double>       data;
  std::vector<CellIterator> cells;
};

/** Keeps the point of tag @p tag on rank tag % P, whoever owns its cell. */
void add(Points &p, const std::size_t tag, const Point<2> &x)
{
  if (tag % n_ranks() != rank())
    return;
  p.points.push_back(x);
  p.data.insert(p.data.end(), {double(tag), x[0], x[1]});
}

/**
 * Checks a located set: each point in a locally owned cell that holds it (@p expected
 * cell, by tag, where given; else the cell find_active_cell_around_point finds), its
 * data moved with it, and every tag either here once or reported outside once.
 */
void expect_located(const Mesh<2>                       &mesh,
                    const Points                        &p,
                    const std::vector<std::size_t>      &outside_tags,
                    const std::set<std::size_t>         &all_tags,
                    const std::map<std::size_t, CellId> &expected = {})
{
  // (No ASSERT before the collective below: the other ranks would wait for this one.)
  EXPECT_EQ(p.cells.size(), p.points.size());
  EXPECT_EQ(p.data.size(), 3 * p.points.size());
  std::vector<std::size_t> tags(outside_tags);
  const std::size_t        n = std::min({p.points.size(), p.cells.size(), p.data.size() / 3});
  for (std::size_t k = 0; k < n; ++k)
    {
      const std::size_t tag = static_cast<std::size_t>(p.data[3 * k]);
      tags.push_back(tag);
      EXPECT_EQ(p.data[3 * k + 1], p.points[k][0]) << "tag " << tag;
      EXPECT_EQ(p.data[3 * k + 2], p.points[k][1]) << "tag " << tag;
      EXPECT_TRUE(p.cells[k]->is_locally_owned()) << "tag " << tag;
      if (!p.cells[k]->is_locally_owned())
        continue;
      if (expected.count(tag))
        EXPECT_EQ(p.cells[k]->id(), expected.at(tag)) << "tag " << tag;
      else
        {
          const auto found = GridTools::find_active_cell_around_point(
              mesh.mapping(),
              static_cast<const Triangulation<2> &>(mesh.triangulation()),
              p.points[k]);
          EXPECT_EQ(p.cells[k], found.first) << "tag " << tag << " at " << p.points[k];
        }
    }
  // Grouped by cell, in the order of the cells' active indices.
  for (std::size_t k = 1; k < n; ++k)
    EXPECT_LE(p.cells[k - 1]->active_cell_index(), p.cells[k]->active_cell_index()) << k;
  std::multiset<std::size_t> all;
  for (const auto &part : Utilities::MPI::all_gather(MPI_COMM_WORLD, tags))
    all.insert(part.begin(), part.end());
  EXPECT_EQ(all.size(), all_tags.size());
  for (const std::size_t tag : all_tags)
    EXPECT_EQ(all.count(tag), 1u) << "tag " << tag;
}

/** Locates @p p and returns the tags of the points reported outside. */
std::vector<std::size_t> locate(const Mesh<2> &mesh, Points &p)
{
  const std::vector<double>      data = p.data;
  const std::vector<std::size_t> outside =
      mesh.point_locator().locate(p.points, p.data, 3, p.cells);
  std::vector<std::size_t> tags;
  for (const std::size_t k : outside)
    tags.push_back(static_cast<std::size_t>(data[3 * k]));
  return tags;
}

/** The tags of @p p on all ranks. */
std::set<std::size_t> all_tags(const Points &p)
{
  std::vector<std::size_t> tags;
  for (std::size_t k = 0; k < p.points.size(); ++k)
    tags.push_back(static_cast<std::size_t>(p.data[3 * k]));
  std::set<std::size_t> all;
  for (const auto &part : Utilities::MPI::all_gather(MPI_COMM_WORLD, tags))
    all.insert(part.begin(), part.end());
  return all;
}
} // namespace

// Points anywhere in [-1.2, 1.2]^2 (some outside the box), held by other ranks than
// their cells' owners; then moved by up to a cell and located again from the cells
// found first (the hints).
TEST(PointLocator, FindsTheCellOnABoxAndMovesTheData)
{
  MeshParameters parameters;
  parameters.lower_corner = {-1, -1};
  parameters.upper_corner = {1, 1};
  parameters.refinement   = 3;
  const Mesh<2> mesh(parameters, 1, MPI_COMM_WORLD);

  const std::size_t                      n = 2000;
  std::mt19937_64                        generator(7);
  std::uniform_real_distribution<double> uniform(-1.2, 1.2);
  std::vector<Point<2>>                  all(n);
  Points                                 p;
  std::vector<std::size_t>               expected_outside;
  for (std::size_t tag = 0; tag < n; ++tag)
    {
      all[tag] = Point<2>(uniform(generator), uniform(generator));
      if (std::abs(all[tag][0]) > 1 || std::abs(all[tag][1]) > 1)
        expected_outside.push_back(tag);
      add(p, tag, all[tag]);
    }
  const std::set<std::size_t> tags = all_tags(p);
  ASSERT_EQ(tags.size(), n);
  std::vector<std::size_t> outside = locate(mesh, p);
  expect_located(mesh, p, outside, tags);
  // On one rank every point is found here, in tag order: a cell's points keep that order.
  if (n_ranks() == 1)
    for (std::size_t k = 1; k < p.points.size(); ++k)
      if (p.cells[k - 1] == p.cells[k])
        {
          EXPECT_LT(p.data[3 * (k - 1)], p.data[3 * k]) << k;
        }
  std::vector<std::size_t> all_outside;
  for (const auto &part : Utilities::MPI::all_gather(MPI_COMM_WORLD, outside))
    all_outside.insert(all_outside.end(), part.begin(), part.end());
  std::sort(all_outside.begin(), all_outside.end());
  EXPECT_EQ(all_outside, expected_outside);
  EXPECT_GT(expected_outside.size(), 0u);

  // Moved by up to one cell width (0.25): the hint, its neighbours or another rank.
  std::uniform_real_distribution<double> step(-0.25, 0.25);
  for (std::size_t k = 0; k < p.points.size(); ++k)
    {
      for (unsigned int d = 0; d < 2; ++d)
        p.points[k][d] = std::max(-0.999, std::min(0.999, p.points[k][d] + step(generator)));
      p.data[3 * k + 1] = p.points[k][0];
      p.data[3 * k + 2] = p.points[k][1];
    }
  const std::set<std::size_t> inside = all_tags(p);
  outside                            = locate(mesh, p);
  EXPECT_TRUE(outside.empty());
  expect_located(mesh, p, outside, inside);
}

// On a box mesh a point is in the first cell, by active index, of this rank's cells whose
// box (widened by 1e-10 of its width) holds it: on a face, an edge or a vertex, within that
// tolerance of one, or inside. The bucket grid tries the cell that covers most of a bucket
// first, which must not change the answer near faces. Rectangular cells (1/6 x 1/4).
TEST(PointLocator, OnABoxThePointIsInTheFirstCellThatHoldsIt)
{
  MeshParameters parameters;
  parameters.lower_corner = {-1, -1};
  parameters.upper_corner = {1, 1};
  parameters.subdivisions = {3, 2};
  parameters.refinement   = 2;
  const Mesh<2> mesh(parameters, 1, MPI_COMM_WORLD);

  std::vector<Point<2>>                  points;
  std::mt19937_64                        generator(11);
  std::uniform_real_distribution<double> uniform(-1, 1);
  for (const auto &cell : mesh.triangulation().active_cell_iterators())
    {
      const Point<2> lower = cell->vertex(0), upper = cell->vertex(3);
      const double   width = upper[0] - lower[0];
      // Vertices, face midpoints, and points off a face by a tenth of the tolerance and by
      // ten times it, on both sides.
      for (unsigned int v = 0; v < 4; ++v)
        points.push_back(cell->vertex(v));
      for (const double offset : {0.0, 1e-11, -1e-11, 1e-9, -1e-9})
        {
          points.emplace_back(lower[0] + offset * width, 0.5 * (lower[1] + upper[1]));
          points.emplace_back(0.5 * (lower[0] + upper[0]), upper[1] + offset * width);
        }
    }
  for (unsigned int k = 0; k < 2000; ++k)
    points.emplace_back(uniform(generator), uniform(generator));

  const auto found = mesh.point_locator().find_locally(points, {});
  ASSERT_EQ(found.size(), points.size());
  unsigned int n_on_faces = 0;
  // The bucket grid ends at the box around this rank's cells: a point beyond it by less
  // than the tolerance is left to locate()'s global search, and not checked here.
  std::vector<Point<2>> owned_vertices;
  for (const auto &cell : mesh.triangulation().active_cell_iterators())
    if (cell->is_locally_owned())
      for (unsigned int v = 0; v < 4; ++v)
        owned_vertices.push_back(cell->vertex(v));
  const BoundingBox<2> region(owned_vertices);
  for (std::size_t k = 0; k < points.size(); ++k)
    {
      if (!region.point_inside(points[k]))
        continue;
      CellIterator first;
      unsigned int n_holding = 0;
      for (const auto &cell : mesh.triangulation().active_cell_iterators())
        if (cell->is_locally_owned())
          {
            const Point<2> lower = cell->vertex(0), upper = cell->vertex(3);
            const double   tolerance = 1e-10 * (upper[0] - lower[0]);
            bool           holds     = true;
            for (unsigned int d = 0; d < 2; ++d)
              holds = holds && points[k][d] >= lower[d] - tolerance &&
                      points[k][d] <= upper[d] + tolerance;
            if (holds && n_holding++ == 0)
              first = cell;
          }
      n_on_faces += n_holding > 1;
      EXPECT_EQ(found[k], first) << "point " << points[k];
    }
  // The face points were where they were meant to be: 896 of them in two or more cells
  // (one rank; fewer on more, where a face's other cell is another rank's).
  EXPECT_GT(Utilities::MPI::sum(n_on_faces, MPI_COMM_WORLD), 400u);
}

// Ball of radius 1, mapping of degree 2 (Discretization/Degree = 2): the midpoint
// between each boundary face's chord and its arc lies in that face's cell, where a
// bilinear mapping would find no cell. Each point is held by another rank than the
// cell's owner where there are two.
namespace
{
void expect_points_between_chord_and_arc_found(const unsigned int refinement)
{
  MeshParameters parameters;
  parameters.shape      = MeshShape::ball;
  parameters.center     = {0, 0};
  parameters.radius     = 1;
  parameters.refinement = refinement;
  const Mesh<2> mesh(parameters, 2, MPI_COMM_WORLD);

  // Every rank makes the points of its own boundary cells; all ranks learn them.
  std::vector<std::pair<Point<2>, std::string>> local;
  for (const auto &cell : mesh.triangulation().active_cell_iterators())
    if (cell->is_locally_owned())
      for (const unsigned int f : cell->face_indices())
        if (cell->face(f)->at_boundary())
          {
            const Point<2> chord = 0.5 * (cell->face(f)->vertex(0) + cell->face(f)->vertex(1));
            const Point<2> arc   = chord / chord.norm();
            const Point<2> x     = chord + 0.5 * (arc - chord);
            // The premise: a bilinear cell does not hold the point.
            const Point<2> unit = StaticMappingQ1<2>::mapping.transform_real_to_unit_cell(cell, x);
            EXPECT_FALSE(GeometryInfo<2>::is_inside_unit_cell(unit, 1e-10));
            local.emplace_back(x, cell->id().to_string());
          }
  Points                        p;
  std::map<std::size_t, CellId> expected;
  std::size_t                   n = 0;
  for (const auto &part : Utilities::MPI::all_gather(MPI_COMM_WORLD, local))
    for (const auto &[x, id] : part)
      {
        expected.emplace(n, CellId(id));
        add(p, n++, x);
      }
  EXPECT_EQ(n, 4u << refinement); // the 4 boundary faces of the coarse ball, refined
  const std::set<std::size_t>    tags    = all_tags(p);
  const std::vector<std::size_t> outside = locate(mesh, p);
  EXPECT_TRUE(Utilities::MPI::sum(outside.size(), MPI_COMM_WORLD) == 0)
      << "points between chord and arc reported outside the ball";
  expect_located(mesh, p, outside, tags, expected);
}
} // namespace

TEST(PointLocator, FindsPointsBetweenChordAndArcOnACurvedBoundary)
{
  expect_points_between_chord_and_arc_found(2);
}

// Unrefined, each boundary face spans a quarter circle around an axis: its arc reaches
// beyond the box of the cell's vertices (and of the rank's cells).
TEST(PointLocator, FindsPointsBeyondTheVerticesBoxOfACurvedCell)
{
  expect_points_between_chord_and_arc_found(0);
}

namespace
{
/** Particle k of the store test: id 2^60 + 2k + 1 (no double holds it), its point. */
std::uint64_t store_id(const std::size_t k)
{
  return (std::uint64_t(1) << 60) + 2 * k + 1;
}

/** Checks that every particle carries what it was given and that all are there once. */
void expect_intact(const ParticleStore<2> &store, const std::vector<Point<2>> &points)
{
  std::vector<std::uint64_t> ids;
  for (std::size_t j = 0; j < store.size(); ++j)
    {
      const std::uint64_t id = store.ids()[j];
      ids.push_back(id);
      const std::size_t k = (id - store_id(0)) / 2;
      // (No ASSERT: a rank that returned early would leave the others in the collective.)
      EXPECT_EQ((id - store_id(0)) % 2, 0u) << "id " << id << " changed on the way";
      if ((id - store_id(0)) % 2 != 0 || k >= points.size())
        continue;
      EXPECT_EQ(store.positions()[j], points[k]);
      EXPECT_EQ(store.log_densities()[j], 0.5 * k);
      EXPECT_EQ(store.state(j)[0], double(k));
      EXPECT_EQ(store.state(j)[1], -double(k));
    }
  std::set<std::uint64_t> all;
  std::size_t             n = 0;
  for (const auto &part : Utilities::MPI::all_gather(MPI_COMM_WORLD, ids))
    {
      all.insert(part.begin(), part.end());
      n += part.size();
    }
  EXPECT_EQ(n, points.size());
  EXPECT_EQ(all.size(), points.size());
}

/**
 * Each particle in a locally owned cell that holds it, grouped by cell in the order of the
 * cells' active indices; on one rank a cell's particles in their order before, the order of
 * @p ids_before.
 */
void expect_located_in_order(const ParticleStore<2>           &store,
                             const std::vector<std::uint64_t> &ids_before)
{
  std::map<std::uint64_t, std::size_t> place_before;
  for (std::size_t j = 0; j < ids_before.size(); ++j)
    place_before[ids_before[j]] = j;
  for (std::size_t j = 0; j < store.size(); ++j)
    {
      EXPECT_TRUE(store.cells()[j]->is_locally_owned() &&
                  store.cells()[j]->point_inside(store.positions()[j]));
      if (j == 0)
        continue;
      const unsigned int a = store.cells()[j - 1]->active_cell_index();
      const unsigned int b = store.cells()[j]->active_cell_index();
      EXPECT_LE(a, b) << "particle " << j << " is not grouped by cell";
      if (n_ranks() == 1 && a == b)
        {
          EXPECT_LT(place_before.at(store.ids()[j - 1]), place_before.at(store.ids()[j]))
              << "a cell's particles reordered";
        }
    }
}
} // namespace

// Ids above 2^53 (which a double would round), log-densities and state travel exactly
// with the particles when they are located in cells (from no cells, and again after a
// move, when on one rank the store only reorders its arrays) and when they are sent by id.
TEST(ParticleStore, ParticlesTravelIntactBetweenRanks)
{
  MeshParameters parameters;
  parameters.lower_corner = {-1, -1};
  parameters.upper_corner = {1, 1};
  parameters.refinement   = 3;
  const Mesh<2> mesh(parameters, 1, MPI_COMM_WORLD);

  std::mt19937_64                        generator(11);
  std::uniform_real_distribution<double> uniform(-1, 1);
  std::vector<Point<2>>                  points(300);
  ParticleStore<2>                       store(2);
  for (std::size_t k = 0; k < points.size(); ++k)
    {
      points[k] = Point<2>(uniform(generator), uniform(generator));
      if (k % n_ranks() == rank())
        {
          store.push_back(points[k], store_id(k), 0.5 * k);
          store.state(store.size() - 1)[0] = k;
          store.state(store.size() - 1)[1] = -double(k);
        }
    }
  std::vector<std::uint64_t> ids_before = store.ids();
  EXPECT_TRUE(store.locate(mesh.point_locator()).empty());
  expect_intact(store, points);
  expect_located_in_order(store, ids_before);

  // Moved by less than a cell and located again: on one rank every particle stays, and
  // the store reorders its arrays itself (no records); the same result. Every rank moves
  // all points alike, so that each knows where the others' particles went.
  const auto moved = [](const Point<2> &p, const std::size_t k) {
    return Point<2>(std::clamp(p[0] + 0.1 * std::sin(7.0 * k), -1.0, 1.0),
                    std::clamp(p[1] + 0.1 * std::cos(5.0 * k), -1.0, 1.0));
  };
  for (std::size_t j = 0; j < store.size(); ++j)
    store.positions()[j] = moved(store.positions()[j], (store.ids()[j] - store_id(0)) / 2);
  for (std::size_t k = 0; k < points.size(); ++k)
    points[k] = moved(points[k], k);
  ids_before = store.ids();
  EXPECT_TRUE(store.locate(mesh.point_locator()).empty());
  expect_intact(store, points);
  expect_located_in_order(store, ids_before);

  // Particle k to rank (k + 1) % P.
  std::vector<unsigned int> destination;
  for (std::size_t j = 0; j < store.size(); ++j)
    destination.push_back(((store.ids()[j] - store_id(0)) / 2 + 1) % n_ranks());
  store.send(destination, MPI_COMM_WORLD);
  expect_intact(store, points);
  for (std::size_t j = 0; j < store.size(); ++j)
    EXPECT_EQ(((store.ids()[j] - store_id(0)) / 2 + 1) % n_ranks(), rank());
}
