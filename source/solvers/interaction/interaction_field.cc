#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/interaction/interaction_field.h>
#include <densityflow/solvers/interaction/sliced_directions.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace densityflow
{
template <int dim>
InteractionField<dim>::InteractionField(const double               exponent,
                                        const InteractionSummation summation,
                                        const SlicingParameters   &slicing)
    : InteractionField(RadialKernel::riesz(exponent), summation, slicing)
{}

template <int dim>
InteractionField<dim>::InteractionField(const RadialKernel        &kernel,
                                        const InteractionSummation summation,
                                        const SlicingParameters   &slicing)
    : kernel(kernel)
    , r(kernel.riesz_exponent()) // NaN for the kernels other than Riesz
    , method(resolve_summation(dim, r, summation, 0))
    , slicing(slicing)
{
  if (method == InteractionSummation::sliced)
    theta = sliced_directions<dim>(slicing);
}

template <int dim>
void InteractionField<dim>::set_atoms(std::vector<Point<dim>> new_points,
                                      std::vector<double>     new_weights)
{
  if constexpr (dim == 1)
    {
      // The radix sort of the distances, which is stable and exact.
      atoms.resize(new_points.size());
      for (std::size_t k = 0; k < new_points.size(); ++k)
        atoms[k] = {new_points[k][0], new_weights[k]};
      sort_atoms(atoms, workspace);
      prefix_sums(atoms, prefix);
      points.resize(atoms.size());
      weights.resize(atoms.size());
      for (std::size_t k = 0; k < atoms.size(); ++k)
        points[k][0] = atoms[k].first, weights[k] = atoms[k].second;
    }
  else
    {
      std::vector<std::size_t> order(new_points.size());
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](const std::size_t a, const std::size_t b) {
        for (unsigned int d = 0; d < dim; ++d)
          if (new_points[a][d] != new_points[b][d])
            return new_points[a][d] < new_points[b][d];
        return new_weights[a] < new_weights[b];
      });
      points.resize(order.size());
      weights.resize(order.size());
      for (std::size_t k = 0; k < order.size(); ++k)
        points[k] = new_points[order[k]], weights[k] = new_weights[order[k]];
      if (method == InteractionSummation::sliced)
        {
          energy_ready = false;
          slices.clear();
          slice_prefix.clear();
          if (evaluation_points.empty())
            return;
          if (orders_valid() || cache_orders())
            evaluate_cached();
          else
            slice(evaluation_points,
                  evaluation_velocity,
                  nullptr,
                  nullptr,
                  nullptr,
                  nullptr,
                  nullptr);
        }
    }
}

template <int dim>
void InteractionField<dim>::set_cell_rule(const std::vector<double> &unit_points,
                                          const std::vector<double> &unit_weights)
{
  if (dim != 1 || r != 1)
    return;
  const unsigned int n = unit_points.size();
  // Lagrange basis L_j at the Gauss points, integrated over [0, xi_q] by the same rule
  // (exact: L_j has degree n - 1).
  const auto lagrange = [&](const unsigned int j, const double s) {
    double value = 1;
    for (unsigned int m = 0; m < n; ++m)
      if (m != j)
        value *= (s - unit_points[m]) / (unit_points[j] - unit_points[m]);
    return value;
  };
  cell_size = n;
  cell_integrals.assign(n * n, 0);
  for (unsigned int q = 0; q < n; ++q)
    for (unsigned int j = 0; j < n; ++j)
      {
        double integral = 0;
        for (unsigned int i = 0; i < n; ++i)
          integral += unit_weights[i] * lagrange(j, unit_points[q] * unit_points[i]);
        cell_integrals[q * n + j] = unit_points[q] * integral / unit_weights[j];
      }
}

template <int dim>
double InteractionField<dim>::cell_correction(const std::size_t k) const
{
  const std::size_t first = k - k % cell_size;
  const std::size_t q     = k % cell_size;
  double            exact = 0, atoms_sum = 0;
  for (unsigned int j = 0; j < cell_size; ++j)
    {
      exact += cell_integrals[q * cell_size + j] * weights[first + j];
      atoms_sum += (j < q ? 1 : j == q ? 0 : -1) * weights[first + j];
    }
  // Within K: exact gives mu(< x) - mu(> x) = 2 mu_K(< x) - mu(K).
  double cell_mass = 0;
  for (unsigned int j = 0; j < cell_size; ++j)
    cell_mass += weights[first + j];
  return (2 * exact - cell_mass) - atoms_sum;
}

template <int dim>
Tensor<1, dim> InteractionField<dim>::velocity(const Point<dim> &x) const
{
  if constexpr (dim == 1)
    if (method == InteractionSummation::sorted)
      {
        Tensor<1, dim> v;
        v[0] = sign_sum_sorted(atoms, prefix, x[0]);
        if (cell_size > 0)
          {
            const auto at = std::lower_bound(
                atoms.begin(), atoms.end(), x[0], [](const Atom &a, const double p) {
                  return a.first < p;
                });
            if (at != atoms.end() && at->first == x[0])
              v[0] += cell_correction(at - atoms.begin());
          }
        return v;
      }
  if (method == InteractionSummation::sliced)
    {
      const auto at = std::lower_bound(
          evaluation_points.begin(), evaluation_points.end(), x, lexicographic_less<dim>);
      if (at != evaluation_points.end() && *at == x)
        return evaluation_velocity[at - evaluation_points.begin()];
      ++misses;
      return sliced_velocity(x);
    }
  return velocity_direct(x);
}

template <int dim>
Tensor<1, dim> InteractionField<dim>::velocity_direct(const Point<dim> &x) const
{
  if (kernel.type() != InteractionKernel::riesz)
    return velocity_of_kernel(x);
  Tensor<1, dim> v;
  std::size_t    hit = points.size();
  for (std::size_t j = 0; j < points.size(); ++j)
    {
      const Tensor<1, dim> d = x - points[j];
      const double         n = d.norm();
      if (n == 0)
        {
          hit = std::min(hit, j);
          continue;
        }
      // r |d|^(r - 2) d; for r = 1 exactly the unit vector (the sign in 1D).
      v += (r == 1 ? weights[j] / n : r * weights[j] * std::pow(n, r - 2)) * d;
    }
  if (cell_size > 0 && hit < points.size())
    v[0] += cell_correction(hit);
  return v;
}

template <int dim>
Tensor<1, dim> InteractionField<dim>::velocity_of_kernel(const Point<dim> &x) const
{
  Tensor<1, dim> v;
  for (std::size_t j = 0; j < points.size(); ++j)
    {
      const Tensor<1, dim> d = x - points[j];
      const double         n = d.norm();
      if (n > 0)
        v += (weights[j] * kernel.velocity_factor(n)) * d;
    }
  return v;
}

template <int dim>
double InteractionField<dim>::energy_of_kernel() const
{
  // The diagonal counts W(0) w_i^2: the Gauss x Gauss rule of int int W dmu dmu, and what
  // makes the Gaussian kernel's sum >= 0 for any weights.
  const double diagonal = kernel.value(0);
  double       sum      = 0;
  for (std::size_t i = 0; i < points.size(); ++i)
    {
      double row = diagonal * weights[i];
      for (std::size_t j = 0; j < points.size(); ++j)
        if (j != i)
          row += kernel.value(points[i].distance(points[j])) * weights[j];
      sum += row * weights[i];
    }
  return 0.5 * sum;
}

template <int dim>
double InteractionField<dim>::energy() const
{
  if (kernel.type() != InteractionKernel::riesz)
    return energy_of_kernel();
  if (method == InteractionSummation::sorted)
    return -0.5 * pair_distance_sum_sorted(atoms);
  if (method == InteractionSummation::sliced)
    {
      if (!energy_ready)
        {
          std::vector<Tensor<1, dim>> none;
          slice({}, none, nullptr, &sliced_energy, &sliced_energy_error, nullptr, nullptr);
          energy_ready = true;
        }
      return sliced_energy;
    }
  double sum = 0;
  for (std::size_t i = 0; i < points.size(); ++i)
    {
      double row = 0;
      for (std::size_t j = 0; j < points.size(); ++j)
        if (j != i)
          {
            const double n = points[i].distance(points[j]);
            row += (r == 1 ? n : std::pow(n, r)) * weights[j];
          }
      sum += row * weights[i];
    }
  return -0.5 * sum;
}

template <int dim>
InteractionSummation InteractionField<dim>::summation() const
{
  return method;
}

template <int dim>
std::size_t InteractionField<dim>::n_atoms() const
{
  return points.size();
}

template class InteractionField<1>;
template class InteractionField<2>;
template class InteractionField<3>;
} // namespace densityflow
