// The sliced sums of InteractionField (2D/3D, W = -|z|) and the evaluation of many points at
// once (sorted and sliced); the rest of the class is in interaction_field.cc.
#include <densityflow/solvers/interaction/interaction_field.h>
#include <densityflow/solvers/interaction/sliced_directions.h>

#include <algorithm>
#include <cmath>

namespace densityflow
{
template <int dim>
bool lexicographic_less(const Point<dim> &a, const Point<dim> &b)
{
  for (unsigned int d = 0; d < dim; ++d)
    if (a[d] != b[d])
      return a[d] < b[d];
  return false;
}

namespace
{
template <int dim>
double project(const Tensor<1, dim> &theta, const Point<dim> &x)
{
  double t = 0;
  for (unsigned int d = 0; d < dim; ++d)
    t += theta[d] * x[d];
  return t;
}
} // namespace

template <int dim>
void InteractionField<dim>::set_evaluation_points(const std::vector<Point<dim>> &new_points)
{
  if (method != InteractionSummation::sliced)
    return;
  evaluation_points = new_points;
  std::sort(evaluation_points.begin(), evaluation_points.end(), lexicographic_less<dim>);
  evaluation_points.erase(std::unique(evaluation_points.begin(), evaluation_points.end()),
                          evaluation_points.end());
  evaluation_velocity.clear();
  if (points.empty())
    return;
  if (orders_valid() || cache_orders())
    evaluate_cached();
  else
    slice(evaluation_points, evaluation_velocity, nullptr, nullptr, nullptr, nullptr, nullptr);
}

template <int dim>
void InteractionField<dim>::share_orders_with(InteractionField &other)
{
  if (!other.orders)
    other.orders = std::make_shared<SlicedOrders>();
  orders = other.orders;
}

template <int dim>
bool InteractionField<dim>::orders_valid() const
{
  return orders && !orders->atom_order.empty() && orders->points == points &&
         orders->evaluation_points == evaluation_points;
}

template <int dim>
bool InteractionField<dim>::cache_orders()
{
  const std::size_t n = points.size(), m = evaluation_points.size(), P = theta.size();
  if (!orders)
    orders = std::make_shared<SlicedOrders>();
  SlicedOrders &cache = *orders;
  cache               = SlicedOrders();
  if (P * (n + 2 * m) > stored_orders || n >= (std::size_t(1) << 32))
    return false;
  cache.atom_order.resize(P), cache.below.resize(P), cache.not_above.resize(P);
  std::vector<Atom>          projected(n);
  std::vector<std::uint32_t> first;
  SortWorkspace              workspace;
  for (unsigned int p = 0; p < P; ++p)
    {
      // The order sort_atoms() gives the (position, weight) atoms of slice(): it is stable.
      for (std::size_t j = 0; j < n; ++j)
        projected[j] = {project(theta[p], points[j]), static_cast<double>(j)};
      sort_atoms(projected, workspace);
      cache.atom_order[p].resize(n);
      for (std::size_t k = 0; k < n; ++k)
        cache.atom_order[p][k] = static_cast<std::uint32_t>(projected[k].second);
      const AtomBuckets buckets = index_sorted_atoms(projected, first);
      cache.below[p].resize(m), cache.not_above[p].resize(m);
      for (std::size_t i = 0; i < m; ++i)
        {
          const auto [lower, upper] =
              atom_bounds(projected, buckets, first, project(theta[p], evaluation_points[i]));
          cache.below[p][i]     = static_cast<std::uint32_t>(lower);
          cache.not_above[p][i] = static_cast<std::uint32_t>(upper);
        }
    }
  cache.points            = points;
  cache.evaluation_points = evaluation_points;
  return true;
}

template <int dim>
void InteractionField<dim>::evaluate_cached()
{
  // The arithmetic of slice(), with the cached orders instead of the sorts.
  const std::size_t           n = points.size(), m = evaluation_points.size();
  const unsigned int          S = slicing.sets, K = theta.size() / S;
  const double                c     = slicing_constant(dim);
  const SlicedOrders         &cache = *orders;
  std::vector<double>         prefix(n + 1, 0);
  std::vector<Tensor<1, dim>> set_sum(m);
  evaluation_velocity.assign(m, Tensor<1, dim>());
  for (unsigned int s = 0; s < S; ++s)
    {
      std::fill(set_sum.begin(), set_sum.end(), Tensor<1, dim>());
      for (unsigned int k = 0; k < K; ++k)
        {
          const unsigned int    p         = s * K + k;
          const std::uint32_t  *order     = cache.atom_order[p].data();
          const std::uint32_t  *below     = cache.below[p].data();
          const std::uint32_t  *not_above = cache.not_above[p].data();
          const Tensor<1, dim> &t         = theta[p];
          for (std::size_t j = 0; j < n; ++j)
            prefix[j + 1] = prefix[j] + weights[order[j]];
          for (std::size_t i = 0; i < m; ++i)
            set_sum[i] += (prefix[below[i]] + prefix[not_above[i]] - prefix[n]) * t;
        }
      for (std::size_t i = 0; i < m; ++i)
        {
          const Tensor<1, dim> estimate = (c / K) * set_sum[i];
          evaluation_velocity[i] += (estimate - evaluation_velocity[i]) / (s + 1);
        }
    }
}

template <int dim>
void InteractionField<dim>::slice(const std::vector<Point<dim>>    &x,
                                  std::vector<Tensor<1, dim>>      &v,
                                  std::vector<double>              *standard_error,
                                  double                           *energy,
                                  double                           *energy_error,
                                  std::vector<std::vector<Atom>>   *keep_atoms,
                                  std::vector<std::vector<double>> *keep_prefix) const
{
  const std::size_t  n = points.size(), m = x.size();
  const unsigned int S = slicing.sets, K = theta.size() / S;
  const double       c    = slicing_constant(dim);
  const bool         kept = !slices.empty();
  // Below 512 atoms sort_atoms() breaks ties by weight, not by index as the orders do.
  const bool ordered = !kept && n >= 512 && orders_valid();
  if (keep_atoms != nullptr)
    keep_atoms->resize(theta.size()), keep_prefix->resize(theta.size());
  std::vector<Atom>           projected(kept ? 0 : n);
  std::vector<double>         prefix;
  std::vector<std::uint32_t>  first;
  SortWorkspace               workspace;
  std::vector<Tensor<1, dim>> set_sum(m);
  // Welford's running mean and sum of squared deviations over the sets.
  v.assign(m, Tensor<1, dim>());
  std::vector<double> deviations(m, 0);
  double              energy_mean = 0, energy_deviations = 0;
  for (unsigned int s = 0; s < S; ++s)
    {
      std::fill(set_sum.begin(), set_sum.end(), Tensor<1, dim>());
      double pair_sum = 0;
      for (unsigned int k = 0; k < K; ++k)
        {
          const unsigned int    p = s * K + k;
          const Tensor<1, dim> &t = theta[p];
          if (!kept)
            {
              if (ordered)
                // The order sort_atoms() would give: the orders were made by it (stable).
                for (std::size_t q = 0; q < n; ++q)
                  {
                    const std::uint32_t j = orders->atom_order[p][q];
                    projected[q]          = {project(t, points[j]), weights[j]};
                  }
              else
                {
                  for (std::size_t j = 0; j < n; ++j)
                    projected[j] = {project(t, points[j]), weights[j]};
                  sort_atoms(projected, workspace);
                }
              prefix_sums(projected, prefix);
              if (keep_atoms != nullptr)
                (*keep_atoms)[p] = projected, (*keep_prefix)[p] = prefix;
            }
          const std::vector<Atom>   &a = kept ? slices[p] : projected;
          const std::vector<double> &P = kept ? slice_prefix[p] : prefix;
          if (energy != nullptr)
            pair_sum += pair_distance_sum_sorted(a);
          if (m == 0)
            continue;
          // The arithmetic of sign_sums_merged(), without sorting the points.
          const AtomBuckets buckets = index_sorted_atoms(a, first);
          for (std::size_t i = 0; i < m; ++i)
            {
              const auto [below, not_above] = atom_bounds(a, buckets, first, project(t, x[i]));
              set_sum[i] += (P[below] + P[not_above] - P.back()) * t;
            }
        }
      for (std::size_t i = 0; i < m; ++i)
        {
          const Tensor<1, dim> estimate = (c / K) * set_sum[i], delta = estimate - v[i];
          v[i] += delta / (s + 1);
          deviations[i] += delta * (estimate - v[i]);
        }
      const double estimate = -0.5 * c / K * pair_sum, delta = estimate - energy_mean;
      energy_mean += delta / (s + 1);
      energy_deviations += delta * (estimate - energy_mean);
    }
  if (standard_error != nullptr)
    {
      standard_error->resize(m);
      for (std::size_t i = 0; i < m; ++i)
        (*standard_error)[i] = std::sqrt(std::max(0.0, deviations[i]) / (S * (S - 1.0)));
    }
  if (energy != nullptr)
    *energy = energy_mean;
  if (energy_error != nullptr)
    *energy_error = std::sqrt(std::max(0.0, energy_deviations) / (S * (S - 1.0)));
}

template <int dim>
Tensor<1, dim> InteractionField<dim>::sliced_velocity(const Point<dim> &x) const
{
  if (slices.empty() && theta.size() * points.size() <= stored_slices)
    {
      std::vector<Tensor<1, dim>> none;
      slice({}, none, nullptr, nullptr, nullptr, &slices, &slice_prefix);
    }
  Tensor<1, dim> v;
  for (unsigned int p = 0; p < theta.size(); ++p)
    {
      const double t   = project(theta[p], x);
      double       sum = 0;
      if (!slices.empty())
        sum = sign_sum_sorted(slices[p], slice_prefix[p], t);
      else
        for (std::size_t j = 0; j < points.size(); ++j)
          {
            const double y = project(theta[p], points[j]);
            sum += y < t ? weights[j] : y > t ? -weights[j] : 0;
          }
      v += sum * theta[p];
    }
  return (slicing_constant(dim) / theta.size()) * v;
}

template <int dim>
void InteractionField<dim>::velocities(const std::vector<Point<dim>> &x,
                                       std::vector<Tensor<1, dim>>   &v,
                                       std::vector<double>           *standard_error) const
{
  if (method == InteractionSummation::sliced)
    {
      slice(x, v, standard_error, nullptr, nullptr, nullptr, nullptr);
      return;
    }
  if (standard_error != nullptr)
    standard_error->assign(x.size(), 0);
  v.resize(x.size());
  if (dim == 1 && method == InteractionSummation::sorted)
    {
      // One sort of the points and a merge; the arithmetic of velocity().
      std::vector<Atom> queries(x.size());
      for (std::size_t i = 0; i < x.size(); ++i)
        queries[i] = {x[i][0], static_cast<double>(i)};
      SortWorkspace local;
      sort_atoms(queries, local);
      std::vector<double>      sums(x.size());
      std::vector<std::size_t> first(x.size());
      sign_sums_merged(atoms, prefix, queries, sums, &first);
      for (std::size_t i = 0; i < x.size(); ++i)
        {
          v[i][0] = sums[i];
          if (cell_size > 0 && first[i] < atoms.size())
            v[i][0] += cell_correction(first[i]);
        }
      return;
    }
  for (std::size_t i = 0; i < x.size(); ++i)
    v[i] = velocity_direct(x[i]);
}

template <int dim>
double InteractionField<dim>::energy_standard_error() const
{
  if (method != InteractionSummation::sliced)
    return 0;
  energy();
  return sliced_energy_error;
}

template <int dim>
const std::vector<Tensor<1, dim>> &InteractionField<dim>::directions() const
{
  return theta;
}

template <int dim>
std::size_t InteractionField<dim>::evaluation_misses() const
{
  return misses;
}

template bool lexicographic_less<1>(const Point<1> &, const Point<1> &);
template bool lexicographic_less<2>(const Point<2> &, const Point<2> &);
template bool lexicographic_less<3>(const Point<3> &, const Point<3> &);
template class InteractionField<1>;
template class InteractionField<2>;
template class InteractionField<3>;
} // namespace densityflow
