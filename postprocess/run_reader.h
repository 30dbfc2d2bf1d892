#pragma once

#include <vtkSmartPointer.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

class vtkUnstructuredGrid;

namespace densityflow
{
/**
 * Bad input to densityflow-post (a missing or corrupt file, an unknown column): the
 * message names the file and, where there is one, the line or column.
 */
class PostError : public std::runtime_error
{
public:
  using std::runtime_error::runtime_error;
};

/** One entry of a ParaView time series (.pvd): the time and the file, as written there. */
struct Snapshot
{
  double      time;
  std::string file; ///< relative to the .pvd's folder
};

/**
 * Reads a .pvd with VTK's XML parser; throws PostError naming the file when it cannot be
 * parsed, has no DataSet entries, or names files that do not exist.
 */
std::vector<Snapshot> read_pvd(const std::string &pvd_file);

/**
 * Reads a .pvtu (and its .vtu pieces) with vtkXMLPUnstructuredGridReader, the reader
 * ParaView uses. Any error VTK reports (a truncated or missing piece) becomes a PostError
 * naming the file, with VTK's own reason.
 */
vtkSmartPointer<vtkUnstructuredGrid> read_pvtu(const std::string &file);

/**
 * The integral of a point-data array over the cells of @p grid, with the cells' own
 * (isoparametric) interpolation and a Gauss rule that is exact for it: the integral of the
 * field as ParaView interpolates it. Throws for a cell type it does not know.
 */
double integrate(vtkUnstructuredGrid &grid, const std::string &array);

/** A CSV file with a header line, as the solver writes it (numbers or plain names). */
struct CsvTable
{
  std::string                           file;
  std::vector<std::string>              header;
  std::vector<std::vector<std::string>> rows;

  /** The index of a column; PostError naming the file and the column when there is none. */
  unsigned int column(const std::string &name) const;
  /** Whether the column exists. */
  bool has_column(const std::string &name) const;
  /** The column as numbers; empty cells are NaN; PostError naming file and line otherwise. */
  std::vector<double> numbers(const std::string &name) const;
};

/** Reads a CSV file; PostError naming the file (and line) when it is missing or ragged. */
CsvTable read_csv(const std::string &file);

/** The run's parameters.prm as "Section/Name" -> value (empty map when there is none). */
std::map<std::string, std::string> read_parameters(const std::string &run_directory);

/** Throws PostError unless @p directory exists and holds density.pvd. */
void check_run_directory(const std::string &directory);

/** Routes VTK's error and warning output into PostErrors instead of the terminal. */
void capture_vtk_messages();
} // namespace densityflow
