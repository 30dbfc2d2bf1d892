#include <densityflow/base/exceptions.h>
#include <densityflow/mesh/absorbing_walls.h>
#include <densityflow/mesh/mesh.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/utilities.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <limits>
#include <regex>
#include <sstream>

namespace densityflow
{
namespace
{
const char *const wall_names[] = {"x-min", "x-max", "y-min", "y-max", "z-min", "z-max"};
const char *const axis_names[] = {"x", "y", "z"};

const std::string window_example = "x-max: y in [0.4, 0.6]";

/** The number @p text (all of it), or InputError naming @p entry. */
double parse_bound(const std::string &text, const std::string &entry)
{
  const std::string trimmed = Utilities::trim(text);
  std::size_t       used    = 0;
  double            value   = std::numeric_limits<double>::quiet_NaN();
  try
    {
      value = std::stod(trimmed, &used);
    }
  catch (const std::exception &)
    {
      used = 0;
    }
  if (trimmed.empty() || used != trimmed.size() || !std::isfinite(value))
    throw InputError("Mesh/Absorbing windows: '" + entry + "': '" + trimmed +
                     "' is not a number (write e.g. '" + window_example + "').");
  return value;
}

/** This rank's boundary faces whose centre is in piece p, for each of @p n pieces. */
template <int dim>
std::vector<unsigned int>
count_boundary_faces(const Mesh<dim>                                             &mesh,
                     const unsigned int                                           n,
                     const std::function<bool(unsigned int, const Point<dim> &)> &in_piece)
{
  std::vector<unsigned int> faces(n, 0);
  for (const auto &cell : mesh.triangulation().active_cell_iterators())
    if (cell->is_locally_owned())
      for (const auto f : cell->face_indices())
        if (cell->face(f)->at_boundary())
          for (unsigned int p = 0; p < n; ++p)
            faces[p] += in_piece(p, cell->face(f)->center());
  return faces;
}

/** One entry `wall: c in [lo, hi], c in [lo, hi]`. */
AbsorbingWindowEntry parse_window(const std::string &text)
{
  AbsorbingWindowEntry entry;
  entry.text              = Utilities::trim(text);
  const std::string error = "Mesh/Absorbing windows: '" + entry.text +
                            "' is not '<wall>: <c> in "
                            "[<lower>, <upper>]' (e.g. '" +
                            window_example + "'; in 3D two " + "such ranges, separated by a comma)";
  const std::size_t colon = entry.text.find(':');
  if (colon == std::string::npos)
    throw InputError(error + ".");
  entry.wall = Utilities::trim(entry.text.substr(0, colon));
  if (std::find(std::begin(wall_names), std::end(wall_names), entry.wall) == std::end(wall_names))
    throw InputError("Mesh/Absorbing windows: '" + entry.text + "': '" + entry.wall +
                     "' is not a wall (x-min, x-max, y-min, y-max, z-min, z-max).");
  const std::string rest = entry.text.substr(colon + 1);
  const std::regex  range(R"(([xyz])\s+in\s+\[([^\]]*)\])");
  std::size_t       last = 0;
  for (auto it = std::sregex_iterator(rest.begin(), rest.end(), range);
       it != std::sregex_iterator();
       ++it)
    {
      // Between two ranges a comma, before the first nothing.
      const std::string between = Utilities::trim(rest.substr(last, it->position() - last));
      if (between != (entry.ranges.empty() ? "" : ","))
        throw InputError(error + ".");
      last                                = it->position() + it->length();
      const std::vector<std::string> ends = Utilities::split_string_list((*it)[2].str(), ',');
      if (ends.size() != 2)
        throw InputError(error + ": '[" + (*it)[2].str() + "]' is not two numbers.");
      const unsigned int coordinate = (*it)[1].str()[0] - 'x';
      entry.ranges.emplace_back(
          coordinate, parse_bound(ends[0], entry.text), parse_bound(ends[1], entry.text));
    }
  if (entry.ranges.empty() || !Utilities::trim(rest.substr(last)).empty())
    throw InputError(error + ".");
  return entry;
}
} // namespace

void AbsorbingWallParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Mesh");
  prm.declare_entry("Absorbing walls",
                    "",
                    Patterns::Anything(),
                    "Comma-separated walls of a box where rho = 0 (Fokker-Planck model): "
                    "x-min, x-max, y-min, y-max, z-min, z-max. Mass leaves through them "
                    "(diagnostics columns absorbed_mass and absorbed_flux); the other walls "
                    "stay no-flux. Empty: none.");
  prm.declare_entry("Absorbing windows",
                    "",
                    Patterns::Anything(),
                    "Parts of walls of a box where rho = 0 (Fokker-Planck model), separated by "
                    "';': 'wall: c in [lower, upper]' with c a coordinate along the wall, e.g. "
                    "'x-max: y in [0.4, 0.6]' (3D: 'x-max: y in [0, 1], z in [0.4, 0.6]'; a "
                    "coordinate left out is the whole side). A face is absorbing where its "
                    "centre is in the window: choose bounds on the mesh lines. Empty: none.");
  prm.leave_subsection();
}

void AbsorbingWallParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Mesh");
  walls = Utilities::split_string_list(prm.get("Absorbing walls"));
  windows.clear();
  for (const std::string &entry : Utilities::split_string_list(prm.get("Absorbing windows"), ';'))
    windows.push_back(parse_window(entry));
  prm.leave_subsection();
}

template <int dim>
AbsorbingWalls<dim>::AbsorbingWalls(const AbsorbingWallParameters &parameters,
                                    const Mesh<dim>               &mesh)
    : box(mesh.bounding_box())
{
  if (parameters.walls.empty() && parameters.windows.empty())
    return;
  if (!mesh.is_box())
    throw InputError(
        std::string(parameters.walls.empty()
                        ? "Mesh/Absorbing windows = " + parameters.windows[0].text
                        : "Mesh/Absorbing walls = " + Utilities::trim(parameters.walls.front())) +
        "...: absorbing walls are the planes of a box; this mesh is not a box.");
  double diameter = 0;
  for (unsigned int d = 0; d < dim; ++d)
    diameter = std::max(diameter, box.side_length(d));
  tolerance = 1e-10 * diameter;

  const auto &corners = box.get_boundary_points();
  for (const std::string &name : parameters.walls)
    {
      const auto at = std::find(std::begin(wall_names), std::begin(wall_names) + 2 * dim, name);
      if (at == std::begin(wall_names) + 2 * dim)
        {
          std::string known;
          for (unsigned int k = 0; k < 2 * dim; ++k)
            known += (k ? ", " : "") + std::string(wall_names[k]);
          throw InputError("Mesh/Absorbing walls: '" + name + "' is not a wall of a " +
                           std::to_string(dim) + "D box (" + known + ").");
        }
      const unsigned int k = at - std::begin(wall_names);
      for (const Piece &piece : pieces)
        if (2 * piece.direction + piece.upper == k)
          throw InputError("Mesh/Absorbing walls: '" + name + "' is given twice.");
      if (mesh.periodic_directions()[k / 2])
        throw InputError("Mesh/Absorbing walls: '" + name +
                         "' is a wall of a periodic direction (Mesh/Periodic): it has no wall "
                         "there to absorb at.");
      Piece piece{k / 2, k % 2 == 1, 0, {}, name};
      for (unsigned int d = 0; d < dim; ++d)
        piece.range[d] = {corners.first[d], corners.second[d]};
      pieces.push_back(piece);
    }
  add_windows(parameters, mesh);
}

template <int dim>
void AbsorbingWalls<dim>::add_windows(const AbsorbingWallParameters &parameters,
                                      const Mesh<dim>               &mesh)
{
  const auto        &corners = box.get_boundary_points();
  const unsigned int n_walls = pieces.size();
  const auto         bounds  = [](const double lower, const double upper) {
    std::ostringstream s;
    s << std::setprecision(10) << "[" << lower << ", " << upper << "]";
    return s.str();
  };
  for (unsigned int w = 0; w < parameters.windows.size(); ++w)
    {
      const AbsorbingWindowEntry &entry  = parameters.windows[w];
      const std::string           prefix = "Mesh/Absorbing windows: '" + entry.text + "': ";
      const unsigned int k = std::find(std::begin(wall_names), std::end(wall_names), entry.wall) -
                             std::begin(wall_names);
      if (k >= 2 * dim)
        throw InputError(prefix + entry.wall + " is not a wall of a " + std::to_string(dim) +
                         "D box.");
      if (mesh.periodic_directions()[k / 2])
        throw InputError(prefix + entry.wall +
                         " is a wall of a periodic direction (Mesh/Periodic): it has no wall "
                         "there to absorb at.");
      Piece piece{k / 2, k % 2 == 1, w + 1, {}, entry.text};
      for (unsigned int d = 0; d < dim; ++d)
        piece.range[d] = {corners.first[d], corners.second[d]};
      std::vector<bool> bounded(dim, false);
      for (const auto &[d, lower, upper] : entry.ranges)
        {
          const std::string c = axis_names[d];
          if (d >= dim || d == piece.direction)
            throw InputError(prefix + c + " is not a coordinate along the wall " + entry.wall +
                             " of a " + std::to_string(dim) + "D box.");
          if (bounded[d])
            throw InputError(prefix + c + " is bounded twice.");
          bounded[d] = true;
          if (!(lower < upper))
            throw InputError(prefix + "the window is empty: " + c + " in " + bounds(lower, upper) +
                             " needs lower < upper.");
          if (lower < corners.first[d] - tolerance || upper > corners.second[d] + tolerance)
            throw InputError(prefix + "the window is not on the box: " + c + " in " +
                             bounds(lower, upper) + " reaches beyond the wall's " +
                             bounds(corners.first[d], corners.second[d]) + ".");
          piece.range[d] = {lower, upper};
        }
      for (unsigned int p = 0; p < pieces.size(); ++p)
        if (pieces[p].direction == piece.direction && pieces[p].upper == piece.upper)
          {
            if (p < n_walls)
              throw InputError(prefix + entry.wall +
                               " is a whole absorbing wall already (Mesh/Absorbing walls).");
            bool overlap = true;
            for (unsigned int d = 0; d < dim; ++d)
              if (d != piece.direction)
                overlap = overlap && piece.range[d].first < pieces[p].range[d].second - tolerance &&
                          pieces[p].range[d].first < piece.range[d].second - tolerance;
            if (overlap)
              throw InputError(prefix + "the window overlaps '" + pieces[p].text + "'.");
          }
      pieces.push_back(piece);
    }
  if (parameters.windows.empty())
    return;

  // Each window must hold a face: else it absorbs nothing, whatever it says.
  std::vector<unsigned int> faces = count_boundary_faces<dim>(
      mesh, pieces.size(), [&](const unsigned int p, const Point<dim> &x) {
        const double plane = pieces[p].upper ? corners.second[pieces[p].direction]
                                             : corners.first[pieces[p].direction];
        return p >= n_walls && std::abs(x[pieces[p].direction] - plane) <= tolerance &&
               in_window(pieces[p], x);
      });
  Utilities::MPI::sum(faces, mesh.communicator(), faces);
  for (unsigned int p = n_walls; p < pieces.size(); ++p)
    if (faces[p] == 0)
      throw InputError("Mesh/Absorbing windows: '" + pieces[p].text +
                       "' contains no face centre of the mesh (a face is absorbing where its "
                       "centre is in the window): make it at least one cell wide.");
}

template <int dim>
bool AbsorbingWalls<dim>::empty() const
{
  return pieces.empty();
}

template <int dim>
bool AbsorbingWalls<dim>::in_window(const Piece &piece, const Point<dim> &p) const
{
  if (piece.window == 0)
    return true;
  for (unsigned int d = 0; d < dim; ++d)
    if (d != piece.direction &&
        (p[d] < piece.range[d].first - tolerance || p[d] > piece.range[d].second + tolerance))
      return false;
  return true;
}

template <int dim>
bool AbsorbingWalls<dim>::contains(const Point<dim> &centre) const
{
  const auto &corners = box.get_boundary_points();
  for (const Piece &piece : pieces)
    if (std::abs(centre[piece.direction] - (piece.upper ? corners.second[piece.direction]
                                                        : corners.first[piece.direction])) <=
            tolerance &&
        in_window(piece, centre))
      return true;
  return false;
}

template <int dim>
WallHit
AbsorbingWalls<dim>::hit(const Point<dim> &x0, const Point<dim> &x1, const double variance) const
{
  const auto &corners = box.get_boundary_points();
  double      missed  = 1;
  WallHit     result;
  double      most = -1;
  for (unsigned int p = 0; p < pieces.size(); ++p)
    {
      const Piece       &piece = pieces[p];
      const unsigned int d     = piece.direction;
      const double       wall  = piece.upper ? corners.second[d] : corners.first[d];
      const double       a     = piece.upper ? wall - x0[d] : x0[d] - wall,
                   b           = piece.upper ? wall - x1[d] : x1[d] - wall;
      if (piece.window > 0)
        {
          // Where the line to x1, or to its mirror image in the wall, meets the wall.
          const double inside   = std::max(a, 0.);
          const double f        = inside + std::abs(b) > 0 ? inside / (inside + std::abs(b)) : 0;
          Point<dim>   crossing = x0 + f * (x1 - x0);
          // Beyond a side wall, the no-flux wall mirrors the path: fold the point back.
          for (unsigned int e = 0; e < dim; ++e)
            if (e != d)
              {
                const double lower = corners.first[e], width = corners.second[e] - lower;
                double       s = std::fmod(crossing[e] - lower, 2 * width);
                if (s < 0)
                  s += 2 * width;
                crossing[e] = lower + (s <= width ? s : 2 * width - s);
              }
          if (!in_window(piece, crossing))
            continue;
        }
      if (b <= 0)
        return {1, static_cast<int>(p), std::max(a, 0.), -b};
      const double miss = -std::expm1(-2 * std::max(a, 0.) * b / variance);
      missed *= miss;
      if (1 - miss > most)
        {
          most   = 1 - miss;
          result = {0, static_cast<int>(p), std::max(a, 0.), b};
        }
    }
  result.probability = 1 - missed;
  return result;
}

template <int dim>
double AbsorbingWalls<dim>::hitting_probability(const Point<dim> &x0,
                                                const Point<dim> &x1,
                                                const double      variance) const
{
  return hit(x0, x1, variance).probability;
}

template <int dim>
Point<dim> AbsorbingWalls<dim>::outside_point() const
{
  Assert(!pieces.empty(), ExcInternalError());
  const auto &corners = box.get_boundary_points();
  Point<dim>  p       = box.center();
  const auto &piece   = pieces.front();
  const auto  d       = piece.direction;
  p[d] =
      piece.upper ? corners.second[d] + box.side_length(d) : corners.first[d] - box.side_length(d);
  return p;
}

template <int dim>
std::string AbsorbingWalls<dim>::description() const
{
  std::string walls, windows;
  for (const Piece &piece : pieces)
    if (piece.window == 0)
      walls += (walls.empty() ? "" : ", ") + piece.text;
    else
      windows += (windows.empty() ? "" : "; ") + piece.text;
  return (walls.empty() ? "" : "Mesh/Absorbing walls = " + walls) +
         (walls.empty() || windows.empty() ? "" : " and ") +
         (windows.empty() ? "" : "Mesh/Absorbing windows = " + windows);
}

template <int dim>
unsigned int AbsorbingWalls<dim>::n_pieces() const
{
  return pieces.size();
}

template <int dim>
std::string AbsorbingWalls<dim>::wall_name(const unsigned int k) const
{
  return wall_names[2 * pieces.at(k).direction + pieces.at(k).upper];
}

template <int dim>
unsigned int AbsorbingWalls<dim>::window_number(const unsigned int k) const
{
  return pieces.at(k).window;
}

double bridge_hitting_time(const double a,
                           const double b,
                           const double variance,
                           const double dt,
                           const double u1,
                           const double u2,
                           const double u3)
{
  if (!(a > 0))
    return 0;
  const double lambda = a * a / variance;
  const double z      = std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
  const double y      = z * z;
  double       w;
  if (!(b > 1e-12 * a))
    w = lambda / y; // Levy: the limit of mean a / b -> infinity
  else
    {
      // Michael-Schucany-Haas, with the smaller root written without cancellation.
      const double mu = a / b, r = mu * y / (2 * lambda);
      const double x = mu / (1 + r + std::sqrt(r * (r + 2)));
      w              = u3 <= mu / (mu + x) ? x : mu * (mu / x);
    }
  return std::isfinite(w) ? dt * (w / (1 + w)) : dt;
}

template class AbsorbingWalls<1>;
template class AbsorbingWalls<2>;
template class AbsorbingWalls<3>;
} // namespace densityflow
