#include <densityflow/base/exceptions.h>
#include <densityflow/base/npy.h>
#include <densityflow/physics/velocity_grid.h>

#include <deal.II/base/parameter_handler.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

namespace densityflow
{
namespace
{
const std::string parameter = "Physics/Velocity grid/File";

std::vector<double> parse_point(const std::string &text, const std::string &name)
{
  std::vector<double> result;
  try
    {
      result = Utilities::string_to_double(Utilities::split_string_list(text, ','));
    }
  catch (...)
    {
      throw InputError("Physics/Velocity grid/" + name + " = '" + text +
                       "' is not a comma-separated list of numbers.");
    }
  return result;
}

/** "(k, i, j, d)" for the flat C-order @p index into @p shape. */
std::string index_text(std::size_t index, const std::vector<std::size_t> &shape)
{
  std::vector<std::size_t> multi(shape.size());
  for (std::size_t k = shape.size(); k-- > 0;)
    {
      multi[k] = index % shape[k];
      index /= shape[k];
    }
  std::string text = "(";
  for (std::size_t k = 0; k < multi.size(); ++k)
    text += (k ? ", " : "") + std::to_string(multi[k]);
  return text + ")";
}
} // namespace

void VelocityGridParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Physics");
  prm.enter_subsection("Velocity grid");
  prm.declare_entry("File",
                    "",
                    Patterns::Anything(),
                    "Transport model: the velocity w from another code, a NumPy .npy file "
                    "(float64 or float32) of shape (n_t, n_x[, n_y[, n_z]], dim) with "
                    "v[k, i, j, :] = w(t_k, x_i, y_j); interpolated multilinearly in space and "
                    "linearly in time. A relative path is relative to the folder of the .prm "
                    "file. Instead of Physics/Velocity. Empty: none.");
  prm.declare_entry("Lower corner",
                    "",
                    Patterns::Anything(),
                    "The grid's first node (dim numbers); nodes are at lower + i (upper - "
                    "lower) / (n - 1). Must hold the mesh's bounding box.");
  prm.declare_entry(
      "Upper corner", "", Patterns::Anything(), "The grid's last node (dim numbers).");
  prm.declare_entry("Start time",
                    "0",
                    Patterns::Double(),
                    "The time of v[0] (n_t >= 2; must be <= 0); slices are equally spaced.");
  prm.declare_entry("End time",
                    "",
                    Patterns::Anything(),
                    "The time of v[n_t - 1] (n_t >= 2; must be >= Time/End time). Empty: "
                    "Time/End time. With n_t = 1 the field is steady and the times are unused.");
  prm.leave_subsection();
  prm.leave_subsection();
}

void VelocityGridParameters::parse_parameters(ParameterHandler  &prm,
                                              const std::string &base_directory)
{
  prm.enter_subsection("Physics");
  prm.enter_subsection("Velocity grid");
  file = Utilities::trim(prm.get("File"));
  if (!file.empty())
    {
      const std::filesystem::path path(file);
      resolved_file =
          path.is_absolute() ? file : (std::filesystem::path(base_directory) / path).string();
    }
  lower_corner          = parse_point(prm.get("Lower corner"), "Lower corner");
  upper_corner          = parse_point(prm.get("Upper corner"), "Upper corner");
  start_time            = prm.get_double("Start time");
  const std::string end = Utilities::trim(prm.get("End time"));
  end_time              = std::numeric_limits<double>::quiet_NaN();
  if (!end.empty())
    {
      try
        {
          end_time = Utilities::string_to_double(end);
        }
      catch (...)
        {
          throw InputError("Physics/Velocity grid/End time = '" + end + "' is not a number.");
        }
    }
  prm.leave_subsection();
  prm.leave_subsection();
}

template <int dim>
VelocityGrid<dim>::VelocityGrid(std::vector<double>                  values_,
                                const unsigned int                   n_t_,
                                const std::array<unsigned int, dim> &n_,
                                const Point<dim>                    &lower_,
                                const Point<dim>                    &upper,
                                const double                         start_time_,
                                const double                         end_time)
    : values(std::move(values_))
    , n_t(n_t_)
    , n(n_)
    , lower(lower_)
    , start_time(start_time_)
    , inverse_time_step(n_t > 1 ? (n_t - 1) / (end_time - start_time_) : 0.0)
    , cached_t(std::numeric_limits<double>::quiet_NaN())
{
  for (unsigned int d = 0; d < dim; ++d)
    inverse_spacing[d] = (n[d] - 1) / (upper[d] - lower[d]);
  std::size_t size = dim;
  for (unsigned int d = dim; d-- > 0;)
    {
      stride[d] = size;
      size *= n[d];
    }
  slice_size = size;
  for (unsigned int c = 0; c < (1u << dim); ++c)
    {
      corner_offset[c] = 0;
      for (unsigned int d = 0; d < dim; ++d)
        if (c & (1u << d))
          corner_offset[c] += stride[d];
    }
}

template <int dim>
void VelocityGrid<dim>::gather(const Point<dim> &x, const double t) const
{
  if (t == cached_t && x == cached_x)
    return;
  std::size_t offset = 0;
  for (unsigned int d = 0; d < dim; ++d)
    {
      const double       r = std::clamp((x[d] - lower[d]) * inverse_spacing[d], 0.0, n[d] - 1.0);
      const unsigned int i = std::min<unsigned int>(static_cast<unsigned int>(r), n[d] - 2);
      local[d]             = r - i;
      offset += i * stride[d];
    }
  double a = 0;
  if (n_t > 1)
    {
      const double       r = std::clamp((t - start_time) * inverse_time_step, 0.0, n_t - 1.0);
      const unsigned int k = std::min<unsigned int>(static_cast<unsigned int>(r), n_t - 2);
      a                    = r - k;
      offset += k * slice_size;
    }
  const double *v = values.data() + offset;
  if (a > 0)
    for (unsigned int c = 0; c < (1u << dim); ++c)
      for (unsigned int d = 0; d < dim; ++d)
        corner[c][d] = (1 - a) * v[corner_offset[c] + d] + a * v[corner_offset[c] + d + slice_size];
  else
    for (unsigned int c = 0; c < (1u << dim); ++c)
      for (unsigned int d = 0; d < dim; ++d)
        corner[c][d] = v[corner_offset[c] + d];
  cached_x = x;
  cached_t = t;
}

template <int dim>
Tensor<1, dim> VelocityGrid<dim>::value(const Point<dim> &x, const double t) const
{
  gather(x, t);
  Tensor<1, dim> w;
  for (unsigned int c = 0; c < (1u << dim); ++c)
    {
      double weight = 1;
      for (unsigned int d = 0; d < dim; ++d)
        weight *= (c & (1u << d)) ? local[d] : 1 - local[d];
      for (unsigned int d = 0; d < dim; ++d)
        w[d] += weight * corner[c][d];
    }
  return w;
}

template <int dim>
double VelocityGrid<dim>::divergence(const Point<dim> &x, const double t) const
{
  gather(x, t);
  double result = 0;
  for (unsigned int c = 0; c < (1u << dim); ++c)
    for (unsigned int d = 0; d < dim; ++d)
      {
        // d/dx_d of the corner's weight: +-1/h_d times the other axes' weights.
        double weight = (c & (1u << d)) ? inverse_spacing[d] : -inverse_spacing[d];
        for (unsigned int e = 0; e < dim; ++e)
          if (e != d)
            weight *= (c & (1u << e)) ? local[e] : 1 - local[e];
        result += weight * corner[c][d];
      }
  return result;
}

template <int dim>
void VelocityGrid<dim>::value_and_divergence(const Point<dim> &x,
                                             const double      t,
                                             Tensor<1, dim>   &w,
                                             double           &div) const
{
  gather(x, t);
  // value() and divergence() fused, each product in their order, so the numbers are theirs.
  double factor[2][dim];
  for (unsigned int d = 0; d < dim; ++d)
    factor[0][d] = 1 - local[d], factor[1][d] = local[d];
  w   = Tensor<1, dim>();
  div = 0;
  for (unsigned int c = 0; c < (1u << dim); ++c)
    {
      double weight = 1;
      for (unsigned int d = 0; d < dim; ++d)
        weight *= factor[(c >> d) & 1][d];
      for (unsigned int d = 0; d < dim; ++d)
        w[d] += weight * corner[c][d];
    }
  for (unsigned int c = 0; c < (1u << dim); ++c)
    for (unsigned int d = 0; d < dim; ++d)
      {
        double weight = (c & (1u << d)) ? inverse_spacing[d] : -inverse_spacing[d];
        for (unsigned int e = 0; e < dim; ++e)
          if (e != d)
            weight *= factor[(c >> e) & 1][e];
        div += weight * corner[c][d];
      }
}

template <int dim>
bool VelocityGrid<dim>::depends_on_time() const
{
  return n_t > 1;
}

template <int dim>
std::shared_ptr<VelocityGrid<dim>> read_velocity_grid(const VelocityGridParameters &parameters,
                                                      const BoundingBox<dim>       &domain,
                                                      const double                  end_time)
{
  const std::string what = parameter + " = '" + parameters.file + "'";
  if (parameters.lower_corner.size() != dim || parameters.upper_corner.size() != dim)
    throw InputError(what + " needs Physics/Velocity grid/Lower corner and Upper corner with " +
                     std::to_string(dim) + " numbers each.");
  NpyArray array;
  try
    {
      array = read_npy(parameters.resolved_file);
    }
  catch (const InputError &e)
    {
      throw InputError(what + ": " + e.what());
    }
  const auto &shape    = array.shape;
  const char *axes[3]  = {"n_x", "n_y", "n_z"};
  std::string expected = "(n_t";
  for (unsigned int d = 0; d < dim; ++d)
    expected += std::string(", ") + axes[d];
  expected += ", " + std::to_string(dim) + ")";
  bool good_shape = shape.size() == dim + 2 && shape[0] >= 1 && shape.back() == dim;
  for (unsigned int d = 0; good_shape && d < dim; ++d)
    good_shape = shape[d + 1] >= 2;
  if (!good_shape)
    throw InputError(what + ": the array has shape (" + array.shape_text + "); a " +
                     std::to_string(dim) + "D velocity grid needs " + expected +
                     " with n_t >= 1 and at least 2 nodes per space axis.");
  for (std::size_t k = 0; k < array.values.size(); ++k)
    if (!std::isfinite(array.values[k]))
      throw InputError(what + ": the value at index " + index_text(k, shape) +
                       " is not a finite number.");

  Point<dim>                    lower, upper;
  std::array<unsigned int, dim> n;
  for (unsigned int d = 0; d < dim; ++d)
    {
      lower[d] = parameters.lower_corner[d];
      upper[d] = parameters.upper_corner[d];
      n[d]     = shape[d + 1];
      if (!(lower[d] < upper[d]))
        throw InputError("Physics/Velocity grid/Lower corner must be below Upper corner in "
                         "every coordinate.");
      // The mesh's corners are computed, so a grid on the same corners may miss by round-off.
      const double slack = 1e-10 * (upper[d] - lower[d]);
      if (lower[d] > domain.lower_bound(d) + slack || upper[d] < domain.upper_bound(d) - slack)
        {
          std::ostringstream message;
          message << what << ": the grid [" << lower << "] - [" << upper
                  << "] (Lower corner, Upper corner) does not hold the mesh's bounding box ["
                  << domain.get_boundary_points().first << "] - ["
                  << domain.get_boundary_points().second << "].";
          throw InputError(message.str());
        }
    }
  const unsigned int n_t  = shape[0];
  const double       last = std::isnan(parameters.end_time) ? end_time : parameters.end_time;
  if (n_t > 1)
    {
      const double slack = 1e-12 * std::max(1.0, std::abs(end_time));
      if (!(parameters.start_time < last) || parameters.start_time > slack ||
          last < end_time - slack)
        {
          std::ostringstream message;
          message << what << ": its " << n_t << " time slices span [" << parameters.start_time
                  << ", " << last << "] (Physics/Velocity grid/Start time, End time), which "
                  << "must hold the run's [0, " << end_time << "] (Time/End time).";
          throw InputError(message.str());
        }
    }
  return std::make_shared<VelocityGrid<dim>>(
      std::move(array.values), n_t, n, lower, upper, parameters.start_time, last);
}

template class VelocityGrid<1>;
template class VelocityGrid<2>;
template class VelocityGrid<3>;
template std::shared_ptr<VelocityGrid<1>>
read_velocity_grid(const VelocityGridParameters &, const BoundingBox<1> &, double);
template std::shared_ptr<VelocityGrid<2>>
read_velocity_grid(const VelocityGridParameters &, const BoundingBox<2> &, double);
template std::shared_ptr<VelocityGrid<3>>
read_velocity_grid(const VelocityGridParameters &, const BoundingBox<3> &, double);
} // namespace densityflow
