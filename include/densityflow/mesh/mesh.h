#pragma once

#include <deal.II/base/bounding_box.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>
#include <deal.II/distributed/tria_base.h>
#include <deal.II/fe/mapping.h>

#include <memory>
#include <string>
#include <vector>

namespace densityflow
{
using namespace dealii;

template <int dim>
class PointLocator;

/** The domain's shape (Mesh/Shape). */
enum class MeshShape
{
  box,
  ball,
  shell,
  l_shape,
  file
};

/**
 * The `Mesh` subsection: a generated shape (box, ball, shell, L-shape) or a Gmsh
 * .msh file, refined globally `Refinement` times.
 */
struct MeshParameters
{
  MeshShape             shape = MeshShape::box;
  std::vector<double>   lower_corner{-1, -1, -1};
  std::vector<double>   upper_corner{1, 1, 1};
  std::vector<unsigned> subdivisions{1};
  std::vector<double>   center{0, 0, 0};
  double                radius       = 1.0;
  double                inner_radius = 0.5;
  /** The mesh file as written in the .prm, and resolved against the .prm's folder. */
  std::string file;
  std::string resolved_file;
  unsigned    refinement = 0;
  /** `Periodic` as written: empty, or one true/false per direction (checked by Mesh). */
  std::string periodic;

  static void declare_parameters(ParameterHandler &prm);
  /** @param base_directory the folder relative to which `File` is resolved. */
  void parse_parameters(ParameterHandler &prm, const std::string &base_directory);
};

/**
 * The computational mesh: a distributed triangulation (p4est in 2D and 3D; in 1D,
 * where p4est has none, a shared triangulation partitioned along the line) built
 * from MeshParameters, and what every user of the mesh shares: one mapping (the
 * solver's) and one point locator built with it, so that particles, outputs and
 * comparisons place points in the cells the solver sees.
 */
template <int dim>
class Mesh
{
public:
  /** @param fe_degree the finite elements' degree, which the mapping takes where the
      boundary is curved. @param saved_refinement a file of save_refinement() (a
      checkpoint of an adapted mesh): its cells are loaded onto the coarse mesh instead of
      the global refinement (on any number of ranks; the coarse mesh must be the one it
      was saved from). @param adapted whether the mesh will be adapted: then p4est
      rebuilds deal.II's cells from the coarse mesh at every partition, so that cells and
      DoFs are numbered alike after an adaptation and after a load (a restart is the
      same run to the bit). */
  Mesh(const MeshParameters &parameters,
       const unsigned int    fe_degree,
       const MPI_Comm        communicator,
       const std::string    &saved_refinement = "",
       const bool            adapted          = false);
  ~Mesh();

  parallel::TriangulationBase<dim>       &triangulation();
  const parallel::TriangulationBase<dim> &triangulation() const;

  /** The mapping of the mesh: of the finite elements' degree where the boundary is
      curved, else bilinear. */
  const Mapping<dim> &mapping() const;

  /** The point locator of this mesh and mapping(), made at first use and after changes. */
  PointLocator<dim> &point_locator() const;

  /** Whether the domain is an axis-parallel box (then walls are planes x_i = const). */
  bool is_box() const;

  /**
   * Whether direction d of the box is periodic (`Mesh/Periodic`): its walls x_d = lower_d
   * (boundary id 2d) and x_d = upper_d (2d + 1) are one, the triangulation knows the pairs.
   * dim values, all false without periodicity.
   */
  const std::vector<bool> &periodic_directions() const;

  /** Whether any direction is periodic. */
  bool is_periodic() const;

  /** The domain's bounding box (over all ranks). */
  const BoundingBox<dim> &bounding_box() const;

  /**
   * Writes the refinement of the distributed mesh into @p file (and @p file.info), for
   * the constructor's saved_refinement (p4est; deal.II's files are not portable between
   * deal.II versions). 2D and 3D only. Collective.
   */
  void save_refinement(const std::string &file) const;

  /** One line for the log: shape, cells, refinement. */
  std::string description() const;

  MPI_Comm communicator() const;

private:
  void create_coarse_mesh(const MeshParameters &parameters);
  /** Parses `Mesh/Periodic` and pairs the opposite walls of the coarse box. */
  void set_up_periodicity(const std::string &periodic);

  MPI_Comm                                          mpi_communicator;
  std::unique_ptr<parallel::TriangulationBase<dim>> tria;
  std::unique_ptr<Mapping<dim>>                     mesh_mapping;
  mutable std::unique_ptr<PointLocator<dim>>        locator;
  bool                                              box    = false;
  bool                                              curved = false;
  std::vector<bool>                                 periodic;
  std::string                                       shape_description;
  BoundingBox<dim>                                  domain_box;
};
} // namespace densityflow
