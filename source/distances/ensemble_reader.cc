#include <densityflow/base/csv.h>
#include <densityflow/base/exceptions.h>
#include <densityflow/base/npy.h>
#include <densityflow/distances/ensemble_reader.h>

#include <deal.II/base/utilities.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <map>
#include <regex>
#include <sstream>

namespace densityflow
{
namespace
{
const char *axis_names[3] = {"x", "y", "z"};

bool ends_with(const std::string &s, const std::string &suffix)
{
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void check_time(const double t, const double end_time, const std::string &where)
{
  if (!(t >= 0 && t <= end_time * (1 + 1e-12)))
    {
      std::ostringstream message;
      message << where << ": time " << t << " is outside [0, " << end_time << "] (Time/End time).";
      throw InputError(message.str());
    }
}

template <int dim>
std::vector<EnsembleSnapshot<dim>>
read_csv(const std::string &file, const std::optional<double> &time, const double end_time)
{
  std::ifstream         in(file);
  std::string           line;
  unsigned int          line_number = 0;
  std::optional<double> file_time   = time;
  // Where the time came from, for the message when a second one is given.
  std::string time_source;
  if (time)
    {
      std::ostringstream text;
      text << "--time " << std::setprecision(16) << *time << " on the command line";
      time_source = text.str();
    }
  std::vector<std::string> header;
  int column[3] = {-1, -1, -1}, weight_column = -1, time_column = -1, system_column = -1;
  // One snapshot per time and, where the file names them, per particle system.
  std::map<std::pair<double, std::string>, EnsembleSnapshot<dim>> snapshots;
  const std::regex time_line(R"(#\s*time\s*=\s*(.*))");
  while (std::getline(in, line))
    {
      ++line_number;
      const std::string where = file + ", line " + std::to_string(line_number);
      const std::string text  = Utilities::trim(line);
      std::smatch       match;
      if (text.empty())
        continue;
      if (text[0] == '#')
        {
          if (std::regex_match(text, match, time_line))
            {
              if (file_time)
                throw InputError(where + ": '" + text + "' gives a second time, after " +
                                 time_source +
                                 ": a snapshot's time is given once (drop the --time for this "
                                 "file, or one of the lines).");
              file_time   = parse_csv_number(match[1], where);
              time_source = "'" + text + "' (line " + std::to_string(line_number) + ")";
            }
          continue;
        }
      const std::vector<std::string> fields = split_csv_fields(text);
      if (header.empty())
        {
          header = fields;
          for (std::size_t c = 0; c < header.size(); ++c)
            {
              for (unsigned int d = 0; d < 3; ++d)
                if (header[c] == axis_names[d])
                  {
                    if (d >= dim)
                      throw InputError(where + ": the column '" + header[c] +
                                       "' is a coordinate that a " + std::to_string(dim) +
                                       "D problem does not have.");
                    column[d] = c;
                  }
              if (header[c] == "weight")
                weight_column = c;
              if (header[c] == "time")
                {
                  time_column = c;
                  if (file_time)
                    throw InputError(where + ": the file has a time column and also " +
                                     time_source + ": a snapshot's time is given once.");
                }
              if (header[c] == "system")
                system_column = c;
            }
          for (unsigned int d = 0; d < dim; ++d)
            if (column[d] < 0)
              throw InputError(where + ": the header '" + text + "' has no column '" +
                               axis_names[d] + "' (a " + std::to_string(dim) +
                               "D ensemble needs the columns x" + (dim > 1 ? ", y" : "") +
                               (dim > 2 ? ", z" : "") + ").");
          continue;
        }
      if (fields.size() != header.size())
        throw InputError(where + ": " + std::to_string(fields.size()) +
                         " values, but the header has " + std::to_string(header.size()) +
                         " columns.");
      double t = 0;
      if (time_column >= 0)
        t = parse_csv_number(fields[time_column], where);
      else if (file_time)
        t = *file_time;
      else
        throw InputError(file + ": no time: give a '# time = ...' line, a time column, or --time.");
      check_time(t, end_time, where);
      Point<dim> p;
      for (unsigned int d = 0; d < dim; ++d)
        p[d] = parse_csv_number(fields[column[d]], where);
      const double w = weight_column >= 0 ? parse_csv_number(fields[weight_column], where) : 1.0;
      if (w < 0)
        throw InputError(where + ": the weight " + fields[weight_column] + " is negative.");
      EnsembleSnapshot<dim> &s =
          snapshots[{t, system_column >= 0 ? fields[system_column] : std::string()}];
      s.time = t;
      s.points.push_back(p);
      s.weights.push_back(w);
    }
  if (snapshots.empty())
    throw InputError(file + ": the file holds no points.");
  // The map is ordered by time first.
  const bool several_times = snapshots.begin()->first.first != snapshots.rbegin()->first.first;
  std::vector<EnsembleSnapshot<dim>> result;
  for (auto &[key, s] : snapshots)
    {
      s.source = file;
      if (system_column >= 0)
        s.source += "#system=" + key.second;
      if (several_times)
        s.source += "@t=" + std::to_string(key.first);
      result.push_back(std::move(s));
    }
  return result;
}

template <int dim>
std::vector<EnsembleSnapshot<dim>>
read_npy(const std::string &file, const std::optional<double> &time, const double end_time)
{
  std::ifstream     in(file, std::ios::binary);
  const NpyHeader   header  = read_npy_header(in, file);
  const auto       &extents = header.shape;
  const std::size_t columns = extents.size() == 2 ? extents[1] : 1;
  if (extents.empty() || extents.size() > 2 || (extents.size() == 1 && dim != 1) || columns != dim)
    throw InputError(file + ": the array has shape (" + header.shape_text + "); a " +
                     std::to_string(dim) + "D ensemble needs (N, " + std::to_string(dim) + ")" +
                     (dim == 1 ? " or (N,)" : "") + ".");
  const std::size_t n = extents[0];
  if (n == 0)
    throw InputError(file + ": the file holds no points.");
  if (!time)
    throw InputError(file + ": a .npy ensemble needs its time: give --time.");
  check_time(*time, end_time, file);

  const std::vector<double> values  = read_npy_values(in, header, file);
  const bool                fortran = header.fortran_order;

  EnsembleSnapshot<dim> s;
  s.source = file;
  s.time   = *time;
  s.points.resize(n);
  s.weights.assign(n, 1.0);
  for (std::size_t i = 0; i < n; ++i)
    for (unsigned int d = 0; d < dim; ++d)
      {
        const double v = fortran ? values[d * n + i] : values[i * dim + d];
        if (!std::isfinite(v))
          throw InputError(file + ": point " + std::to_string(i) +
                           " has a value that is not a finite number.");
        s.points[i][d] = v;
      }
  return {s};
}
} // namespace

template <int dim>
std::vector<EnsembleSnapshot<dim>>
read_ensembles(const std::string &file, const std::optional<double> &time, const double end_time)
{
  if (!std::ifstream(file))
    throw InputError("--particles: cannot open '" + file + "'.");
  return ends_with(file, ".npy") ? read_npy<dim>(file, time, end_time)
                                 : read_csv<dim>(file, time, end_time);
}

template <int dim>
void write_npy(const std::string &file, const std::vector<Point<dim>> &points)
{
  std::vector<double> values;
  values.reserve(points.size() * dim);
  for (const Point<dim> &p : points)
    for (unsigned int d = 0; d < dim; ++d)
      values.push_back(p[d]);
  write_npy(file, values, {points.size(), std::size_t(dim)});
}

template std::vector<EnsembleSnapshot<1>>
read_ensembles(const std::string &, const std::optional<double> &, double);
template std::vector<EnsembleSnapshot<2>>
read_ensembles(const std::string &, const std::optional<double> &, double);
template std::vector<EnsembleSnapshot<3>>
              read_ensembles(const std::string &, const std::optional<double> &, double);
template void write_npy(const std::string &, const std::vector<Point<1>> &);
template void write_npy(const std::string &, const std::vector<Point<2>> &);
template void write_npy(const std::string &, const std::vector<Point<3>> &);
} // namespace densityflow
