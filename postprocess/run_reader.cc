#include "run_reader.h"

#include <vtkCell.h>
#include <vtkDataArray.h>
#include <vtkLogger.h>
#include <vtkObjectFactory.h>
#include <vtkOutputWindow.h>
#include <vtkPointData.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLDataElement.h>
#include <vtkXMLDataParser.h>
#include <vtkXMLPUnstructuredGridReader.h>

#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace densityflow
{
namespace
{
/**
 * VTK reports problems through its output window, several lines per message with the
 * source file of VTK itself. This window keeps only the message, so that a broken file
 * gives one line naming it.
 */
class CapturingOutputWindow : public vtkOutputWindow
{
public:
  static CapturingOutputWindow *New();
  vtkTypeMacro(CapturingOutputWindow, vtkOutputWindow);

  void DisplayText(const char *text) override { keep(text); }
  void DisplayErrorText(const char *text) override
  {
    // Not a failure: a rank that held no particles writes a piece without points; VTK
    // reports it as an error and reads the other pieces correctly (ParaView too).
    if (text != nullptr && std::strstr(text, "No Points element available in first piece"))
      return;
    keep(text);
  }
  // Warnings are not failures either.
  void DisplayWarningText(const char *text) override
  {
    if (!keeping)
      keep(text);
  }
  void DisplayGenericWarningText(const char *text) override { DisplayWarningText(text); }
  void DisplayDebugText(const char *) override {}

  /** The first message since the last take(), reduced to VTK's reason. */
  std::string take()
  {
    std::string result = first;
    first.clear();
    return result;
  }

  /** While reading, messages are kept for the PostError; otherwise they are printed. */
  bool keeping = false;

private:
  void keep(const char *text)
  {
    if (text == nullptr || (keeping && !first.empty()))
      return;
    // "ERROR: In /path/vtkX.cxx, line N\nvtkX (0x...): reason" -> "reason".
    std::string message(text);
    const auto  object_end = message.find("): ");
    if (object_end != std::string::npos)
      message = message.substr(object_end + 3);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    for (auto &c : message)
      if (c == '\n')
        c = ' ';
    if (keeping)
      first = message;
    else
      std::cerr << "densityflow-post: VTK: " << message << std::endl;
  }

  std::string first;
};
vtkStandardNewMacro(CapturingOutputWindow);

CapturingOutputWindow *capturing_window = nullptr;

std::string take_vtk_message()
{
  return capturing_window != nullptr ? capturing_window->take() : std::string();
}

/** Keeps VTK's messages for a PostError while it lives. */
struct KeepVtkMessages
{
  KeepVtkMessages()
  {
    if (capturing_window != nullptr)
      {
        capturing_window->take();
        capturing_window->keeping = true;
      }
  }
  ~KeepVtkMessages()
  {
    if (capturing_window != nullptr)
      capturing_window->keeping = false;
  }
};

std::string trim(const std::string &s)
{
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos)
    return {};
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

std::vector<std::string> split_csv_line(const std::string &line)
{
  std::vector<std::string> fields;
  std::string              field;
  std::istringstream       in(line);
  while (std::getline(in, field, ','))
    fields.push_back(trim(field));
  if (!line.empty() && line.back() == ',')
    fields.emplace_back();
  return fields;
}

/** Gauss-Legendre points and weights on [0, 1] (Newton on P_n; n <= 20). */
void gauss_rule(const unsigned int n, std::vector<double> &points, std::vector<double> &weights)
{
  points.resize(n);
  weights.resize(n);
  for (unsigned int i = 0; i < n; ++i)
    {
      double x = std::cos(M_PI * (i + 0.75) / (n + 0.5)), derivative = 1;
      for (int iteration = 0; iteration < 100; ++iteration)
        {
          double p0 = 1, p1 = x;
          for (unsigned int k = 2; k <= n; ++k)
            {
              const double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
              p0              = p1;
              p1              = p2;
            }
          derivative      = n * (x * p1 - p0) / (x * x - 1);
          const double dx = p1 / derivative;
          x -= dx;
          if (std::abs(dx) < 1e-16)
            break;
        }
      points[i]  = 0.5 * (1 - x);
      weights[i] = 1 / ((1 - x * x) * derivative * derivative); // 2/(..) on [-1,1], halved
    }
}
} // namespace

void capture_vtk_messages()
{
  if (capturing_window == nullptr)
    {
      capturing_window = CapturingOutputWindow::New();
      vtkOutputWindow::SetInstance(capturing_window);
      // ParaView's VTK also logs every error to stderr (loguru), with VTK's source lines.
      vtkLogger::SetStderrVerbosity(vtkLogger::VERBOSITY_OFF);
    }
}

void check_run_directory(const std::string &directory)
{
  namespace fs = std::filesystem;
  if (!fs::is_directory(directory))
    throw PostError("run directory '" + directory + "' does not exist");
  if (!fs::exists(fs::path(directory) / "density.pvd"))
    throw PostError("'" + directory + "' holds no density.pvd: not a densityflow run directory");
}

std::vector<Snapshot> read_pvd(const std::string &pvd_file)
{
  namespace fs = std::filesystem;
  if (!fs::exists(pvd_file))
    throw PostError(pvd_file + ": no such file");
  KeepVtkMessages keep;
  auto            parser = vtkSmartPointer<vtkXMLDataParser>::New();
  parser->SetFileName(pvd_file.c_str());
  if (!parser->Parse() || parser->GetRootElement() == nullptr)
    throw PostError(pvd_file + ": not a valid .pvd (" + take_vtk_message() + ")");
  vtkXMLDataElement *collection = parser->GetRootElement()->FindNestedElementWithName("Collection");
  if (collection == nullptr)
    throw PostError(pvd_file + ": no <Collection> element");

  std::vector<Snapshot> snapshots;
  const fs::path        folder = fs::path(pvd_file).parent_path();
  for (int i = 0; i < collection->GetNumberOfNestedElements(); ++i)
    {
      vtkXMLDataElement *entry = collection->GetNestedElement(i);
      if (std::string(entry->GetName()) != "DataSet")
        continue;
      const char *file = entry->GetAttribute("file");
      double      time = 0;
      if (file == nullptr || !entry->GetScalarAttribute("timestep", time))
        throw PostError(pvd_file + ": DataSet entry " + std::to_string(i + 1) +
                        " without file or timestep");
      if (!fs::exists(folder / file))
        throw PostError(pvd_file + " names " + file + ", which does not exist in " +
                        (folder.empty() ? std::string(".") : folder.string()));
      snapshots.push_back({time, file});
    }
  if (snapshots.empty())
    throw PostError(pvd_file + ": no DataSet entries");
  return snapshots;
}

vtkSmartPointer<vtkUnstructuredGrid> read_pvtu(const std::string &file)
{
  if (!std::filesystem::exists(file))
    throw PostError(file + ": no such file");
  KeepVtkMessages keep;
  auto            reader = vtkSmartPointer<vtkXMLPUnstructuredGridReader>::New();
  reader->SetFileName(file.c_str());
  reader->Update();
  const std::string message = take_vtk_message();
  if (!message.empty() || reader->GetErrorCode() != 0)
    throw PostError(file + ": VTK cannot read it (" +
                    (message.empty()
                         ? std::string("error code ") + std::to_string(reader->GetErrorCode())
                         : message) +
                    ")");
  vtkSmartPointer<vtkUnstructuredGrid> grid = reader->GetOutput();
  return grid;
}

double integrate(vtkUnstructuredGrid &grid, const std::string &array)
{
  vtkDataArray *values = grid.GetPointData()->GetArray(array.c_str());
  if (values == nullptr || values->GetNumberOfComponents() != 1)
    throw PostError("no scalar point array '" + array + "'");

  std::vector<double>   points_1d, weights_1d, shape, derivatives;
  unsigned int          rule_size = 0;
  std::array<double, 3> pcoords{};
  double                total   = 0;
  const vtkIdType       n_cells = grid.GetNumberOfCells();
  for (vtkIdType c = 0; c < n_cells; ++c)
    {
      vtkCell        *cell = grid.GetCell(c);
      const int       dim  = cell->GetCellDimension();
      const vtkIdType n    = cell->GetNumberOfPoints();
      const int       type = cell->GetCellType();
      if (dim < 1 || !(type == VTK_LINE || type == VTK_QUAD || type == VTK_HEXAHEDRON ||
                       type == VTK_LAGRANGE_CURVE || type == VTK_LAGRANGE_QUADRILATERAL ||
                       type == VTK_LAGRANGE_HEXAHEDRON))
        throw PostError("cannot integrate over cells of VTK type " + std::to_string(type));
      // Points per direction p + 1; the rule is exact for rho times the Jacobian of the
      // isoparametric map (degree <= 2p - 1 + p ... 4p - 1 per direction, see README).
      const unsigned int per_direction =
          static_cast<unsigned int>(std::lround(std::pow(double(n), 1.0 / dim)));
      const unsigned int rule = per_direction <= 2 ? 2 : 2 * (per_direction - 1) + 1;
      if (rule != rule_size)
        {
          gauss_rule(rule, points_1d, weights_1d);
          rule_size = rule;
        }
      shape.resize(n);
      derivatives.resize(3 * n);
      const unsigned int n_q = dim == 1 ? rule : dim == 2 ? rule * rule : rule * rule * rule;
      for (unsigned int q = 0; q < n_q; ++q)
        {
          unsigned int index[3] = {q % rule, (q / rule) % rule, q / (rule * rule)};
          double       weight   = 1;
          pcoords               = {0, 0, 0};
          for (int d = 0; d < dim; ++d)
            {
              pcoords[d] = points_1d[index[d]];
              weight *= weights_1d[index[d]];
            }
          cell->InterpolateFunctions(pcoords.data(), shape.data());
          cell->InterpolateDerivs(pcoords.data(), derivatives.data());
          double jacobian[3][3] = {}; // jacobian[d][k] = d x_k / d r_d
          double value          = 0;
          for (vtkIdType i = 0; i < n; ++i)
            {
              double x[3];
              cell->GetPoints()->GetPoint(i, x);
              for (int d = 0; d < dim; ++d)
                for (int k = 0; k < 3; ++k)
                  jacobian[d][k] += derivatives[d * n + i] * x[k];
              value += shape[i] * values->GetComponent(cell->GetPointId(i), 0);
            }
          double measure = 0;
          if (dim == 1)
            measure = std::sqrt(jacobian[0][0] * jacobian[0][0] + jacobian[0][1] * jacobian[0][1] +
                                jacobian[0][2] * jacobian[0][2]);
          else if (dim == 2)
            {
              const double cx = jacobian[0][1] * jacobian[1][2] - jacobian[0][2] * jacobian[1][1];
              const double cy = jacobian[0][2] * jacobian[1][0] - jacobian[0][0] * jacobian[1][2];
              const double cz = jacobian[0][0] * jacobian[1][1] - jacobian[0][1] * jacobian[1][0];
              measure         = std::sqrt(cx * cx + cy * cy + cz * cz);
            }
          else
            measure =
                std::abs(jacobian[0][0] *
                             (jacobian[1][1] * jacobian[2][2] - jacobian[1][2] * jacobian[2][1]) -
                         jacobian[0][1] *
                             (jacobian[1][0] * jacobian[2][2] - jacobian[1][2] * jacobian[2][0]) +
                         jacobian[0][2] *
                             (jacobian[1][0] * jacobian[2][1] - jacobian[1][1] * jacobian[2][0]));
          total += weight * measure * value;
        }
    }
  return total;
}

unsigned int CsvTable::column(const std::string &name) const
{
  for (unsigned int i = 0; i < header.size(); ++i)
    if (header[i] == name)
      return i;
  std::string known;
  for (const auto &h : header)
    known += (known.empty() ? "" : ", ") + h;
  throw PostError(file + ": no column '" + name + "' (columns: " + known + ")");
}

bool CsvTable::has_column(const std::string &name) const
{
  for (const auto &h : header)
    if (h == name)
      return true;
  return false;
}

std::vector<double> CsvTable::numbers(const std::string &name) const
{
  const unsigned int  c = column(name);
  std::vector<double> result;
  result.reserve(rows.size());
  for (unsigned int r = 0; r < rows.size(); ++r)
    {
      const std::string &text = rows[r][c];
      if (text.empty())
        {
          result.push_back(std::nan(""));
          continue;
        }
      try
        {
          std::size_t  used  = 0;
          const double value = std::stod(text, &used);
          if (used != text.size())
            throw std::invalid_argument(text);
          result.push_back(value);
        }
      catch (const std::exception &)
        {
          throw PostError(file + ", line " + std::to_string(r + 2) + ", column '" + name + "': '" +
                          text + "' is not a number");
        }
    }
  return result;
}

CsvTable read_csv(const std::string &file)
{
  std::ifstream in(file);
  if (!in)
    throw PostError(file + ": no such file");
  CsvTable    table;
  std::string line;
  table.file = file;
  if (!std::getline(in, line) || trim(line).empty())
    throw PostError(file + ": empty, no header line");
  table.header = split_csv_line(line);
  for (unsigned int number = 2; std::getline(in, line); ++number)
    {
      if (trim(line).empty())
        continue;
      auto fields = split_csv_line(line);
      if (fields.size() != table.header.size())
        throw PostError(file + ", line " + std::to_string(number) + ": " +
                        std::to_string(fields.size()) + " fields, the header has " +
                        std::to_string(table.header.size()));
      table.rows.push_back(std::move(fields));
    }
  return table;
}

std::map<std::string, std::string> read_parameters(const std::string &run_directory)
{
  std::map<std::string, std::string> result;
  std::ifstream                      in(run_directory + "/parameters.prm");
  std::vector<std::string>           sections;
  std::string                        line;
  while (std::getline(in, line))
    {
      line = trim(line.substr(0, line.find('#')));
      if (line.rfind("subsection ", 0) == 0)
        sections.push_back(trim(line.substr(11)));
      else if (line == "end" && !sections.empty())
        sections.pop_back();
      else if (line.rfind("set ", 0) == 0)
        {
          const auto  equal = line.find('=');
          std::string key;
          for (const auto &s : sections)
            key += s + "/";
          if (equal != std::string::npos)
            result[key + trim(line.substr(4, equal - 4))] = trim(line.substr(equal + 1));
        }
    }
  return result;
}
} // namespace densityflow
