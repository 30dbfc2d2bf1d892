#include <densityflow/base/exceptions.h>
#include <densityflow/base/word_bits.h>
#include <densityflow/output/checkpoint.h>
#include <densityflow/solvers/petsc_check.h>

#include <deal.II/dofs/dof_handler.h>
#include <deal.II/grid/cell_id.h>
#include <deal.II/lac/petsc_vector.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
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
constexpr std::uint64_t array_magic = 0x64666c6f77636b32ULL; // "dflowck2"

/**
 * FNV-1a's step over the 8-byte words of @p data (then over its last bytes): for given
 * other words each step maps the hash one to one, so any one changed word changes the
 * result. Detects a corrupt file, not an attack; 8x fewer steps than over bytes (a
 * quarter of a second for a checkpoint of 1e6 DoFs was the byte-wise checksum).
 */
std::uint64_t checksum(const void *data, const std::size_t bytes)
{
  constexpr std::uint64_t prime = 1099511628211ULL;
  const auto             *p     = static_cast<const unsigned char *>(data);
  std::uint64_t           hash  = 1469598103934665603ULL;
  std::size_t             i     = 0;
  for (; i + 8 <= bytes; i += 8)
    {
      std::uint64_t word;
      std::memcpy(&word, p + i, sizeof(word));
      hash = (hash ^ word) * prime;
    }
  for (; i < bytes; ++i)
    hash = (hash ^ p[i]) * prime;
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
  return {{static_cast<unsigned int>(id.get_coarse_cell_id()),
           static_cast<unsigned int>(children.size()),
           static_cast<unsigned int>(packed & 0xffffffffULL),
           static_cast<unsigned int>(packed >> 32)}};
}

/**
 * Calls @p f(cell, key) for every locally owned active cell, key = cell_key(cell), by
 * descending each coarse cell's tree once and packing the child indices on the way down:
 * cell->id() walks up to the coarse cell for every cell, which was most of the time of
 * a checkpoint at 1e6 cells.
 */
template <int dim, typename Function>
void for_each_cell(const typename DoFHandler<dim, dim>::cell_iterator &cell,
                   const unsigned int                                  coarse_id,
                   const unsigned int                                  level,
                   const std::uint64_t                                 packed,
                   const bool                                          with_ghosts,
                   Function                                           &f)
{
  if (cell->has_children())
    {
      for (unsigned int c = 0; c < cell->n_children(); ++c)
        for_each_cell<dim>(
            cell->child(c), coarse_id, level + 1, (packed << dim) | c, with_ghosts, f);
      return;
    }
  if (!cell->is_locally_owned() && !(with_ghosts && cell->is_ghost()))
    return;
  if (level * dim > 64)
    f(cell, cell_key<dim>(cell));
  else
    f(cell,
      CellKey{{coarse_id,
               level,
               static_cast<unsigned int>(packed & 0xffffffffULL),
               static_cast<unsigned int>(packed >> 32)}});
}

/**
 * Calls @p f(cell, key) for every locally owned (and, @p with_ghosts, ghost) active cell,
 * key = cell_key(cell), by descending each coarse cell's tree once and packing the child
 * indices on the way down: cell->id() walks up to the coarse cell for every cell, which
 * was most of the time of a checkpoint at 1e6 cells.
 */
template <int dim, typename Function>
void for_each_cell(const DoFHandler<dim, dim> &dof_handler, const bool with_ghosts, Function f)
{
  for (const auto &coarse : dof_handler.cell_iterators_on_level(0))
    for_each_cell<dim>(
        coarse, static_cast<unsigned int>(coarse->id().get_coarse_cell_id()), 0, 0, with_ghosts, f);
}

struct CellKeyHash
{
  std::size_t operator()(const CellKey &k) const { return checksum(k.data(), sizeof(CellKey)); }
};

/** A record's first two words: the cell key's four numbers, two per word. */
std::array<std::uint64_t, 2> key_words(const CellKey &key)
{
  return {{key[0] | (std::uint64_t(key[1]) << 32), key[2] | (std::uint64_t(key[3]) << 32)}};
}

/** The cell key of the record at @p at of @p file (the inverse of key_words()). */
CellKey record_key(const std::vector<double> &file, const std::size_t at)
{
  const std::uint64_t words[2] = {double_as_word(file[at]), double_as_word(file[at + 1])};
  return {{static_cast<unsigned int>(words[0] & 0xffffffffULL),
           static_cast<unsigned int>(words[0] >> 32),
           static_cast<unsigned int>(words[1] & 0xffffffffULL),
           static_cast<unsigned int>(words[1] >> 32)}};
}

/** How many DoFs the record at @p at of @p file holds: the bits of its mask. */
std::size_t
record_dofs(const std::vector<double> &file, const std::size_t at, const unsigned int mask_words)
{
  std::size_t count = 0;
  for (unsigned int w = 0; w < mask_words; ++w)
    count += __builtin_popcountll(double_as_word(file[at + 2 + w]));
  return count;
}

/** The locally owned values of a PETSc vector, read through its array. */
class OwnedValues
{
public:
  explicit OwnedValues(const PETScWrappers::MPI::Vector &vector)
      : vector(vector)
  {
    check_petsc(VecGetArrayRead(vector, &values), "VecGetArrayRead");
  }
  ~OwnedValues() { VecRestoreArrayRead(vector, &values); }
  OwnedValues(const OwnedValues &)            = delete;
  OwnedValues &operator=(const OwnedValues &) = delete;

  double operator[](const std::size_t local) const { return values[local]; }

private:
  const PETScWrappers::MPI::Vector &vector;
  const PetscScalar                *values = nullptr;
};
} // namespace

template <int dim>
std::vector<double> cell_records(const DoFHandler<dim, dim>                            &dof_handler,
                                 const std::vector<const PETScWrappers::MPI::Vector *> &vectors)
{
  const IndexSet                           &owned      = dof_handler.locally_owned_dofs();
  const unsigned int                        n          = dof_handler.get_fe().n_dofs_per_cell();
  const unsigned int                        mask_words = (n + 63) / 64;
  std::vector<std::unique_ptr<OwnedValues>> arrays;
  for (const PETScWrappers::MPI::Vector *v : vectors)
    arrays.push_back(std::make_unique<OwnedValues>(*v));

  // Each owned DoF once (a Q1 DoF is in 2^dim cells: 3x fewer values than every cell's
  // dofs for Q1 in 2D), in the record of the last owned cell visited that has it. Every
  // owned DoF is in an owned cell, so each is written by exactly one rank. (The first cell
  // would do as well, but deal.II gives an interface DoF to the lower rank, and on another
  // partition the first cell is then nearly always the new owner's: the lookup in the
  // ghost cells' records, which another partition needs, would go untested.)
  std::vector<unsigned int>            writer(owned.n_elements());
  std::vector<types::global_dof_index> dofs(n);
  std::vector<std::size_t>             locals;
  std::vector<std::uint64_t>           mask(mask_words);
  std::vector<double>                  records;
  unsigned int                         ordinal = 0;
  for_each_cell(dof_handler, false, [&](const auto &cell, const CellKey &) {
    cell->get_dof_indices(dofs);
    for (const types::global_dof_index dof : dofs)
      if (owned.is_element(dof))
        writer[owned.index_within_set(dof)] = ordinal;
    ++ordinal;
  });
  // At most one record per owned DoF.
  records.reserve((2 + mask_words + vectors.size()) * owned.n_elements());
  ordinal = 0;
  for_each_cell(dof_handler, false, [&](const auto &cell, const CellKey &key) {
    cell->get_dof_indices(dofs);
    locals.clear();
    std::fill(mask.begin(), mask.end(), 0);
    for (unsigned int i = 0; i < n; ++i)
      if (owned.is_element(dofs[i]))
        {
          const std::size_t local = owned.index_within_set(dofs[i]);
          if (writer[local] == ordinal)
            {
              writer[local] = ~0U;
              mask[i / 64] |= std::uint64_t(1) << (i % 64);
              locals.push_back(local);
            }
        }
    ++ordinal;
    if (locals.empty())
      return;
    for (const std::uint64_t word : key_words(key))
      records.push_back(word_as_double(word));
    for (const std::uint64_t word : mask)
      records.push_back(word_as_double(word));
    for (const auto &array : arrays)
      for (const std::size_t local : locals)
        records.push_back((*array)[local]);
  });
  return records;
}

template <int dim>
std::size_t restore_cell_records(const DoFHandler<dim, dim>                      &dof_handler,
                                 const std::vector<std::vector<double>>          &records,
                                 const std::vector<PETScWrappers::MPI::Vector *> &vectors)
{
  using Cell                                      = typename DoFHandler<dim, dim>::cell_iterator;
  const unsigned int                   n          = dof_handler.get_fe().n_dofs_per_cell();
  const unsigned int                   mask_words = (n + 63) / 64;
  const IndexSet                      &mine       = dof_handler.locally_owned_dofs();
  std::vector<types::global_dof_index> dofs(n);
  std::vector<char>                    found(mine.n_elements(), 0);
  // Gathered and set at once: PETSc's one-entry writes took seconds at 1e6 DoFs.
  std::vector<std::vector<types::global_dof_index>> indices(vectors.size());
  std::vector<std::vector<PetscScalar>>             values(vectors.size());

  // The record at @p at of @p file: its length, or 0 if it is cut short.
  const auto length = [&](const std::vector<double> &file, const std::size_t at) -> std::size_t {
    if (at + 2 + mask_words > file.size())
      return 0;
    const std::size_t total = 2 + mask_words + vectors.size() * record_dofs(file, at, mask_words);
    return at + total <= file.size() ? total : 0;
  };
  // The values of the record at @p at for the dofs of @p cell this rank owns.
  const auto take = [&](const Cell &cell, const std::vector<double> &file, const std::size_t at) {
    cell->get_dof_indices(dofs);
    const std::size_t count = record_dofs(file, at, mask_words);
    std::size_t       slot  = 0;
    for (unsigned int i = 0; i < n; ++i)
      if ((double_as_word(file[at + 2 + i / 64]) >> (i % 64)) & 1)
        {
          if (mine.is_element(dofs[i]))
            {
              found[mine.index_within_set(dofs[i])] = 1;
              for (std::size_t v = 0; v < vectors.size(); ++v)
                {
                  indices[v].push_back(dofs[i]);
                  values[v].push_back(file[at + 2 + mask_words + v * count + slot]);
                }
            }
          ++slot;
        }
  };
  const auto n_missing = [&] { return std::size_t(std::count(found.begin(), found.end(), 0)); };

  // Restarted on as many ranks as wrote the checkpoint, on the same mesh, this rank's own
  // records come in the order its cells are visited: no lookup (a hash map of 1e6 cells
  // took a second). Any difference falls back to the lookup below.
  const MPI_Comm communicator = dof_handler.get_communicator();
  bool           in_order     = records.size() == Utilities::MPI::n_mpi_processes(communicator);
  if (in_order)
    {
      const std::vector<double> &file = records[Utilities::MPI::this_mpi_process(communicator)];
      std::size_t                at   = 0;
      for_each_cell(dof_handler, false, [&](const Cell &cell, const CellKey &key) {
        const std::size_t size = length(file, at);
        if (size > 0 && record_key(file, at) == key)
          {
            take(cell, file, at);
            at += size;
          }
      });
      in_order = at == file.size() && n_missing() == 0;
    }
  if (!in_order)
    {
      // Another partition: a DoF this rank owns may be in the record of a cell another
      // rank owned, one that shares it and so is a ghost here.
      std::fill(found.begin(), found.end(), 0);
      for (std::size_t v = 0; v < vectors.size(); ++v)
        indices[v].clear(), values[v].clear();
      std::unordered_map<CellKey, Cell, CellKeyHash> here;
      here.reserve(dof_handler.get_triangulation().n_active_cells());
      for_each_cell(dof_handler, true, [&](const Cell &cell, const CellKey &key) {
        here.emplace(key, cell);
      });
      for (const std::vector<double> &file : records)
        {
          std::size_t at = 0;
          for (std::size_t size = length(file, at); size > 0; size = length(file, at))
            {
              const auto cell = here.find(record_key(file, at));
              if (cell != here.end())
                take(cell->second, file, at);
              at += size;
            }
        }
    }
  for (std::size_t v = 0; v < vectors.size(); ++v)
    {
      vectors[v]->set(indices[v], values[v]);
      vectors[v]->compress(VectorOperation::insert);
    }
  return n_missing();
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
  throw_if_any(missing > 0,
               "--restart: " + std::to_string(missing) +
                   " DoFs of this mesh are not in the checkpoint: it was written for another mesh.",
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
