#include <densityflow/base/exceptions.h>
#include <densityflow/output/checkpoint.h>

#include <deal.II/dofs/dof_handler.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/grid/cell_id.h>
#include <deal.II/lac/petsc_vector.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unordered_map>

namespace densityflow
{
namespace fs = std::filesystem;

void CheckpointParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Checkpoint");
  prm.declare_entry("Interval",
                    "0",
                    Patterns::Integer(0),
                    "Time steps between checkpoints of the whole state (the solver's vectors, "
                    "the time schemes' history, the clock, an adapted mesh, the particles with "
                    "the positions of their random streams, the lengths of the CSV files) in "
                    "<Output/Directory>/checkpoint/; one more is written at the end. A run "
                    "continues from it with `densityflow PROBLEM.prm --restart "
                    "<Output/Directory>`. 0: no checkpoints. Every model; not with "
                    "Output/Grid or Output/Write files = false (both refused).");
  prm.leave_subsection();
}

void CheckpointParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Checkpoint");
  interval = prm.get_integer("Interval");
  prm.leave_subsection();
}

void CheckpointValues::set(const std::string &name, const double value)
{
  set(name, std::vector<double>{value});
}

void CheckpointValues::set(const std::string &name, const std::vector<double> &values)
{
  std::string text;
  char        buffer[64];
  for (const double v : values)
    {
      std::snprintf(buffer, sizeof(buffer), "%a", v);
      text += (text.empty() ? "" : " ") + std::string(buffer);
    }
  entries[name] = text;
}

void CheckpointValues::set_text(const std::string &name, const std::string &text)
{
  entries[name] = text;
}

bool CheckpointValues::has(const std::string &name) const
{
  return entries.count(name) > 0;
}

std::string CheckpointValues::get_text(const std::string &name) const
{
  const auto entry = entries.find(name);
  if (entry == entries.end())
    throw InputError("The checkpoint file " + source + " has no entry '" + name +
                     "': it is incomplete or of another version of densityflow.");
  return entry->second;
}

std::vector<double> CheckpointValues::get_vector(const std::string &name) const
{
  std::istringstream  in(get_text(name));
  std::vector<double> values;
  std::string         word;
  while (in >> word)
    {
      char        *end   = nullptr;
      const double value = std::strtod(word.c_str(), &end);
      if (end == word.c_str() || *end != '\0')
        throw InputError("The checkpoint file " + source + ": '" + word + "' in '" + name +
                         "' is not a number.");
      values.push_back(value);
    }
  return values;
}

double CheckpointValues::get(const std::string &name) const
{
  const std::vector<double> values = get_vector(name);
  if (values.size() != 1)
    throw InputError("The checkpoint file " + source + ": '" + name + "' is not one number.");
  return values[0];
}

std::string CheckpointValues::to_text() const
{
  std::string text;
  for (const auto &[name, value] : entries)
    text += name + " = " + value + "\n";
  return text;
}

CheckpointValues CheckpointValues::read(const std::string &file)
{
  std::ifstream in(file);
  if (!in)
    throw InputError("The checkpoint file " + file + " cannot be read.");
  CheckpointValues values;
  values.source = file;
  std::string  line;
  unsigned int number = 0;
  while (std::getline(in, line))
    {
      ++number;
      const auto at = line.find(" = ");
      if (at == std::string::npos)
        throw InputError("The checkpoint file " + file + ", line " + std::to_string(number) +
                         ": not 'name = value' (the file is corrupt).");
      values.entries[line.substr(0, at)] = line.substr(at + 3);
    }
  return values;
}

namespace
{
constexpr std::uint64_t array_magic = 0x64666c6f77636b31ULL; // "dflowck1"

/** FNV-1a over the bytes of @p data: detects a corrupt file, not an attack. */
std::uint64_t checksum(const void *data, const std::size_t bytes)
{
  const auto   *p    = static_cast<const unsigned char *>(data);
  std::uint64_t hash = 1469598103934665603ULL;
  for (std::size_t i = 0; i < bytes; ++i)
    hash = (hash ^ p[i]) * 1099511628211ULL;
  return hash;
}
} // namespace

bool write_checkpoint_array(const std::string &file, const std::vector<double> &values)
{
  std::ofstream       out(file, std::ios::binary);
  const std::uint64_t header[2] = {array_magic, values.size()};
  const std::uint64_t sum       = checksum(values.data(), values.size() * sizeof(double));
  out.write(reinterpret_cast<const char *>(header), sizeof(header));
  out.write(reinterpret_cast<const char *>(values.data()), values.size() * sizeof(double));
  out.write(reinterpret_cast<const char *>(&sum), sizeof(sum));
  out.close();
  return static_cast<bool>(out);
}

std::vector<double> read_checkpoint_array(const std::string &file, std::string &error)
{
  error.clear();
  std::ifstream in(file, std::ios::binary);
  if (!in)
    {
      error = "The checkpoint file " + file + " is missing or cannot be read.";
      return {};
    }
  std::uint64_t header[2] = {0, 0};
  in.read(reinterpret_cast<char *>(header), sizeof(header));
  const std::uint64_t size = file_size(file);
  if (!in || header[0] != array_magic || size != sizeof(header) + 8 * header[1] + 8)
    {
      error = "The checkpoint file " + file + " is truncated or corrupt (" + std::to_string(size) +
              " bytes).";
      return {};
    }
  std::vector<double> values(header[1]);
  std::uint64_t       sum = 0;
  in.read(reinterpret_cast<char *>(values.data()), values.size() * sizeof(double));
  in.read(reinterpret_cast<char *>(&sum), sizeof(sum));
  if (!in || sum != checksum(values.data(), values.size() * sizeof(double)))
    {
      error = "The checkpoint file " + file + " is corrupt (its checksum does not match).";
      return {};
    }
  return values;
}

namespace
{
using CellKey = std::array<unsigned int, 4>;

/**
 * The CellId of @p cell as four numbers: the coarse cell, the level and the child indices
 * packed dim bits per level (CellId::to_binary() went through a string stream, seconds at
 * 1e6 cells). Past 64 bits of child indices (levels > 64 / dim), to_binary() itself.
 */
template <int dim, typename Cell>
CellKey cell_key(const Cell &cell)
{
  const CellId  id       = cell->id();
  const auto    children = id.get_child_indices();
  std::uint64_t packed   = 0;
  if (children.size() * dim > 64)
    return id.template to_binary<dim>();
  for (const std::uint8_t c : children)
    packed = (packed << dim) | c;
  return {static_cast<unsigned int>(id.get_coarse_cell_id()),
          static_cast<unsigned int>(children.size()),
          static_cast<unsigned int>(packed & 0xffffffffULL),
          static_cast<unsigned int>(packed >> 32)};
}

/**
 * Calls @p f(cell, key) for every locally owned active cell, key = cell_key(cell), by
 * descending each coarse cell's tree once and packing the child indices on the way down:
 * cell->id() walks up to the coarse cell for every cell, which was most of the time of
 * a checkpoint at 1e6 cells.
 */
template <int dim, typename Function>
void for_each_owned_cell(const typename DoFHandler<dim, dim>::cell_iterator &cell,
                         const unsigned int                                  coarse_id,
                         const unsigned int                                  level,
                         const std::uint64_t                                 packed,
                         Function                                           &f)
{
  if (cell->has_children())
    {
      for (unsigned int c = 0; c < cell->n_children(); ++c)
        for_each_owned_cell<dim>(cell->child(c), coarse_id, level + 1, (packed << dim) | c, f);
      return;
    }
  if (!cell->is_locally_owned())
    return;
  if (level * dim > 64)
    f(cell, cell_key<dim>(cell));
  else
    f(cell,
      CellKey{coarse_id,
              level,
              static_cast<unsigned int>(packed & 0xffffffffULL),
              static_cast<unsigned int>(packed >> 32)});
}

template <int dim, typename Function>
void for_each_owned_cell(const DoFHandler<dim, dim> &dof_handler, Function f)
{
  for (const auto &coarse : dof_handler.cell_iterators_on_level(0))
    for_each_owned_cell<dim>(
        coarse, static_cast<unsigned int>(coarse->id().get_coarse_cell_id()), 0, 0, f);
}

struct CellKeyHash
{
  std::size_t operator()(const CellKey &k) const { return checksum(k.data(), sizeof(CellKey)); }
};
} // namespace

template <int dim>
std::vector<double> cell_records(const DoFHandler<dim, dim>                            &dof_handler,
                                 const std::vector<const PETScWrappers::MPI::Vector *> &vectors)
{
  // Ghosted copies: a cell's dofs include some that other ranks own.
  const IndexSet relevant = DoFTools::extract_locally_relevant_dofs(dof_handler);
  std::vector<PETScWrappers::MPI::Vector> ghosted;
  for (const PETScWrappers::MPI::Vector *v : vectors)
    {
      ghosted.emplace_back(
          dof_handler.locally_owned_dofs(), relevant, dof_handler.get_communicator());
      ghosted.back() = *v;
    }
  const unsigned int  n = dof_handler.get_fe().n_dofs_per_cell();
  std::vector<double> records;
  Vector<double>      values(n);
  for_each_owned_cell(dof_handler, [&](const auto &cell, const CellKey &key) {
    records.insert(records.end(), key.begin(), key.end());
    for (const PETScWrappers::MPI::Vector &v : ghosted)
      {
        cell->get_dof_values(v, values);
        records.insert(records.end(), values.begin(), values.end());
      }
  });
  return records;
}

template <int dim>
std::size_t restore_cell_records(const DoFHandler<dim, dim>                      &dof_handler,
                                 const std::vector<std::vector<double>>          &records,
                                 const std::vector<PETScWrappers::MPI::Vector *> &vectors)
{
  using Cell                                  = typename DoFHandler<dim, dim>::cell_iterator;
  const unsigned int                   n      = dof_handler.get_fe().n_dofs_per_cell();
  const std::size_t                    length = 4 + vectors.size() * n;
  const IndexSet                      &mine   = dof_handler.locally_owned_dofs();
  std::vector<types::global_dof_index> dofs(n);
  // Gathered and set at once: PETSc's one-entry writes took seconds at 1e6 DoFs.
  std::vector<std::vector<types::global_dof_index>> indices(vectors.size());
  std::vector<std::vector<PetscScalar>>             values(vectors.size());
  const auto take = [&](const Cell &cell, const std::vector<double> &file, const std::size_t at) {
    cell->get_dof_indices(dofs);
    for (unsigned int i = 0; i < n; ++i)
      if (mine.is_element(dofs[i]))
        for (std::size_t v = 0; v < vectors.size(); ++v)
          {
            indices[v].push_back(dofs[i]);
            values[v].push_back(file[at + 4 + v * n + i]);
          }
  };

  // Restarted on as many ranks as wrote the checkpoint, on the same mesh, this rank's own
  // records come in the order its cells are visited: no lookup (a hash map of 1e6 cells
  // took a second). Any difference falls back to the lookup below.
  const MPI_Comm communicator = dof_handler.get_communicator();
  std::size_t    missing      = 0;
  bool           in_order     = records.size() == Utilities::MPI::n_mpi_processes(communicator);
  if (in_order)
    {
      const std::vector<double> &file = records[Utilities::MPI::this_mpi_process(communicator)];
      std::size_t                at   = 0;
      for_each_owned_cell(dof_handler, [&](const Cell &cell, const CellKey &key) {
        for (unsigned int k = 0; k < 4 && in_order; ++k)
          in_order = at + length <= file.size() && file[at + k] == key[k];
        if (in_order)
          take(cell, file, at);
        at += length;
      });
      in_order = in_order && at == file.size();
    }
  if (!in_order)
    {
      for (std::size_t v = 0; v < vectors.size(); ++v)
        indices[v].clear(), values[v].clear();
      std::unordered_map<CellKey, Cell, CellKeyHash> owned;
      owned.reserve(dof_handler.get_triangulation().n_active_cells());
      for_each_owned_cell(dof_handler,
                          [&](const Cell &cell, const CellKey &key) { owned.emplace(key, cell); });
      std::size_t found = 0;
      for (const std::vector<double> &file : records)
        for (std::size_t at = 0; at + length <= file.size(); at += length)
          {
            CellKey key;
            for (unsigned int k = 0; k < 4; ++k)
              key[k] = static_cast<unsigned int>(file[at + k]);
            const auto cell = owned.find(key);
            if (cell == owned.end())
              continue;
            ++found;
            take(cell->second, file, at);
          }
      missing = owned.size() - found;
    }
  for (std::size_t v = 0; v < vectors.size(); ++v)
    {
      vectors[v]->set(indices[v], values[v]);
      vectors[v]->compress(VectorOperation::insert);
    }
  return missing;
}

CheckpointFolder::CheckpointFolder(const std::string &run_directory)
    : run_directory(run_directory)
{}

std::string CheckpointFolder::begin(const MPI_Comm communicator) const
{
  const std::string folder = run_directory + "/checkpoint.new";
  bool              failed = false;
  std::string       message;
  if (Utilities::MPI::this_mpi_process(communicator) == 0)
    {
      std::error_code error;
      fs::remove_all(folder, error);
      fs::create_directories(folder, error);
      failed  = static_cast<bool>(error);
      message = "Cannot make the checkpoint folder " + folder + ": " + error.message();
    }
  throw_if_any(failed, message, communicator, true);
  return folder;
}

void CheckpointFolder::commit(const MPI_Comm communicator) const
{
  // Every rank has written its files before the folder is put in place.
  MPI_Barrier(communicator);
  bool        failed = false;
  std::string message;
  if (Utilities::MPI::this_mpi_process(communicator) == 0)
    {
      const fs::path  base(run_directory);
      std::error_code error;
      fs::remove_all(base / "checkpoint.old", error);
      if (fs::exists(base / "checkpoint"))
        fs::rename(base / "checkpoint", base / "checkpoint.old", error);
      if (!error)
        fs::rename(base / "checkpoint.new", base / "checkpoint", error);
      if (!error)
        fs::remove_all(base / "checkpoint.old", error);
      failed  = static_cast<bool>(error);
      message = "Cannot put the checkpoint in place in " + run_directory + ": " + error.message();
    }
  throw_if_any(failed, message, communicator, true);
}

std::string CheckpointFolder::complete() const
{
  const fs::path base(run_directory);
  for (const char *name : {"checkpoint", "checkpoint.old"})
    if (fs::exists(base / name / "metadata.txt"))
      return (base / name).string();
  throw InputError("--restart " + run_directory + ": no complete checkpoint in " + run_directory +
                   "/checkpoint (a run writes one with Checkpoint/Interval > 0).");
}

void CheckpointFolder::remove(const MPI_Comm communicator) const
{
  if (Utilities::MPI::this_mpi_process(communicator) != 0)
    return;
  std::error_code error;
  for (const char *name : {"checkpoint", "checkpoint.new", "checkpoint.old"})
    fs::remove_all(fs::path(run_directory) / name, error);
}

namespace
{
/** `Section/Name` -> value of a parameter file as ParameterHandler prints it. */
std::map<std::string, std::string> parameter_values(const std::string &text)
{
  std::map<std::string, std::string> values;
  std::vector<std::string>           sections;
  std::istringstream                 in(text);
  std::string                        line;
  const auto                         trim = [](const std::string &s) {
    const auto begin = s.find_first_not_of(" \t");
    const auto end   = s.find_last_not_of(" \t");
    return begin == std::string::npos ? std::string() : s.substr(begin, end - begin + 1);
  };
  while (std::getline(in, line))
    {
      line = trim(line.substr(0, line.find('#')));
      if (line.rfind("subsection ", 0) == 0)
        sections.push_back(trim(line.substr(11)));
      else if (line == "end" && !sections.empty())
        sections.pop_back();
      else if (line.rfind("set ", 0) == 0 && line.find('=') != std::string::npos)
        {
          const auto  at   = line.find('=');
          std::string name = trim(line.substr(4, at - 4));
          for (auto s = sections.rbegin(); s != sections.rend(); ++s)
            name = *s + "/" + name;
          values[name] = trim(line.substr(at + 1));
        }
    }
  return values;
}
} // namespace

std::vector<std::string> differing_parameters(const std::string              &written,
                                              const std::string              &now,
                                              const std::vector<std::string> &may_differ)
{
  const auto               a = parameter_values(written), b = parameter_values(now);
  std::vector<std::string> differences;
  const auto               allowed = [&](const std::string &name) {
    return std::find(may_differ.begin(), may_differ.end(), name) != may_differ.end();
  };
  for (const auto &[name, value] : b)
    {
      const auto there = a.find(name);
      const bool same  = there != a.end() && there->second == value;
      if (!same && !allowed(name))
        differences.push_back(name + " = " + (there == a.end() ? "(none)" : there->second) +
                              " there, " + value + " here");
    }
  for (const auto &[name, value] : a)
    if (b.count(name) == 0 && !allowed(name))
      differences.push_back(name + " = " + value + " there, (none) here");
  return differences;
}

std::uint64_t file_size(const std::string &file)
{
  std::error_code     error;
  const std::uint64_t size = fs::file_size(file, error);
  return error ? 0 : size;
}

std::string file_checksum(const std::string &file)
{
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return "";
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return std::to_string(bytes.size()) + " " + std::to_string(checksum(bytes.data(), bytes.size()));
}

void truncate_file(const std::string &file, const std::uint64_t size)
{
  if (!fs::exists(file) || fs::file_size(file) < size)
    throw InputError("--restart: " + file + " is shorter than when the checkpoint was written (" +
                     std::to_string(size) +
                     " bytes): the checkpoint does not belong to the files in its folder.");
  fs::resize_file(file, size);
}

template <int dim>
void restore_solver_records(const DoFHandler<dim, dim>                      &dof_handler,
                            const std::vector<std::vector<double>>          &records,
                            const std::vector<PETScWrappers::MPI::Vector *> &vectors)
{
  const std::size_t missing = restore_cell_records(dof_handler, records, vectors);
  throw_if_any(
      missing > 0,
      "--restart: " + std::to_string(missing) +
          " cells of this mesh are not in the checkpoint: it was written for another mesh.",
      dof_handler.get_communicator());
}

void check_checkpoint_dofs(const CheckpointValues &values,
                           const std::uint64_t     n_dofs,
                           const std::string      &what)
{
  const double dofs = values.get("solver/dofs");
  if (dofs != n_dofs)
    throw InputError("--restart: the checkpoint's " + what + " has " + std::to_string(long(dofs)) +
                     " DoFs, this mesh " + std::to_string(n_dofs) +
                     ": it was written for another mesh or degree.");
}

template void                restore_solver_records(const DoFHandler<1, 1> &,
                                                    const std::vector<std::vector<double>> &,
                                                    const std::vector<PETScWrappers::MPI::Vector *> &);
template void                restore_solver_records(const DoFHandler<2, 2> &,
                                                    const std::vector<std::vector<double>> &,
                                                    const std::vector<PETScWrappers::MPI::Vector *> &);
template void                restore_solver_records(const DoFHandler<3, 3> &,
                                                    const std::vector<std::vector<double>> &,
                                                    const std::vector<PETScWrappers::MPI::Vector *> &);
template std::vector<double> cell_records(const DoFHandler<1, 1> &,
                                          const std::vector<const PETScWrappers::MPI::Vector *> &);
template std::vector<double> cell_records(const DoFHandler<2, 2> &,
                                          const std::vector<const PETScWrappers::MPI::Vector *> &);
template std::vector<double> cell_records(const DoFHandler<3, 3> &,
                                          const std::vector<const PETScWrappers::MPI::Vector *> &);
template std::size_t         restore_cell_records(const DoFHandler<1, 1> &,
                                                  const std::vector<std::vector<double>> &,
                                                  const std::vector<PETScWrappers::MPI::Vector *> &);
template std::size_t         restore_cell_records(const DoFHandler<2, 2> &,
                                                  const std::vector<std::vector<double>> &,
                                                  const std::vector<PETScWrappers::MPI::Vector *> &);
template std::size_t         restore_cell_records(const DoFHandler<3, 3> &,
                                                  const std::vector<std::vector<double>> &,
                                                  const std::vector<PETScWrappers::MPI::Vector *> &);
} // namespace densityflow
