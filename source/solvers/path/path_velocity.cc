#include <densityflow/base/exceptions.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/solvers/path/path_solver.h>
#include <densityflow/solvers/path/path_velocity.h>

#include <deal.II/grid/grid_tools.h>
#include <deal.II/grid/grid_tools_cache.h>

#include <limits>

namespace densityflow
{
template <int dim>
struct PathVelocity<dim>::Cache
{
  Cache(const Triangulation<dim> &tria, const Mapping<dim> &mapping)
      : grid(tria, mapping)
  {}
  GridTools::Cache<dim>                             grid;
  typename Triangulation<dim>::active_cell_iterator hint;
  double       solved_time = std::numeric_limits<double>::quiet_NaN();
  unsigned int solves      = 0;
};

template <int dim>
PathVelocity<dim>::PathVelocity(const Mesh<dim> &mesh, PathSolver<dim> &solver)
    : solver(solver)
    , cache(std::make_unique<Cache>(mesh.triangulation(), mesh.mapping()))
{}

template <int dim>
PathVelocity<dim>::~PathVelocity() = default;

template <int dim>
void PathVelocity<dim>::evaluate(const Point<dim> &x,
                                 const double      t,
                                 Tensor<1, dim>   &v,
                                 double           *div) const
{
  if (!(t == cache->solved_time))
    {
      solver.solve_at_time(t);
      cache->solved_time = t;
      ++cache->solves;
    }
  const auto found =
      GridTools::find_active_cell_around_point(cache->grid, x, cache->hint, {}, 1e-10);
  AssertThrow(found.first.state() == IteratorState::valid && !found.first->is_artificial(),
              ExcMessage("PathVelocity: a point in no cell of this rank's part of the mesh."));
  cache->hint = found.first;
  const typename DoFHandler<dim>::active_cell_iterator cell(
      &solver.get_dof_handler().get_triangulation(),
      found.first->level(),
      found.first->index(),
      &solver.get_dof_handler());
  std::vector<double>         rho, divergence;
  std::vector<Tensor<1, dim>> velocity;
  solver.evaluate(cell, {x}, rho, velocity, div != nullptr ? &divergence : nullptr);
  v = velocity[0];
  if (div != nullptr)
    *div = divergence[0];
}

template <int dim>
Tensor<1, dim> PathVelocity<dim>::value(const Point<dim> &x, const double t) const
{
  Tensor<1, dim> v;
  evaluate(x, t, v, nullptr);
  return v;
}

template <int dim>
double PathVelocity<dim>::divergence(const Point<dim> &x, const double t) const
{
  Tensor<1, dim> v;
  double         div = 0;
  evaluate(x, t, v, &div);
  return div;
}

template <int dim>
bool PathVelocity<dim>::depends_on_time() const
{
  return true;
}

template <int dim>
unsigned int PathVelocity<dim>::n_solves() const
{
  return cache->solves;
}

template class PathVelocity<1>;
template class PathVelocity<2>;
template class PathVelocity<3>;
} // namespace densityflow
