#pragma once

#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dealii
{
template <int dim, int spacedim>
class DoFHandler;
namespace PETScWrappers
{
namespace MPI
{
class Vector;
}
} // namespace PETScWrappers
} // namespace dealii

namespace densityflow
{
using namespace dealii;

/** The `Checkpoint` subsection. */
struct CheckpointParameters
{
  /** Steps between checkpoints (and one at the end); 0: none. */
  unsigned int interval = 0;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);
};

/**
 * The named numbers and words of a checkpoint that are the same on every rank (clocks,
 * counters, accumulated columns, the output series), as text: numbers as C99
 * hexadecimal floats, so that they come back bit for bit.
 */
class CheckpointValues
{
public:
  void set(const std::string &name, const double value);
  void set(const std::string &name, const std::vector<double> &values);
  void set_text(const std::string &name, const std::string &text);

  bool has(const std::string &name) const;
  /** InputError naming @p name and the file read from where it is missing. */
  double              get(const std::string &name) const;
  std::vector<double> get_vector(const std::string &name) const;
  std::string         get_text(const std::string &name) const;

  /** One line `name = value` per entry. */
  std::string to_text() const;
  /** The values of to_text() in @p file; InputError naming the file and line if malformed. */
  static CheckpointValues read(const std::string &file);

private:
  std::map<std::string, std::string> entries;
  std::string                        source;
};

/**
 * Writes @p values to @p file (binary: a header, the count, the values and a checksum).
 * Returns false if the file could not be written.
 */
bool write_checkpoint_array(const std::string &file, const std::vector<double> &values);

/**
 * The values of @p file written by write_checkpoint_array(); on a missing, truncated or
 * corrupt file, @p error says which and what, and the result is empty. Local.
 */
std::vector<double> read_checkpoint_array(const std::string &file, std::string &error);

/**
 * The nodal values of @p vectors (locally owned, not ghosted) as records of the locally
 * owned cells of @p dof_handler, each DoF once: a record is a cell's CellId (two 64-bit
 * words), a mask of the cell's dofs it holds (one bit per dof, 64 per word) and, per
 * vector, their values. A DoF is in the record of the first owned cell that has it on the
 * rank that owns it. A record names its cell, not the rank: read back on any number of
 * ranks (restore_cell_records()), the vectors are the same to the bit. Local.
 */
template <int dim>
std::vector<double> cell_records(const DoFHandler<dim, dim>                            &dof_handler,
                                 const std::vector<const PETScWrappers::MPI::Vector *> &vectors);

/**
 * Sets the locally owned entries of @p vectors from the records of every rank that wrote
 * them (@p records, one array per writing rank). Collective (compress). Returns the number
 * of locally owned DoFs that no record held (0 for a checkpoint of the same mesh).
 */
template <int dim>
std::size_t restore_cell_records(const DoFHandler<dim, dim>                      &dof_handler,
                                 const std::vector<std::vector<double>>          &records,
                                 const std::vector<PETScWrappers::MPI::Vector *> &vectors);

/**
 * restore_cell_records() for a solver's restart: an InputError on every rank where a
 * locally owned DoF of @p dof_handler is in no record (a checkpoint of another mesh).
 * Collective.
 */
template <int dim>
void restore_solver_records(const DoFHandler<dim, dim>                      &dof_handler,
                            const std::vector<std::vector<double>>          &records,
                            const std::vector<PETScWrappers::MPI::Vector *> &vectors);

/**
 * InputError unless the checkpoint's `solver/dofs` in @p values is @p n_dofs: its @p what
 * (the density, the potential) was written for another mesh or degree.
 */
void check_checkpoint_dofs(const CheckpointValues &values,
                           const std::uint64_t     n_dofs,
                           const std::string      &what);

/**
 * The folder of checkpoints of a run in @p run_directory: written into checkpoint.new/,
 * which replaces checkpoint/ only once complete (the previous one is moved to
 * checkpoint.old/ meanwhile and removed after), so that a run killed at any moment leaves
 * a complete checkpoint.
 */
class CheckpointFolder
{
public:
  explicit CheckpointFolder(const std::string &run_directory);

  /** checkpoint.new/, made empty (rank 0; collective). */
  std::string begin(const MPI_Comm communicator) const;
  /** Puts checkpoint.new/ in place of checkpoint/ (rank 0; collective). */
  void commit(const MPI_Comm communicator) const;
  /**
   * The complete checkpoint to restart from: checkpoint/, or checkpoint.old/ where a run
   * was killed between the two renames of commit(). InputError if there is none.
   */
  std::string complete() const;
  /** Removes the checkpoints of an earlier run (rank 0). */
  void remove(const MPI_Comm communicator) const;

private:
  std::string run_directory;
};

/**
 * The parameters that differ between the parameter files @p written (the checkpoint's)
 * and @p now, as `Section/Name` = value there and here, leaving out @p may_differ
 * (`Section/Name`).
 */
std::vector<std::string> differing_parameters(const std::string              &written,
                                              const std::string              &now,
                                              const std::vector<std::string> &may_differ);

/** The bytes of @p file (0 if it does not exist). */
std::uint64_t file_size(const std::string &file);

/**
 * "<bytes> <checksum>" of @p file (the checksum of the binary arrays), for files that
 * others write (the mesh's); empty if it cannot be read. Local.
 */
std::string file_checksum(const std::string &file);

/**
 * Cuts @p file back to @p size bytes (rows written after a checkpoint). InputError if it
 * is shorter: the files are not those the checkpoint was written with.
 */
void truncate_file(const std::string &file, const std::uint64_t size);
} // namespace densityflow
