#pragma once

#include <densityflow/physics/velocity_field.h>

#include <memory>

namespace densityflow
{
template <int dim>
class Mesh;
template <int dim>
class PathSolver;

/**
 * The velocity v_t = grad phi_h of a path, as a VelocityField at any point and time: a
 * transport solver fed with it moves rho0 along the path (the self-consistency check of
 * the path model: its density must follow rho_t). Each new time is a solve of the
 * path's weighted Neumann problem (PathSolver::solve_at_time), which is collective:
 * every rank must ask for the times in the same order, as a solver assembling on its
 * locally owned cells does. Points are located on the path solver's mesh; each must be
 * in a locally owned or ghost cell of this rank.
 */
template <int dim>
class PathVelocity : public VelocityField<dim>
{
public:
  /**
   * @p solver, on @p mesh, must have its initial density set; both must outlive this
   * field.
   */
  PathVelocity(const Mesh<dim> &mesh, PathSolver<dim> &solver);
  ~PathVelocity() override;

  Tensor<1, dim> value(const Point<dim> &x, const double t) const override;
  /** The Laplacian of phi_h (zero for Q1). */
  double divergence(const Point<dim> &x, const double t) const override;
  bool   depends_on_time() const override;

  /** The solves of the path problem so far (one per distinct time asked for). */
  unsigned int n_solves() const;

private:
  struct Cache;
  /** v_h and div v_h at @p x at time @p t. */
  void evaluate(const Point<dim> &x, const double t, Tensor<1, dim> &v, double *div) const;

  PathSolver<dim>       &solver;
  std::unique_ptr<Cache> cache;
};
} // namespace densityflow
