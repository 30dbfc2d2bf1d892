#include <vtkActor.h>
#include <vtkAxis.h>
#include <vtkCamera.h>
#include <vtkChartXY.h>
#include <vtkContextScene.h>
#include <vtkContextView.h>
#include <vtkCutter.h>
#include <vtkDataArray.h>
#include <vtkDataSetMapper.h>
#include <vtkDoubleArray.h>
#include <vtkLookupTable.h>
#include <vtkMaskPoints.h>
#include <vtkOutlineFilter.h>
#include <vtkPNGWriter.h>
#include <vtkPen.h>
#include <vtkPlane.h>
#include <vtkPlot.h>
#include <vtkPointData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkScalarBarActor.h>
#include <vtkTable.h>
#include <vtkTextActor.h>
#include <vtkTextProperty.h>
#include <vtkUnstructuredGrid.h>
#include <vtkWindowToImageFilter.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "commands.h"
#include "run_reader.h"
#include "style.h"

namespace densityflow
{
namespace
{
struct Frame
{
  double                               time;
  vtkSmartPointer<vtkUnstructuredGrid> density;
  vtkSmartPointer<vtkUnstructuredGrid> particles; // null without particles
};

std::pair<double, double> range_of(vtkUnstructuredGrid &grid, const char *name)
{
  vtkDataArray *array = grid.GetPointData()->GetArray(name);
  if (array == nullptr)
    throw PostError(std::string("the density output has no array '") + name + "'");
  double low = INFINITY, high = -INFINITY;
  for (vtkIdType i = 0; i < array->GetNumberOfTuples(); ++i)
    {
      const double x = array->GetComponent(i, 0);
      if (std::isfinite(x))
        {
          low  = std::min(low, x);
          high = std::max(high, x);
        }
    }
  if (!(low <= high))
    throw PostError(std::string("array '") + name + "' has no finite value");
  if (high == low)
    high = low + 1;
  return {low, high};
}

vtkIdType argmax(vtkUnstructuredGrid &grid, const char *name)
{
  vtkDataArray *array = grid.GetPointData()->GetArray(name);
  vtkIdType     best  = 0;
  for (vtkIdType i = 1; i < array->GetNumberOfTuples(); ++i)
    if (array->GetComponent(i, 0) > array->GetComponent(best, 0))
      best = i;
  return best;
}

void write_png(vtkRenderWindow *window, const std::string &file)
{
  auto image = vtkSmartPointer<vtkWindowToImageFilter>::New();
  image->SetInput(window);
  image->SetInputBufferTypeToRGB();
  image->ReadFrontBufferOff();
  image->Update();
  auto writer = vtkSmartPointer<vtkPNGWriter>::New();
  writer->SetFileName(file.c_str());
  writer->SetInputConnection(image->GetOutputPort());
  writer->Write();
  if (writer->GetErrorCode() != 0)
    throw PostError(file + ": cannot write the PNG");
}

std::string frame_name(const std::string &output, const std::size_t index)
{
  std::string stem = output, extension = ".png";
  if (stem.size() > 4 && stem.substr(stem.size() - 4) == ".png")
    stem = stem.substr(0, stem.size() - 4);
  char number[16];
  std::snprintf(number, sizeof(number), "_%05zu", index);
  return stem + number + extension;
}

/** Density (2D: the surface; 3D: three slices through the peak) and particles in 3D space. */
class SceneRenderer
{
public:
  SceneRenderer(const int                       dim,
                const RenderOptions            &options,
                const std::vector<std::string> &systems)
      : dim(dim)
      , fit_density(options.fit_density)
      , fit_box(options.fit_box)
  {
    window->SetOffScreenRendering(1);
    window->SetMultiSamples(0);
    window->SetSize(options.width, options.height);
    window->AddRenderer(scene);
    window->AddRenderer(bar_area);
    // The domain on the left, the colour bar in its own strip on the right.
    scene->SetViewport(0, 0, 0.86, 1);
    bar_area->SetViewport(0.86, 0, 1, 1);
    scene->SetBackground(1, 1, 1);
    bar_area->SetBackground(1, 1, 1);

    lut = make_density_lookup_table();
    density_mapper->SetLookupTable(lut);
    density_mapper->SetScalarModeToUsePointFieldData();
    density_mapper->SelectColorArray("rho");
    density_mapper->SetColorModeToMapScalars();
    density_mapper->ScalarVisibilityOn();
    density_mapper->UseLookupTableScalarRangeOn();
    // Colours interpolated in the colour map, not between colours: a peak gets the top one.
    density_mapper->InterpolateScalarsBeforeMappingOn();
    density_actor->SetMapper(density_mapper);
    density_actor->GetProperty()->LightingOff();
    scene->AddActor(density_actor);

    if (dim == 3)
      {
        outline_mapper->SetInputConnection(outline->GetOutputPort());
        outline_actor->SetMapper(outline_mapper);
        outline_actor->GetProperty()->SetColor(0.2, 0.2, 0.2);
        scene->AddActor(outline_actor);
      }

    auto system_colours = make_system_lookup_table(std::max<std::size_t>(1, systems.size()));
    particle_mapper->SetLookupTable(system_colours);
    particle_mapper->SetScalarModeToUsePointFieldData();
    particle_mapper->SelectColorArray("system");
    particle_mapper->UseLookupTableScalarRangeOn();
    particle_mapper->ScalarVisibilityOn();
    particle_actor->SetMapper(particle_mapper);
    particle_actor->GetProperty()->SetPointSize(options.particle_size);
    if (options.particle_every > 1)
      {
        // Every k-th particle in file order, so that many particles do not hide rho.
        every->SetOnRatio(options.particle_every);
        every->RandomModeOff();
        every->GenerateVerticesOn();
        every->SingleVertexPerCellOn();
        every->SetMaximumNumberOfPoints(VTK_ID_MAX);
        particle_mapper->SetInputConnection(every->GetOutputPort());
      }
    thin_particles = options.particle_every > 1;
    particle_actor->GetProperty()->LightingOff();
    particle_actor->VisibilityOff();
    scene->AddActor(particle_actor);

    const int font = std::max(10, options.height / 30);
    time_text->GetTextProperty()->SetFontSize(font);
    time_text->GetTextProperty()->SetColor(0, 0, 0);
    // On a white box: the text stays readable over any colour of the density.
    time_text->GetTextProperty()->SetBackgroundColor(1, 1, 1);
    time_text->GetTextProperty()->SetBackgroundOpacity(0.8);
    time_text->SetPosition(font / 2, options.height - 3 * font / 2);
    scene->AddActor2D(time_text);
    for (std::size_t s = 0; s < systems.size(); ++s)
      {
        auto   legend = vtkSmartPointer<vtkTextActor>::New();
        double rgb[3];
        system_colours->GetColor(s, rgb);
        legend->SetInput(("\xe2\x97\x8f " + systems[s]).c_str());
        legend->GetTextProperty()->SetFontSize(font * 4 / 5);
        legend->GetTextProperty()->SetColor(rgb);
        legend->GetTextProperty()->SetBold(true);
        legend->GetTextProperty()->SetBackgroundColor(0.25, 0.25, 0.25);
        legend->GetTextProperty()->SetBackgroundOpacity(0.7);
        legend->SetPosition(font / 2, font / 2 + (systems.size() - 1 - s) * font);
        legends.push_back(legend);
        scene->AddActor2D(legend);
      }

    bar->SetLookupTable(lut);
    bar->SetTitle("rho");
    bar->SetNumberOfLabels(5);
    bar->SetLabelFormat("%-#6.3g");
    bar->GetTitleTextProperty()->SetColor(0, 0, 0);
    bar->GetLabelTextProperty()->SetColor(0, 0, 0);
    bar->GetTitleTextProperty()->ItalicOff();
    bar->GetLabelTextProperty()->ItalicOff();
    bar->GetTitleTextProperty()->ShadowOff();
    bar->GetLabelTextProperty()->ShadowOff();
    bar->UnconstrainedFontSizeOn();
    bar->GetTitleTextProperty()->SetFontSize(font);
    bar->GetLabelTextProperty()->SetFontSize(font * 4 / 5);
    bar->SetPosition(0.05, 0.08);
    bar->SetWidth(0.9);
    bar->SetHeight(0.84);
    bar->SetBarRatio(0.3);
    bar_area->AddActor2D(bar);
  }

  /** Renders one frame with the colour range [low, high] and writes it to @p file. */
  void render(const Frame       &frame,
              const double       low,
              const double       high,
              const bool         first,
              const std::string &file)
  {
    lut->SetRange(low, high);
    const vtkIdType peak = argmax(*frame.density, "rho");
    double          peak_point[3];
    frame.density->GetPoint(peak, peak_point);
    if (dim == 2)
      density_mapper->SetInputData(frame.density);
    else
      {
        // Three slices through the density's peak, each coloured by rho.
        outline->SetInputData(frame.density);
        set_slices(frame.density, peak_point);
      }
    if (frame.particles)
      {
        if (thin_particles)
          every->SetInputData(frame.particles);
        else
          particle_mapper->SetInputData(frame.particles);
        particle_actor->VisibilityOn();
      }
    else
      particle_actor->VisibilityOff();

    char text[64];
    std::snprintf(text, sizeof(text), "t = %.4g", frame.time);
    time_text->SetInput(text);

    if (first)
      set_camera(*frame.density);
    window->Render();
    write_png(window, file);

    if (dim == 2)
      {
        // Where the peak was drawn: the pixel (from the top left) that holds rho_max.
        scene->SetWorldPoint(peak_point[0], peak_point[1], peak_point[2], 1);
        scene->WorldToDisplay();
        double display[3];
        scene->GetDisplayPoint(display);
        const int *size = window->GetSize();
        std::printf("peak: rho = %.9g at (%.6g, %.6g), pixel (%d, %d) from the top left\n",
                    frame.density->GetPointData()->GetArray("rho")->GetComponent(peak, 0),
                    peak_point[0],
                    peak_point[1],
                    static_cast<int>(std::floor(display[0])),
                    size[1] - 1 - static_cast<int>(std::floor(display[1])));
      }
  }

private:
  void set_slices(vtkUnstructuredGrid *density, const double *center)
  {
    if (!sliced)
      {
        for (int d = 0; d < 3; ++d)
          {
            slice_cutters[d] = vtkSmartPointer<vtkCutter>::New();
            slice_cutters[d]->SetCutFunction(planes[d]);
            double normal[3] = {0, 0, 0};
            normal[d]        = 1;
            planes[d]->SetNormal(normal);
            slice_mappers[d] = vtkSmartPointer<vtkDataSetMapper>::New();
            slice_mappers[d]->SetLookupTable(lut);
            slice_mappers[d]->SetScalarModeToUsePointFieldData();
            slice_mappers[d]->SelectColorArray("rho");
            slice_mappers[d]->UseLookupTableScalarRangeOn();
            slice_mappers[d]->InterpolateScalarsBeforeMappingOn();
            slice_mappers[d]->SetInputConnection(slice_cutters[d]->GetOutputPort());
            slice_actors[d] = vtkSmartPointer<vtkActor>::New();
            slice_actors[d]->SetMapper(slice_mappers[d]);
            slice_actors[d]->GetProperty()->LightingOff();
            scene->AddActor(slice_actors[d]);
          }
        density_actor->VisibilityOff();
        sliced = true;
      }
    for (int d = 0; d < 3; ++d)
      {
        planes[d]->SetOrigin(center[0], center[1], center[2]);
        slice_cutters[d]->SetInputData(density);
      }
  }

  void set_camera(vtkUnstructuredGrid &density)
  {
    double bounds[6];
    density.GetBounds(bounds);
    if (fit_density && dim == 2)
      {
        // The box of the points where rho > 1% of its peak, 10% larger on each side.
        vtkDataArray *rho    = density.GetPointData()->GetArray("rho");
        const double  peak   = rho->GetComponent(argmax(density, "rho"), 0);
        double        box[4] = {INFINITY, -INFINITY, INFINITY, -INFINITY};
        for (vtkIdType i = 0; i < density.GetNumberOfPoints(); ++i)
          if (rho->GetComponent(i, 0) > 0.01 * peak)
            {
              const double *x = density.GetPoint(i);
              box[0]          = std::min(box[0], x[0]);
              box[1]          = std::max(box[1], x[0]);
              box[2]          = std::min(box[2], x[1]);
              box[3]          = std::max(box[3], x[1]);
            }
        const double margin = 0.1 * std::max(box[1] - box[0], box[3] - box[2]);
        bounds[0]           = std::max(bounds[0], box[0] - margin);
        bounds[1]           = std::min(bounds[1], box[1] + margin);
        bounds[2]           = std::max(bounds[2], box[2] - margin);
        bounds[3]           = std::min(bounds[3], box[3] + margin);
      }
    if (fit_box.size() == 4 && dim == 2)
      for (int i = 0; i < 4; ++i)
        bounds[i] = fit_box[i];
    vtkCamera   *camera = scene->GetActiveCamera();
    const double cx = (bounds[0] + bounds[1]) / 2, cy = (bounds[2] + bounds[3]) / 2,
                 cz = (bounds[4] + bounds[5]) / 2;
    const double extent =
        std::max({bounds[1] - bounds[0], bounds[3] - bounds[2], bounds[5] - bounds[4]});
    if (dim == 2)
      {
        camera->ParallelProjectionOn();
        camera->SetFocalPoint(cx, cy, 0);
        camera->SetPosition(cx, cy, 4 * extent);
        camera->SetViewUp(0, 1, 0);
        scene->ResetCamera(bounds);
        // Fit the domain: the parallel scale is half the visible height.
        const int   *size   = window->GetSize();
        const double aspect = 0.86 * size[0] / double(size[1]);
        camera->SetParallelScale(
            1.04 * std::max((bounds[3] - bounds[2]) / 2, (bounds[1] - bounds[0]) / (2 * aspect)));
        // Particles a little in front of the density, so that they are drawn on top.
        particle_actor->SetPosition(0, 0, 1e-3 * extent);
      }
    else
      {
        camera->ParallelProjectionOff();
        camera->SetFocalPoint(cx, cy, cz);
        camera->SetPosition(cx + 2.2 * extent, cy - 1.6 * extent, cz + 1.4 * extent);
        camera->SetViewUp(0, 0, 1);
        scene->ResetCamera(bounds);
        camera->Zoom(1.15);
      }
    scene->ResetCameraClippingRange(bounds);
  }

  int                                        dim;
  bool                                       fit_density;
  bool                                       thin_particles = false;
  vtkNew<vtkMaskPoints>                      every;
  std::vector<double>                        fit_box;
  vtkNew<vtkRenderWindow>                    window;
  vtkNew<vtkRenderer>                        scene, bar_area;
  vtkSmartPointer<vtkLookupTable>            lut;
  vtkNew<vtkDataSetMapper>                   density_mapper, particle_mapper;
  vtkNew<vtkActor>                           density_actor, particle_actor, outline_actor;
  vtkNew<vtkOutlineFilter>                   outline;
  vtkNew<vtkPolyDataMapper>                  outline_mapper;
  vtkNew<vtkPlane>                           planes[3];
  vtkSmartPointer<vtkCutter>                 slice_cutters[3];
  vtkSmartPointer<vtkDataSetMapper>          slice_mappers[3];
  vtkSmartPointer<vtkActor>                  slice_actors[3];
  bool                                       sliced = false;
  vtkNew<vtkTextActor>                       time_text;
  std::vector<vtkSmartPointer<vtkTextActor>> legends;
  vtkNew<vtkScalarBarActor>                  bar;
};

/** 1D: rho (and the exact solution, when the run has one) against x, as a chart. */
void render_1d(const Frame         &frame,
               const double         low,
               const double         high,
               const RenderOptions &options,
               const std::string   &file)
{
  vtkUnstructuredGrid   &grid = *frame.density;
  const vtkIdType        n    = grid.GetNumberOfPoints();
  std::vector<vtkIdType> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](vtkIdType a, vtkIdType b) {
    return grid.GetPoint(a)[0] < grid.GetPoint(b)[0];
  });
  vtkDataArray *rho   = grid.GetPointData()->GetArray("rho");
  vtkDataArray *exact = grid.GetPointData()->GetArray("exact");

  vtkNew<vtkTable>       table;
  vtkNew<vtkDoubleArray> x_column, rho_column, exact_column;
  x_column->SetName("x");
  rho_column->SetName("rho_h");
  exact_column->SetName("exact");
  table->AddColumn(x_column);
  table->AddColumn(rho_column);
  if (exact != nullptr)
    table->AddColumn(exact_column);
  table->SetNumberOfRows(n);
  for (vtkIdType i = 0; i < n; ++i)
    {
      table->SetValue(i, 0, grid.GetPoint(order[i])[0]);
      table->SetValue(i, 1, rho->GetComponent(order[i], 0));
      if (exact != nullptr)
        table->SetValue(i, 2, exact->GetComponent(order[i], 0));
    }

  vtkNew<vtkContextView> view;
  view->GetRenderWindow()->SetOffScreenRendering(1);
  view->GetRenderWindow()->SetMultiSamples(0);
  view->GetRenderWindow()->SetSize(options.width, options.height);
  view->GetRenderer()->SetBackground(1, 1, 1);
  vtkNew<vtkChartXY> chart;
  view->GetScene()->AddItem(chart);
  char title[64];
  std::snprintf(title, sizeof(title), "t = %.4g", frame.time);
  chart->SetTitle(title);
  chart->GetTitleProperties()->SetFontSize(std::max(10, options.height / 30));
  chart->SetShowLegend(true);
  if (exact != nullptr)
    {
      vtkPlot *line = chart->AddPlot(vtkChart::LINE);
      line->SetInputData(table, 0, 2);
      line->SetColor(0, 0, 0, 255);
      line->SetWidth(1.5);
      line->GetPen()->SetLineType(vtkPen::DASH_LINE);
    }
  vtkPlot *line = chart->AddPlot(vtkChart::LINE);
  line->SetInputData(table, 0, 1);
  line->SetColor(68, 1, 84, 255);
  line->SetWidth(2.5);
  chart->GetAxis(vtkAxis::BOTTOM)->SetTitle("x");
  chart->GetAxis(vtkAxis::LEFT)->SetTitle("rho");
  chart->GetAxis(vtkAxis::LEFT)->SetBehavior(vtkAxis::FIXED);
  chart->GetAxis(vtkAxis::LEFT)->SetRange(std::min(0.0, low), 1.05 * high);
  view->GetRenderWindow()->Render();
  write_png(view->GetRenderWindow(), file);
}
} // namespace

int render_command(const RenderOptions &options)
{
  const auto            start     = std::chrono::steady_clock::now();
  const std::string    &directory = options.run_directory;
  const auto            snapshots = read_pvd(directory + "/density.pvd");
  std::vector<Snapshot> particle_snapshots;
  if (options.particles && std::filesystem::exists(directory + "/particles.pvd"))
    particle_snapshots = read_pvd(directory + "/particles.pvd");

  std::vector<std::size_t> selected;
  if (options.all)
    for (std::size_t i = 0; i < snapshots.size(); ++i)
      selected.push_back(i);
  else
    {
      std::size_t best = snapshots.size() - 1;
      if (options.time >= 0)
        {
          const double first = snapshots.front().time, last = snapshots.back().time;
          const double slack = 1e-9 * std::max(1.0, std::abs(last));
          if (options.time < first - slack || options.time > last + slack)
            throw PostError("--time " + std::to_string(options.time) + ": the snapshots of " +
                            directory + " span [" + std::to_string(first) + ", " +
                            std::to_string(last) + "]");
          for (std::size_t i = 0; i < snapshots.size(); ++i)
            if (std::abs(snapshots[i].time - options.time) <
                std::abs(snapshots[best].time - options.time))
              best = i;
        }
      selected.push_back(best);
    }

  std::vector<Frame> frames;
  double             low = INFINITY, high = -INFINITY;
  for (const std::size_t i : selected)
    {
      Frame frame{snapshots[i].time, read_pvtu(directory + "/" + snapshots[i].file), nullptr};
      // The particle snapshot at the same time (the solver writes both at output times).
      for (const auto &p : particle_snapshots)
        if (std::abs(p.time - frame.time) <= 1e-9 * std::max(1.0, std::abs(frame.time)))
          frame.particles = read_pvtu(directory + "/" + p.file);
      const auto range = range_of(*frame.density, "rho");
      low              = std::min(low, range.first);
      high             = std::max(high, range.second);
      frames.push_back(frame);
    }

  const auto parameters = read_parameters(directory);
  int        dim        = 0;
  if (parameters.count("Dimension"))
    dim = std::atoi(parameters.at("Dimension").c_str());
  if (dim < 1 || dim > 3)
    {
      // No parameters.prm: the dimension from the extent of the mesh.
      double bounds[6];
      frames[0].density->GetBounds(bounds);
      dim = bounds[5] > bounds[4] ? 3 : bounds[3] > bounds[2] ? 2 : 1;
    }
  std::vector<std::string> systems;
  if (parameters.count("Particles/Dynamics"))
    {
      std::string list = parameters.at("Particles/Dynamics"), item;
      for (std::size_t begin = 0; begin <= list.size();)
        {
          auto end = list.find(',', begin);
          if (end == std::string::npos)
            end = list.size();
          item = list.substr(begin, end - begin);
          item.erase(0, item.find_first_not_of(' '));
          item.erase(item.find_last_not_of(' ') + 1);
          if (!item.empty())
            systems.push_back(item);
          begin = end + 1;
        }
    }
  bool any_particles = false;
  for (const auto &f : frames)
    any_particles = any_particles || f.particles;
  if (!any_particles)
    systems.clear();

  std::string output = options.output;
  if (output.empty())
    output = options.all ? directory + "/frames/frame.png" : directory + "/density.png";
  const auto folder = std::filesystem::path(output).parent_path();
  if (!folder.empty())
    std::filesystem::create_directories(folder);

  std::unique_ptr<SceneRenderer> scene;
  if (dim > 1)
    scene = std::make_unique<SceneRenderer>(dim, options, systems);
  for (std::size_t f = 0; f < frames.size(); ++f)
    {
      const std::string file = options.all ? frame_name(output, f) : output;
      // One frame: its own range, so that its peak has the top colour. A movie: one
      // range for all frames, so that colours mean the same density throughout.
      const double frame_low  = options.all ? low : range_of(*frames[f].density, "rho").first;
      const double frame_high = options.all ? high : range_of(*frames[f].density, "rho").second;
      if (dim == 1)
        render_1d(frames[f], frame_low, frame_high, options, file);
      else
        scene->render(frames[f], frame_low, frame_high, f == 0, file);
      std::printf("wrote %s (t = %.6g)\n", file.c_str(), frames[f].time);
    }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("rendered %zu frame(s) of %dx%d in %.3f s\n",
              frames.size(),
              options.width,
              options.height,
              seconds);
  return 0;
}
} // namespace densityflow
