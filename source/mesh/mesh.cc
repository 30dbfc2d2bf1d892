#include <densityflow/base/exceptions.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/mesh/point_locator.h>

#include <deal.II/distributed/shared_tria.h>
#include <deal.II/distributed/tria.h>
#include <deal.II/fe/mapping_q.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/grid_in.h>
#include <deal.II/grid/grid_tools.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace densityflow
{
void MeshParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Mesh");
  prm.declare_entry("Shape",
                    "box",
                    Patterns::Selection("box|ball|shell|L-shape|file"),
                    "The domain: box (between Lower corner and Upper corner), ball (Center, "
                    "Radius), shell (Center, Inner radius, Radius), L-shape (the cube "
                    "[Lower corner, Upper corner] of the first coordinates without its upper "
                    "quadrant), or file (a Gmsh .msh file, see File).");
  prm.declare_entry("Lower corner",
                    "-1, -1, -1",
                    Patterns::List(Patterns::Double()),
                    "Lower corner of the box; the first dim values are used.");
  prm.declare_entry("Upper corner",
                    "1, 1, 1",
                    Patterns::List(Patterns::Double()),
                    "Upper corner of the box; the first dim values are used.");
  prm.declare_entry("Subdivisions",
                    "1",
                    Patterns::List(Patterns::Integer(1)),
                    "Coarse cells of the box per coordinate direction: one value for all "
                    "directions or one per direction. Use it to keep cells square on a box "
                    "that is not a cube.");
  prm.declare_entry("Center",
                    "0, 0, 0",
                    Patterns::List(Patterns::Double()),
                    "Center of the ball or shell; the first dim values are used.");
  prm.declare_entry(
      "Radius", "1", Patterns::Double(), "Radius of the ball; outer radius of the shell.");
  prm.declare_entry("Inner radius", "0.5", Patterns::Double(), "Inner radius of the shell.");
  prm.declare_entry("File",
                    "",
                    Patterns::Anything(),
                    "Gmsh mesh (.msh, format 2 or 4) for Shape = file; a relative path is "
                    "relative to the folder of the .prm file.");
  prm.declare_entry("Refinement",
                    "3",
                    Patterns::Integer(0, 20),
                    "Number of global refinements of the coarse mesh.");
  prm.declare_entry("Periodic",
                    "",
                    Patterns::Anything(),
                    "Periodic directions of a box: one true or false per coordinate direction "
                    "(\"true, false\": x periodic, y not). The walls x_d = lower_d and "
                    "x_d = upper_d of a periodic direction are one (Fokker-Planck and transport "
                    "models; V and the velocity must be periodic there); particles leaving through "
                    "one come back through the "
                    "other. Empty: none.");
  prm.leave_subsection();
}

void MeshParameters::parse_parameters(ParameterHandler &prm, const std::string &base_directory)
{
  prm.enter_subsection("Mesh");
  const std::string shape_name = prm.get("Shape");
  shape                        = shape_name == "box"     ? MeshShape::box
                                 : shape_name == "ball"  ? MeshShape::ball
                                 : shape_name == "shell" ? MeshShape::shell
                                 : shape_name == "file"  ? MeshShape::file
                                                         : MeshShape::l_shape;
  const auto doubles           = [&](const std::string &name) {
    return Utilities::string_to_double(Utilities::split_string_list(prm.get(name)));
  };
  lower_corner = doubles("Lower corner");
  upper_corner = doubles("Upper corner");
  center       = doubles("Center");
  subdivisions.clear();
  for (const int s :
       Utilities::string_to_int(Utilities::split_string_list(prm.get("Subdivisions"))))
    subdivisions.push_back(s);
  radius       = prm.get_double("Radius");
  inner_radius = prm.get_double("Inner radius");
  file         = prm.get("File");
  refinement   = prm.get_integer("Refinement");
  periodic     = prm.get("Periodic");
  prm.leave_subsection();

  resolved_file.clear();
  if (!file.empty())
    {
      const std::filesystem::path path(file);
      resolved_file =
          path.is_absolute() ? file : (std::filesystem::path(base_directory) / path).string();
    }
}

namespace
{
template <int dim>
std::unique_ptr<parallel::TriangulationBase<dim>> make_triangulation(const MPI_Comm communicator,
                                                                     const bool     adapted)
{
  if constexpr (dim == 1)
    // p4est has no 1D; a shared triangulation partitioned along the line (z-order is
    // left to right there) keeps each rank's cells contiguous.
    return std::make_unique<parallel::shared::Triangulation<1>>(
        communicator,
        Triangulation<1>::none,
        false,
        parallel::shared::Triangulation<1>::partition_zorder);
  else
    {
      // After an adaptation deal.II numbers the new cells where the old ones were, so the
      // numbering (and with it the DoFs' and every sum's order) depends on the mesh's
      // history; rebuilt from the coarse mesh at every partition it depends on the mesh
      // alone, as after a load.
      using Tria = parallel::distributed::Triangulation<dim>;
      return std::make_unique<Tria>(communicator,
                                    Triangulation<dim>::none,
                                    adapted ? Tria::mesh_reconstruction_after_repartitioning
                                            : Tria::default_setting);
    }
}

template <int dim>
Point<dim> first_coordinates(const std::vector<double> &values, const std::string &name)
{
  if (values.size() < dim)
    throw InputError("Mesh/" + name + " has " + std::to_string(values.size()) + " value(s); a " +
                     std::to_string(dim) + "D mesh needs " + std::to_string(dim) + ".");
  Point<dim> p;
  for (unsigned int d = 0; d < dim; ++d)
    p[d] = values[d];
  return p;
}
} // namespace

template <int dim>
Mesh<dim>::Mesh(const MeshParameters &parameters,
                const unsigned int    fe_degree,
                const MPI_Comm        communicator,
                const std::string    &saved_refinement,
                const bool            adapted)
    : mpi_communicator(communicator)
    , tria(make_triangulation<dim>(communicator, adapted))
{
  create_coarse_mesh(parameters);
  set_up_periodicity(parameters.periodic);
  if (saved_refinement.empty())
    tria->refine_global(parameters.refinement);
  else
    {
      // p4est's load() wants the coarse mesh alone; on as many ranks as saved it keeps
      // the saved partition, else it shares the cells out evenly.
      auto *distributed = dynamic_cast<parallel::DistributedTriangulationBase<dim> *>(tria.get());
      AssertThrow(distributed != nullptr, ExcMessage("A saved refinement needs p4est (2D, 3D)."));
      distributed->load(saved_refinement);
    }

  // The bounding box of all vertices; every rank holds the whole coarse mesh, so the
  // coarse vertices (refined cells stay inside them for flat shapes) suffice for boxes.
  std::vector<Point<dim>> points;
  for (const auto &cell : tria->active_cell_iterators())
    if (!cell->is_artificial())
      for (const unsigned int v : cell->vertex_indices())
        points.push_back(cell->vertex(v));
  BoundingBox<dim> local(points);
  Point<dim>       lower = local.get_boundary_points().first;
  Point<dim>       upper = local.get_boundary_points().second;
  for (unsigned int d = 0; d < dim; ++d)
    {
      lower[d] = Utilities::MPI::min(lower[d], mpi_communicator);
      upper[d] = Utilities::MPI::max(upper[d], mpi_communicator);
    }
  domain_box   = BoundingBox<dim>(std::make_pair(lower, upper));
  mesh_mapping = std::make_unique<MappingQ<dim>>(curved ? std::max(1u, fe_degree) : 1u);
}

template <int dim>
Mesh<dim>::~Mesh() = default;

template <int dim>
void Mesh<dim>::save_refinement(const std::string &file) const
{
  const auto *distributed =
      dynamic_cast<const parallel::DistributedTriangulationBase<dim> *>(tria.get());
  AssertThrow(distributed != nullptr, ExcMessage("A saved refinement needs p4est (2D, 3D)."));
  distributed->save(file);
}

template <int dim>
void Mesh<dim>::create_coarse_mesh(const MeshParameters &parameters)
{
  const MeshShape    shape  = parameters.shape;
  const std::string  in_dim = " is not available in " + std::to_string(dim) + "D.";
  std::ostringstream description;

  if (shape == MeshShape::box)
    {
      const Point<dim> lower = first_coordinates<dim>(parameters.lower_corner, "Lower corner");
      const Point<dim> upper = first_coordinates<dim>(parameters.upper_corner, "Upper corner");
      for (unsigned int d = 0; d < dim; ++d)
        if (!(lower[d] < upper[d]))
          throw InputError("Mesh/Upper corner must exceed Mesh/Lower corner in every "
                           "coordinate, but in coordinate " +
                           std::to_string(d) + " it is " + std::to_string(upper[d]) +
                           " <= " + std::to_string(lower[d]) + ".");
      std::vector<unsigned int> repetitions(dim, parameters.subdivisions[0]);
      if (parameters.subdivisions.size() > 1)
        {
          if (parameters.subdivisions.size() < dim)
            throw InputError("Mesh/Subdivisions needs one value or " + std::to_string(dim) +
                             " values in " + std::to_string(dim) + "D.");
          for (unsigned int d = 0; d < dim; ++d)
            repetitions[d] = parameters.subdivisions[d];
        }
      GridGenerator::subdivided_hyper_rectangle(*tria, repetitions, lower, upper);
      box = true;
      description << "box [" << lower << "] - [" << upper << "]";
    }
  else if (shape == MeshShape::ball || shape == MeshShape::shell)
    {
      const Point<dim> center = first_coordinates<dim>(parameters.center, "Center");
      if (!(parameters.radius > 0))
        throw InputError("Mesh/Radius must be positive, but it is " +
                         std::to_string(parameters.radius) + ".");
      if (shape == MeshShape::ball)
        {
          if constexpr (dim == 1)
            {
              GridGenerator::hyper_cube(
                  *tria, center[0] - parameters.radius, center[0] + parameters.radius);
              box = true;
            }
          else
            {
              GridGenerator::hyper_ball(*tria, center, parameters.radius);
              curved = true;
            }
          description << "ball, center (" << center << "), radius " << parameters.radius;
        }
      else
        {
          if constexpr (dim == 1)
            throw InputError("Mesh/Shape = shell" + in_dim);
          else
            {
              if (!(parameters.inner_radius > 0 && parameters.inner_radius < parameters.radius))
                throw InputError("Mesh/Inner radius must lie in (0, Mesh/Radius), but it is " +
                                 std::to_string(parameters.inner_radius) + ".");
              GridGenerator::hyper_shell(*tria, center, parameters.inner_radius, parameters.radius);
              curved = true;
              description << "shell, center (" << center << "), radii " << parameters.inner_radius
                          << " and " << parameters.radius;
            }
        }
    }
  else if (shape == MeshShape::l_shape)
    {
      if constexpr (dim == 1)
        throw InputError("Mesh/Shape = L-shape" + in_dim);
      else
        {
          const double left  = parameters.lower_corner.at(0);
          const double right = parameters.upper_corner.at(0);
          if (!(left < right))
            throw InputError("Mesh/Shape = L-shape needs Lower corner < Upper corner in the "
                             "first coordinate.");
          GridGenerator::hyper_L(*tria, left, right);
          description << "L-shape [" << left << ", " << right << "]^" << dim;
        }
    }
  else
    {
      if (parameters.file.empty())
        throw InputError("Mesh/Shape = file needs Mesh/File (a Gmsh .msh file).");
      std::ifstream input(parameters.resolved_file);
      if (!input)
        throw InputError("Mesh/File = '" + parameters.file + "': cannot open '" +
                         parameters.resolved_file + "'.");
      try
        {
          GridIn<dim> grid_in;
          grid_in.attach_triangulation(*tria);
          grid_in.read_msh(input);
        }
      catch (const ExceptionBase &e)
        {
          std::ostringstream info;
          e.print_info(info);
          throw InputError("Mesh/File = '" + parameters.file + "' (" + parameters.resolved_file +
                           ") is not a valid " + std::to_string(dim) +
                           "D Gmsh mesh: " + Utilities::trim(info.str()));
        }
      catch (const std::exception &e)
        {
          throw InputError("Mesh/File = '" + parameters.file + "' (" + parameters.resolved_file +
                           ") is not a valid " + std::to_string(dim) + "D Gmsh mesh: " + e.what());
        }
      if (tria->n_global_active_cells() == 0)
        throw InputError("Mesh/File = '" + parameters.file + "' contains no " +
                         std::to_string(dim) + "D cells.");
      description << "Gmsh mesh " << parameters.file;
    }

  shape_description = description.str();
}

template <int dim>
void Mesh<dim>::set_up_periodicity(const std::string &text)
{
  periodic.assign(dim, false);
  if (Utilities::trim(text).empty())
    return;
  const std::vector<std::string> flags = Utilities::split_string_list(text);
  if (flags.size() != dim)
    throw InputError("Mesh/Periodic = " + text + " has " + std::to_string(flags.size()) +
                     " value(s); a " + std::to_string(dim) + "D box needs " + std::to_string(dim) +
                     " (true or false per direction).");
  for (unsigned int d = 0; d < dim; ++d)
    {
      if (flags[d] != "true" && flags[d] != "false")
        throw InputError("Mesh/Periodic = " + text + ": '" + flags[d] +
                         "' is neither true nor false.");
      periodic[d] = flags[d] == "true";
    }
  if (!is_periodic())
    return;
  if (!box)
    throw InputError("Mesh/Periodic = " + text +
                     ": periodic directions are those of a box; this mesh is not a box.");

  // The walls of the coarse box get the ids 2d (x_d = lower_d) and 2d + 1 (upper_d); the
  // pairs are given to the triangulation before refinement, so that p4est keeps the two
  // sides' refinement matched and the cells across a periodic wall are neighbours.
  const BoundingBox<dim> coarse_box = GridTools::compute_bounding_box(*tria);
  const auto            &corners    = coarse_box.get_boundary_points();
  double                 diameter   = 0;
  for (unsigned int d = 0; d < dim; ++d)
    diameter = std::max(diameter, coarse_box.side_length(d));
  for (const auto &cell : tria->cell_iterators_on_level(0))
    for (const unsigned int f : cell->face_indices())
      if (cell->face(f)->at_boundary())
        for (unsigned int d = 0; d < dim; ++d)
          {
            const double x = cell->face(f)->center()[d];
            if (std::abs(x - corners.first[d]) <= 1e-10 * diameter)
              cell->face(f)->set_boundary_id(2 * d);
            else if (std::abs(x - corners.second[d]) <= 1e-10 * diameter)
              cell->face(f)->set_boundary_id(2 * d + 1);
          }
  std::vector<GridTools::PeriodicFacePair<typename Triangulation<dim>::cell_iterator>> pairs;
  for (unsigned int d = 0; d < dim; ++d)
    if (periodic[d])
      GridTools::collect_periodic_faces(
          static_cast<const Triangulation<dim> &>(*tria), 2 * d, 2 * d + 1, d, pairs);
  tria->add_periodicity(pairs);
  shape_description += ", periodic in";
  for (unsigned int d = 0; d < dim; ++d)
    if (periodic[d])
      shape_description += std::string(" ") + "xyz"[d];
}

template <int dim>
const std::vector<bool> &Mesh<dim>::periodic_directions() const
{
  return periodic;
}

template <int dim>
bool Mesh<dim>::is_periodic() const
{
  return std::find(periodic.begin(), periodic.end(), true) != periodic.end();
}

template <int dim>
parallel::TriangulationBase<dim> &Mesh<dim>::triangulation()
{
  return *tria;
}

template <int dim>
const parallel::TriangulationBase<dim> &Mesh<dim>::triangulation() const
{
  return *tria;
}

template <int dim>
const Mapping<dim> &Mesh<dim>::mapping() const
{
  return *mesh_mapping;
}

template <int dim>
PointLocator<dim> &Mesh<dim>::point_locator() const
{
  // The mesh's cells have changed since the locator was built (Mesh/Adaptivity): its cell
  // lists are of cells that are gone.
  if (!locator || locator->outdated())
    {
      locator.reset();
      locator = std::make_unique<PointLocator<dim>>(*this, *mesh_mapping);
    }
  return *locator;
}

template <int dim>
bool Mesh<dim>::is_box() const
{
  return box;
}

template <int dim>
const BoundingBox<dim> &Mesh<dim>::bounding_box() const
{
  return domain_box;
}

template <int dim>
std::string Mesh<dim>::description() const
{
  std::ostringstream out;
  out << shape_description << ", " << tria->n_global_active_cells() << " cells";
  return out.str();
}

template <int dim>
MPI_Comm Mesh<dim>::communicator() const
{
  return mpi_communicator;
}

template class Mesh<1>;
template class Mesh<2>;
template class Mesh<3>;
} // namespace densityflow
