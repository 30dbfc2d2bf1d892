#include <densityflow/base/exceptions.h>
#include <densityflow/distances/ensemble_distances.h>

#include <deal.II/base/parameter_handler.h>

#include <cmath>
#include <sstream>
#include <tuple>

namespace densityflow
{
void DistanceParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Distances");
  prm.declare_entry("Projections",
                    "100",
                    Patterns::Integer(1),
                    "Random directions of the sliced energy distance and sliced W2 (2D, 3D); "
                    "the slicing's Monte-Carlo error is reported with them "
                    "(*_slicing_error).");
  prm.declare_entry("Seed",
                    "1",
                    Patterns::Integer(0),
                    "Seed of the directions and of the noise floor's exact samples (the same "
                    "on any number of ranks).");
  prm.declare_entry("Floor samples",
                    "4",
                    Patterns::Integer(0),
                    "Exact i.i.d. samples of rho_h, of the ensemble's size, drawn at every "
                    "comparison time for the noise floor of each distance (*_floor, "
                    "*_floor_spread) and the verdict (consistent/biased); 0 switches the floor "
                    "off, otherwise at least 2. The cost is about that of comparing this many "
                    "more ensembles.");
  prm.leave_subsection();
}

void DistanceParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Distances");
  projections   = prm.get_integer("Projections");
  seed          = prm.get_integer("Seed");
  floor_samples = prm.get_integer("Floor samples");
  prm.leave_subsection();
  if (floor_samples == 1)
    throw InputError("Distances/Floor samples = 1: the floor's spread needs at least 2 samples "
                     "(0 switches the floor off).");
}

std::vector<std::string> distance_columns(const unsigned int              dim,
                                          const std::vector<std::string> &regions)
{
  // Every distance is followed by its noise floor: the mean and the spread of the same
  // distance for an exact sample of rho_h of the ensemble's size.
  const auto with_floor = [](const std::string &name) {
    return std::vector<std::string>{name, name + "_floor", name + "_floor_spread"};
  };
  std::vector<std::string> columns = {"time", "ensemble", "n_particles", "outside"};
  for (const std::string name : {"mean_error", "covariance_error", "histogram_tv"})
    for (const std::string &c : with_floor(name))
      columns.push_back(c);
  columns.push_back("histogram_bins");
  for (const std::string &c : with_floor("energy_distance"))
    columns.push_back(c);
  columns.push_back("energy_distance_slicing_error");
  if (dim == 1)
    for (const std::string name : {"w1", "w2"})
      for (const std::string &c : with_floor(name))
        columns.push_back(c);
  else
    {
      for (const std::string &c : with_floor("sliced_w2"))
        columns.push_back(c);
      columns.push_back("sliced_w2_slicing_error");
    }
  columns.insert(columns.end(), {"floor_excess", "floor_excess_of", "verdict"});
  columns.insert(columns.end(), {"density_error_max", "density_error_mean"});
  for (const std::string &name : regions)
    columns.insert(
        columns.end(),
        {"fraction_" + name, "density_fraction_" + name, "fraction_" + name + "_stderr"});
  return columns;
}

std::vector<std::string> distance_row(const EnsembleDistances &d, const unsigned int dim)
{
  const auto number = [](const double x) {
    if (!std::isfinite(x))
      return std::string();
    std::ostringstream out;
    out.precision(16);
    out << x;
    return out.str();
  };
  std::vector<std::string> row = {
      number(d.time), d.ensemble, std::to_string(d.n_particles), std::to_string(d.outside)};
  const auto with_floor = [&](const double value, const DistanceFloor &floor) {
    row.insert(row.end(), {number(value), number(floor.value), number(floor.spread)});
  };
  with_floor(d.mean_error, d.mean_error_floor);
  with_floor(d.covariance_error, d.covariance_error_floor);
  with_floor(d.histogram_tv, d.histogram_tv_floor);
  row.push_back(std::to_string(d.histogram_bins));
  with_floor(d.energy_distance, d.energy_distance_floor);
  row.push_back(number(d.energy_distance_slicing_error));
  if (dim == 1)
    {
      with_floor(d.w1, d.w1_floor);
      with_floor(d.w2, d.w2_floor);
    }
  else
    {
      with_floor(d.sliced_w2, d.sliced_w2_floor);
      row.push_back(number(d.sliced_w2_slicing_error));
    }
  row.insert(row.end(), {number(d.floor_excess), d.floor_excess_of, d.verdict});
  row.insert(row.end(), {number(d.density_error_max), number(d.density_error_mean)});
  for (std::size_t k = 0; k < d.region_fractions.size(); ++k)
    row.insert(row.end(),
               {number(d.region_fractions[k]),
                number(d.region_density_fractions[k]),
                number(d.region_fraction_errors[k])});
  return row;
}

DistanceFloor monte_carlo_floor(const std::vector<EnsembleDistances> &samples,
                                const double EnsembleDistances::*member)
{
  DistanceFloor f;
  double        m = 0, s = 0;
  for (const auto &d : samples)
    m += d.*member / samples.size();
  for (const auto &d : samples)
    s += (d.*member - m) * (d.*member - m);
  f.value  = m;
  f.spread = std::sqrt(s / (samples.size() - 1));
  return f;
}

void set_verdict(EnsembleDistances &d)
{
  const std::vector<std::tuple<std::string, double, DistanceFloor>> measured = {
      {"mean_error", d.mean_error, d.mean_error_floor},
      {"covariance_error", d.covariance_error, d.covariance_error_floor},
      {"histogram_tv", d.histogram_tv, d.histogram_tv_floor},
      {"energy_distance", d.energy_distance, d.energy_distance_floor},
      {"w1", d.w1, d.w1_floor},
      {"w2", d.w2, d.w2_floor},
      {"sliced_w2", d.sliced_w2, d.sliced_w2_floor}};
  for (const auto &[name, value, f] : measured)
    if (std::isfinite(value) && std::isfinite(f.value) && f.spread > 0)
      {
        const double excess = (value - f.value) / f.spread;
        if (!(excess <= d.floor_excess))
          {
            d.floor_excess    = excess;
            d.floor_excess_of = name;
          }
      }
  if (std::isfinite(d.floor_excess))
    d.verdict = d.floor_excess > DistanceParameters::biased_excess ? "biased" : "consistent";
}
} // namespace densityflow
