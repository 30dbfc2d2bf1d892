#include <densityflow/distances/piecewise_density_1d.h>

#include <deal.II/base/quadrature_lib.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace densityflow
{
namespace
{
/** QGauss<1>(n) as (point, weight) pairs. */
std::vector<std::pair<double, double>> gauss_rule(const unsigned int n)
{
  const dealii::QGauss<1>                rule(n);
  std::vector<std::pair<double, double>> gauss;
  for (unsigned int q = 0; q < rule.size(); ++q)
    gauss.emplace_back(rule.point(q)[0], rule.weight(q));
  return gauss;
}
} // namespace

PiecewiseDensity1D::PiecewiseDensity1D(const std::vector<std::pair<double, double>> &intervals,
                                       const std::vector<double>                    &values,
                                       const unsigned int                            n)
    : n(n)
    , gauss_partial(gauss_rule(n + 2))
    , gauss_moment(gauss_rule(n + 3))
{
  const dealii::QGauss<1> gauss(n);
  for (unsigned int j = 0; j < n; ++j)
    nodes.push_back(gauss.point(j)[0]);
  for (unsigned int j = 0; j < n; ++j)
    {
      double product = 1;
      for (unsigned int k = 0; k < n; ++k)
        if (k != j)
          product *= nodes[j] - nodes[k];
      barycentric.push_back(1 / product);
    }
  std::vector<std::size_t> order(intervals.size());
  for (std::size_t c = 0; c < order.size(); ++c)
    order[c] = c;
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return intervals[x].first < intervals[y].first;
  });
  double total = 0;
  for (const std::size_t c : order)
    {
      cells.push_back(intervals[c]);
      double mass = 0;
      for (unsigned int q = 0; q < n; ++q)
        {
          const double v = std::max(values[c * n + q], 0.0);
          cell_values.push_back(v);
          mass += v * gauss.weight(q);
        }
      cumulative.push_back(total += mass * (intervals[c].second - intervals[c].first));
    }
}

double PiecewiseDensity1D::mass() const
{
  return cumulative.empty() ? 0 : cumulative.back();
}

double PiecewiseDensity1D::value(const std::size_t c, const double y) const
{
  const double  t         = (y - cells[c].first) / (cells[c].second - cells[c].first);
  const double *v         = &cell_values[c * n];
  double        numerator = 0, denominator = 0;
  for (unsigned int j = 0; j < n; ++j)
    {
      if (t == nodes[j])
        return v[j];
      const double w = barycentric[j] / (t - nodes[j]);
      numerator += w * v[j];
      denominator += w;
    }
  return numerator / denominator;
}

double PiecewiseDensity1D::partial(const std::size_t c, const double y, const unsigned int k) const
{
  const double a = cells[c].first, length = y - a;
  double       sum = 0;
  for (const auto &[xi, w] : gauss_partial)
    {
      const double x = a + length * xi;
      sum += w * value(c, x) * (k == 0 ? 1 : k == 1 ? x : x * x);
    }
  return sum * length;
}

double PiecewiseDensity1D::quantile(const double s) const
{
  const std::size_t c = std::min<std::size_t>(
      std::lower_bound(cumulative.begin(), cumulative.end(), s) - cumulative.begin(),
      cells.size() - 1);
  const double base = c == 0 ? 0 : cumulative[c - 1], target = s - base;
  const double mass = cumulative[c] - base;
  double       lo = cells[c].first, hi = cells[c].second;
  if (mass <= 0)
    return lo;
  // Safeguarded Newton on G(y) = target: G' = rho >= 0; bisection where Newton fails.
  double y = lo + (hi - lo) * std::clamp(target / mass, 0.0, 1.0);
  for (unsigned int iteration = 0; iteration < 100; ++iteration)
    {
      const double residual = partial(c, y, 0) - target;
      if (residual > 0)
        hi = y;
      else
        lo = y;
      const double slope = value(c, y);
      double       next  = slope > 0 ? y - residual / slope : 0.5 * (lo + hi);
      if (!(next > lo && next < hi))
        next = 0.5 * (lo + hi);
      if (std::abs(next - y) <= 1e-15 * (std::abs(y) + (cells[c].second - cells[c].first)))
        return next;
      y = next;
    }
  return y;
}

double PiecewiseDensity1D::moment_between(const double       alpha,
                                          const double       beta,
                                          const double       c0,
                                          const unsigned int p) const
{
  if (!(beta > alpha))
    return 0;
  // The cells that [alpha, beta] meets, each piece split where |c0 - y| has its kink.
  std::size_t c = std::upper_bound(cells.begin(),
                                   cells.end(),
                                   std::make_pair(alpha, std::numeric_limits<double>::infinity())) -
                  cells.begin();
  c          = c == 0 ? 0 : c - 1;
  double sum = 0;
  for (; c < cells.size() && cells[c].first < beta; ++c)
    {
      const double l = std::max(alpha, cells[c].first), r = std::min(beta, cells[c].second);
      if (!(r > l))
        continue;
      const double pieces[3] = {l, std::clamp(c0, l, r), r};
      for (unsigned int k = 0; k < 2; ++k)
        {
          const double a = pieces[k], b = pieces[k + 1];
          if (!(b > a))
            continue;
          for (const auto &[xi, w] : gauss_moment)
            {
              const double y = a + (b - a) * xi, d = std::abs(c0 - y);
              sum += w * (b - a) * value(c, y) * (p == 1 ? d : d * d);
            }
        }
    }
  return sum;
}

double PiecewiseDensity1D::wasserstein_power(std::vector<Atom> &atoms,
                                             const unsigned int p,
                                             SortWorkspace     &workspace) const
{
  // W_p^p = sum_i int_{s_{i-1}}^{s_i} |x_(i) - G^{-1}(s)|^p ds
  //       = sum_i int_{y_{i-1}}^{y_i} |x_(i) - y|^p rho(y) dy / M, with y_i = G^{-1}(M s_i).
  normalise_atoms(atoms);
  sort_atoms(atoms, workspace);
  const double total = mass();
  double       s = 0, y_previous = cells.front().first, sum = 0;
  for (std::size_t i = 0; i < atoms.size(); ++i)
    {
      s += atoms[i].second;
      const double y =
          i + 1 == atoms.size() ? cells.back().second : quantile(std::min(s, 1.0) * total);
      sum += moment_between(y_previous, y, atoms[i].first, p);
      y_previous = y;
    }
  return sum / total;
}
} // namespace densityflow
