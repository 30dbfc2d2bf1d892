#include <vtkAxis.h>
#include <vtkChartLegend.h>
#include <vtkChartMatrix.h>
#include <vtkChartXY.h>
#include <vtkContextScene.h>
#include <vtkContextView.h>
#include <vtkDoubleArray.h>
#include <vtkPNGWriter.h>
#include <vtkPlot.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkTable.h>
#include <vtkTextProperty.h>
#include <vtkVector.h>
#include <vtkWindowToImageFilter.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "commands.h"
#include "run_reader.h"
#include "style.h"

namespace densityflow
{
namespace
{
/** One curve: (t, value) pairs and its name in the legend. */
struct Curve
{
  std::string         name;
  std::vector<double> t, value;
};

/** One panel: a quantity against time, one curve per ensemble (or one). */
struct Panel
{
  std::string        title;
  std::vector<Curve> curves;
};

/**
 * Log scale when no value is negative and the positive ones span more than a decade (zeros,
 * such as the mass error at t = 0, are then left out of the curve).
 */
bool wants_log_scale(const Panel &panel)
{
  double low = INFINITY, high = 0;
  for (const auto &c : panel.curves)
    for (const double v : c.value)
      if (std::isfinite(v))
        {
          if (v < 0)
            return false;
          if (v == 0)
            continue;
          low  = std::min(low, v);
          high = std::max(high, v);
        }
  return high > 10 * low;
}

void write_panels(const std::vector<Panel> &panels,
                  const PlotOptions        &options,
                  const std::string        &file)
{
  vtkNew<vtkContextView> view;
  view->GetRenderWindow()->SetOffScreenRendering(1);
  view->GetRenderWindow()->SetMultiSamples(0);
  view->GetRenderWindow()->SetSize(options.width, options.height);
  view->GetRenderer()->SetBackground(1, 1, 1);
  vtkNew<vtkChartMatrix> matrix;
  view->GetScene()->AddItem(matrix);
  const int columns = panels.size() > 1 ? 2 : 1;
  const int rows    = static_cast<int>((panels.size() + columns - 1) / columns);
  matrix->SetSize(vtkVector2i(columns, rows));
  matrix->SetGutter(vtkVector2f(70, 70));
  matrix->SetBorders(70, 50, 20, 40);
  std::vector<vtkSmartPointer<vtkTable>> tables; // kept alive until rendered
  const int                              font = std::max(9, options.height / (28 * rows / 2 + 28));
  for (std::size_t p = 0; p < panels.size(); ++p)
    {
      const Panel &panel = panels[p];
      // vtkChartMatrix counts rows from the bottom.
      auto      *chart     = vtkChartXY::SafeDownCast(matrix->GetChart(
          vtkVector2i(static_cast<int>(p % columns), rows - 1 - static_cast<int>(p / columns))));
      const bool log_scale = wants_log_scale(panel);
      chart->SetTitle(panel.title + (log_scale ? " (log)" : ""));
      chart->GetTitleProperties()->SetFontSize(font + 2);
      chart->GetAxis(vtkAxis::BOTTOM)->SetTitle("t");
      chart->GetAxis(vtkAxis::LEFT)->SetTitle("");
      chart->GetAxis(vtkAxis::LEFT)->SetLogScale(log_scale);
      chart->GetAxis(vtkAxis::LEFT)->GetLabelProperties()->SetFontSize(font);
      chart->GetAxis(vtkAxis::BOTTOM)->GetLabelProperties()->SetFontSize(font);
      chart->GetAxis(vtkAxis::BOTTOM)->GetTitleProperties()->SetFontSize(font);
      chart->SetShowLegend(panel.curves.size() > 1 && p == 0);
      for (std::size_t c = 0; c < panel.curves.size(); ++c)
        {
          const Curve           &curve = panel.curves[c];
          auto                   table = vtkSmartPointer<vtkTable>::New();
          vtkNew<vtkDoubleArray> t, value;
          t->SetName("t");
          value->SetName(curve.name.c_str());
          for (std::size_t i = 0; i < curve.t.size(); ++i)
            if (std::isfinite(curve.value[i]) && (!log_scale || curve.value[i] > 0))
              {
                t->InsertNextValue(curve.t[i]);
                value->InsertNextValue(curve.value[i]);
              }
          if (t->GetNumberOfTuples() == 0)
            continue;
          table->AddColumn(t);
          table->AddColumn(value);
          tables.push_back(table);
          vtkPlot *line = chart->AddPlot(vtkChart::LINE);
          line->SetInputData(table, 0, 1);
          const auto rgb = series_colour(c);
          line->SetColorF(rgb[0], rgb[1], rgb[2]);
          line->SetWidth(2.0);
        }
      if (chart->GetShowLegend())
        chart->GetLegend()->GetLabelProperties()->SetFontSize(font);
    }
  view->GetRenderWindow()->Render();
  vtkNew<vtkWindowToImageFilter> image;
  image->SetInput(view->GetRenderWindow());
  image->SetInputBufferTypeToRGB();
  image->ReadFrontBufferOff();
  vtkNew<vtkPNGWriter> writer;
  writer->SetFileName(file.c_str());
  writer->SetInputConnection(image->GetOutputPort());
  writer->Write();
  if (writer->GetErrorCode() != 0)
    throw PostError(file + ": cannot write the PNG");
}

/** diagnostics.csv: free energy, KL, mass error, L2 error (or the requested columns). */
std::vector<Panel> diagnostics_panels(const CsvTable &table, const std::vector<std::string> &wanted)
{
  const auto t   = table.numbers("time");
  auto       one = [&](const std::string &title, const std::vector<double> &values) {
    return Panel{title, {Curve{title, t, values}}};
  };
  auto mass_error = [&]() {
    auto mass = table.numbers("mass");
    // Transport: what leaves through the boundary is counted in outflow_mass.
    if (table.has_column("outflow_mass"))
      {
        const auto outflow = table.numbers("outflow_mass");
        for (std::size_t i = 0; i < mass.size(); ++i)
          if (std::isfinite(outflow[i]))
            mass[i] += outflow[i];
      }
    std::vector<double> error(mass.size());
    for (std::size_t i = 0; i < mass.size(); ++i)
      error[i] = std::abs(mass[i] - mass[0]);
    return error;
  };
  std::vector<Panel> panels;
  if (!wanted.empty())
    {
      for (const auto &name : wanted)
        if (name == "mass_error")
          panels.push_back(one("|mass + outflow - mass(0)|", mass_error()));
        else if (table.has_column(name))
          panels.push_back(one(name, table.numbers(name)));
      return panels;
    }
  panels.push_back(one("free_energy", table.numbers("free_energy")));
  panels.push_back(one("relative_entropy (KL to pi)", table.numbers("relative_entropy")));
  panels.push_back(one("|mass + outflow - mass(0)|", mass_error()));
  const auto l2 = table.numbers("l2_error");
  if (std::any_of(l2.begin(), l2.end(), [](double v) { return std::isfinite(v); }))
    panels.push_back(one("l2_error (relative)", l2));
  else
    panels.push_back(one("min_density", table.numbers("min_density")));
  return panels;
}

/** particles-vs-pde.csv or compare.csv: each distance, one curve per ensemble. */
std::vector<Panel> distance_panels(const CsvTable &table, const std::vector<std::string> &wanted)
{
  const auto               t        = table.numbers("time");
  const unsigned int       ensemble = table.column("ensemble");
  std::vector<std::string> names;
  for (const auto &row : table.rows)
    if (std::find(names.begin(), names.end(), row[ensemble]) == names.end())
      names.push_back(row[ensemble]);

  std::vector<std::string> quantities = wanted;
  if (quantities.empty())
    for (const char *q : {"mean_error",
                          "covariance_error",
                          "histogram_tv",
                          "energy_distance",
                          "sliced_w2",
                          "w1",
                          "w2",
                          "density_error_mean"})
      if (table.has_column(q))
        quantities.push_back(q);
  std::vector<Panel> panels;
  for (const auto &q : quantities)
    {
      if (!table.has_column(q))
        continue;
      const auto values = table.numbers(q);
      Panel      panel{q, {}};
      for (const auto &name : names)
        {
          Curve curve{name, {}, {}};
          for (std::size_t r = 0; r < table.rows.size(); ++r)
            if (table.rows[r][ensemble] == name)
              {
                curve.t.push_back(t[r]);
                curve.value.push_back(values[r]);
              }
          if (std::any_of(curve.value.begin(), curve.value.end(), [](double v) {
                return std::isfinite(v);
              }))
            panel.curves.push_back(curve);
        }
      if (!panel.curves.empty())
        panels.push_back(panel);
    }
  return panels;
}
} // namespace

int plot_command(const PlotOptions &options)
{
  namespace fs                                            = std::filesystem;
  const std::string                            &directory = options.run_directory;
  std::vector<std::pair<std::string, CsvTable>> tables;
  for (const char *name : {"diagnostics", "particles-vs-pde", "compare"})
    {
      const std::string file = directory + "/" + name + ".csv";
      if (fs::exists(file))
        tables.emplace_back(name, read_csv(file));
      else if (std::string(name) == "diagnostics")
        throw PostError(file + ": no such file");
    }
  // Every requested column must be in one of the run's CSV files.
  for (const auto &c : options.columns)
    {
      bool known = c == "mass_error";
      for (const auto &[name, table] : tables)
        known = known || table.has_column(c);
      if (!known)
        {
          std::string files;
          for (const auto &[name, table] : tables)
            files += (files.empty() ? "" : ", ") + name + ".csv";
          throw PostError("--columns: no column '" + c + "' in " + files + " of " + directory);
        }
    }

  const std::string output =
      options.output_directory.empty() ? directory : options.output_directory;
  fs::create_directories(output);
  for (const auto &[name, table] : tables)
    {
      const auto panels = name == std::string("diagnostics")
                              ? diagnostics_panels(table, options.columns)
                              : distance_panels(table, options.columns);
      if (panels.empty())
        continue;
      const std::string file = output + "/" + name + ".png";
      write_panels(panels, options, file);
      std::printf("wrote %s (%zu panels from %s.csv)\n", file.c_str(), panels.size(), name.c_str());
    }
  return 0;
}
} // namespace densityflow
