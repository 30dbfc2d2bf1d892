// densityflow-post end to end, on the outputs of the shipped problems (run by the CTest
// fixtures postprocess_run.*): VTK reads them, the integral of rho agrees with the solver's
// mass, render and plot write real pictures, bad input gives one clear message.
#include <gtest/gtest.h>
#include <vtkImageData.h>
#include <vtkLookupTable.h>
#include <vtkPNGReader.h>
#include <vtkSmartPointer.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "run_reader.h"
#include "style.h"
#include <sys/wait.h>

namespace
{
namespace fs = std::filesystem;
using namespace densityflow;

const std::string runs    = RUNS_DIRECTORY;
const std::string scratch = TEST_WORK_DIRECTORY;

const std::vector<std::string> problems = {"ou-1d",
                                           "ou-2d",
                                           "ou-3d",
                                           "double-well-2d",
                                           "gaussian-mixture-2d",
                                           "obstacle-2d",
                                           "rotation-2d",
                                           "vortex-2d",
                                           "compression-3d",
                                           "nonreversible-ou-2d",
                                           "path-bimodal-1d",
                                           "learned-velocity-2d",
                                           "posterior-2d",
                                           "posterior-path-2d",
                                           "mmd-1d",
                                           "aggregation-1d",
                                           "mmd-2d",
                                           "aggregation-2d"};

struct Outcome
{
  int         exit_code = -1;
  std::string out, err;
};

/** Runs densityflow-post with @p arguments, without a display (it must start its own). */
Outcome post(const std::string &arguments)
{
  fs::create_directories(scratch);
  const std::string err_file = scratch + "/stderr.txt";
  const std::string command =
      "env -u DISPLAY timeout 120 " POST_EXECUTABLE " " + arguments + " 2> " + err_file;
  Outcome                outcome;
  std::array<char, 4096> buffer;
  FILE                  *pipe = popen(command.c_str(), "r");
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr)
    outcome.out += buffer.data();
  const int status  = pclose(pipe);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream      in(err_file);
  std::ostringstream text;
  text << in.rdbuf();
  outcome.err = text.str();
  return outcome;
}

struct Image
{
  int                        width = 0, height = 0;
  std::vector<unsigned char> rgb; ///< rows from the top

  std::array<int, 3> at(int column, int row_from_top) const
  {
    const std::size_t i = 3 * (std::size_t(row_from_top) * width + column);
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
};

/** Reads a PNG with VTK (rows from the bottom there, turned to rows from the top here). */
Image read_png(const std::string &file)
{
  Image image;
  if (!fs::exists(file))
    {
      ADD_FAILURE() << file << " does not exist";
      return image;
    }
  auto reader = vtkSmartPointer<vtkPNGReader>::New();
  reader->SetFileName(file.c_str());
  reader->Update();
  vtkImageData *data = reader->GetOutput();
  int           dims[3];
  data->GetDimensions(dims);
  image.width          = dims[0];
  image.height         = dims[1];
  const int components = data->GetNumberOfScalarComponents();
  EXPECT_GE(components, 3) << file;
  image.rgb.resize(3 * std::size_t(dims[0]) * dims[1]);
  for (int row = 0; row < dims[1]; ++row)
    for (int column = 0; column < dims[0]; ++column)
      for (int c = 0; c < 3; ++c)
        image.rgb[3 * (std::size_t(row) * dims[0] + column) + c] = static_cast<unsigned char>(
            data->GetScalarComponentAsDouble(column, dims[1] - 1 - row, 0, c));
  return image;
}

std::size_t distinct_colours(const Image &image)
{
  std::set<int> colours;
  for (std::size_t i = 0; i + 2 < image.rgb.size(); i += 3)
    colours.insert((image.rgb[i] << 16) | (image.rgb[i + 1] << 8) | image.rgb[i + 2]);
  return colours.size();
}

/** The values of `integral of rho = ...` (or another such) lines, in order. */
std::vector<double> integrals(const std::string &info, const std::string &what = "integral of rho")
{
  std::vector<double> result;
  const std::regex    line(what + R"( = (\S+))");
  for (auto it = std::sregex_iterator(info.begin(), info.end(), line); it != std::sregex_iterator();
       ++it)
    result.push_back(std::stod((*it)[1]));
  return result;
}

/** A failure must be one line naming @p expected, non-zero exit, without VTK's noise. */
void expect_clean_failure(const Outcome &outcome, const std::string &expected)
{
  SCOPED_TRACE("stdout:\n" + outcome.out + "stderr:\n" + outcome.err);
  EXPECT_NE(outcome.exit_code, 0);
  EXPECT_NE(outcome.exit_code, 124) << "timed out";
  EXPECT_EQ(std::count(outcome.err.begin(), outcome.err.end(), '\n'), 1);
  EXPECT_EQ(outcome.err.rfind("densityflow-post: ", 0), 0u);
  EXPECT_NE(outcome.err.find(expected), std::string::npos) << "expected: " << expected;
  EXPECT_EQ(outcome.err.find("ERROR: In"), std::string::npos);
}

/** A scratch copy of a run directory, to damage. */
std::string copy_run(const std::string &problem, const std::string &name)
{
  const std::string target = scratch + "/" + name;
  fs::remove_all(target);
  fs::create_directories(scratch);
  fs::copy(runs + "/" + problem, target, fs::copy_options::recursive);
  return target;
}

TEST(Info, EveryProblemIsReadByVtkWithFiniteArrays)
{
  for (const auto &problem : problems)
    {
      SCOPED_TRACE(problem);
      const std::string dir     = runs + "/" + problem;
      const Outcome     outcome = post("info " + dir);
      ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
      EXPECT_EQ(outcome.err, "");
      const auto table = read_csv(dir + "/diagnostics.csv");
      EXPECT_NE(
          outcome.out.find("density.pvd: " + std::to_string(table.rows.size()) + " snapshots"),
          std::string::npos)
          << outcome.out;
      EXPECT_EQ(integrals(outcome.out).size(), table.rows.size());
      if (fs::exists(dir + "/particles.pvd"))
        EXPECT_NE(outcome.out.find("particles.pvd: "), std::string::npos);
      // Every array finite, but log_density, which is NaN by design for the particles
      // that carry no density (all but flow maps).
      std::istringstream lines(outcome.out);
      std::string        line;
      int                arrays = 0;
      while (std::getline(lines, line))
        {
          if (line.find(" [") != std::string::npos && line.rfind("  ", 0) == 0)
            ++arrays;
          if (line.find("non-finite") != std::string::npos)
            EXPECT_EQ(line.rfind("  log_density", 0), 0u) << line;
          EXPECT_EQ(line.find("nan"), std::string::npos) << line;
          EXPECT_EQ(line.find("inf"), std::string::npos) << line;
        }
      EXPECT_GE(arrays, 3 * int(table.rows.size())) << outcome.out;
    }
}

/**
 * |integral of rho (or of another field) from info - mass of diagnostics.csv| at
 * every snapshot of a run.
 */
std::vector<double> mass_discrepancies(const std::string &dir,
                                       const std::string &what = "integral of rho")
{
  const Outcome outcome = post("info " + dir);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  const auto integral = integrals(outcome.out, what);
  const auto mass     = read_csv(dir + "/diagnostics.csv").numbers("mass");
  EXPECT_EQ(integral.size(), mass.size()) << dir;
  std::vector<double> result;
  for (std::size_t i = 0; i < std::min(integral.size(), mass.size()); ++i)
    result.push_back(std::abs(integral[i] - mass[i]));
  return result;
}

TEST(Info, IntegralOfRhoIsTheSolversMassWhereTheFieldIsTheFeFunction)
{
  // Transport (DG, degree 1 in these runs): the .vtu holds rho_h's values at each cell's
  // vertices, and the cell's bilinear (trilinear) interpolation is rho_h itself, so the
  // integral is the solver's mass up to the Float32 values of the file (~1e-7 relative).
  for (const std::string problem : {"rotation-2d", "vortex-2d", "compression-3d"})
    {
      const auto discrepancy = mass_discrepancies(runs + "/" + problem);
      for (std::size_t i = 0; i < discrepancy.size(); ++i)
        EXPECT_LE(discrepancy[i], 1e-6) << problem << ", snapshot " << i;
      std::printf("%-20s largest |integral of rho - mass| over %zu snapshots: %.2e\n",
                  problem.c_str(),
                  discrepancy.size(),
                  *std::max_element(discrepancy.begin(), discrepancy.end()));
    }
}

TEST(Info, CellMassesSumToTheSolversMassForEveryProblem)
{
  // rho_cell_mean is the mean of rho_h over each cell by the solver's own quadrature,
  // constant on the cell's patch: its integral is the mass of diagnostics.csv up to the
  // Float32 of the files (~1e-7 relative), whatever rho_h is (box meshes: VTK's cells
  // have the volumes of the solver's).
  for (const auto &problem : problems)
    {
      const auto discrepancy =
          mass_discrepancies(runs + "/" + problem, "integral of rho_cell_mean");
      ASSERT_FALSE(discrepancy.empty()) << problem;
      for (std::size_t i = 0; i < discrepancy.size(); ++i)
        EXPECT_LE(discrepancy[i], 1e-6) << problem << ", snapshot " << i;
      std::printf("%-20s largest |integral of rho_cell_mean - mass| over %zu snapshots: %.2e\n",
                  problem.c_str(),
                  discrepancy.size(),
                  *std::max_element(discrepancy.begin(), discrepancy.end()));
    }
}

TEST(Info, IntegralOfRhoConvergesToTheSolversMassForFokkerPlanck)
{
  // Fokker-Planck: rho_h = pi u_h is not a polynomial; the .vtu holds its values at the
  // points of each cell's patch and VTK interpolates linearly between them, so the
  // integral differs from the solver's (Gauss quadrature) mass by the interpolation error,
  // O(h^2) at least. Measured on ou-1d (Q2) from refinement 5 to 6: order 3.9.
  const auto coarse = mass_discrepancies(runs + "/ou-1d");
  const auto fine   = mass_discrepancies(runs + "/ou-1d-fine");
  ASSERT_EQ(coarse.size(), fine.size());
  for (std::size_t i = 0; i < coarse.size(); ++i)
    {
      const double order = std::log2(coarse[i] / fine[i]);
      std::printf("ou-1d snapshot %zu: |integral - mass| %.2e -> %.2e, order %.2f\n",
                  i,
                  coarse[i],
                  fine[i],
                  order);
      EXPECT_GE(order, 1.8) << "snapshot " << i;
      EXPECT_LE(fine[i], 1e-3) << "snapshot " << i;
    }
  for (const std::string problem : {"ou-2d",
                                    "ou-3d",
                                    "double-well-2d",
                                    "gaussian-mixture-2d",
                                    "obstacle-2d",
                                    "nonreversible-ou-2d"})
    {
      const auto discrepancy = mass_discrepancies(runs + "/" + problem);
      ASSERT_FALSE(discrepancy.empty()) << problem;
      std::printf("%-20s largest |integral of rho - mass| over %zu snapshots: %.2e\n",
                  problem.c_str(),
                  discrepancy.size(),
                  *std::max_element(discrepancy.begin(), discrepancy.end()));
    }
}

TEST(Render, PeakPixelHasTheTopColour)
{
  // ou-2d at t = 0.2: a single Gaussian bump, drawn without particles on top of it, framed
  // to where it is (--fit density) so that a pixel is small against a cell.
  const std::string file    = scratch + "/ou-2d-peak.png";
  const Outcome     outcome = post("render " + runs + "/ou-2d --time 0.2 --size 640,480 " +
                               "--no-particles --fit density --output " + file);
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const Image image = read_png(file);
  ASSERT_EQ(image.width, 640);
  ASSERT_EQ(image.height, 480);
  EXPECT_GT(distinct_colours(image), 50u);

  std::smatch match;
  ASSERT_TRUE(std::regex_search(
      outcome.out, match, std::regex(R"(pixel \((\d+), (\d+)\) from the top left)")))
      << outcome.out;
  const int  column = std::stoi(match[1]), row = std::stoi(match[2]);
  const auto pixel = image.at(column, row);
  // The entry of the 256-colour map nearest to the pixel. The pixel's centre is within
  // 0.71 pixel of the peak vertex; there, at this zoom (about 40 pixels per sub-cell of
  // the patches, rho dropping by about 20% of its range per sub-cell next to the peak),
  // the interpolated rho is within 0.4% of its maximum, i.e. within one entry (1/255 of
  // the range) of the top: the top two entries are accepted.
  const auto lut           = make_density_lookup_table();
  int        best          = 0;
  double     best_distance = INFINITY;
  for (int i = 0; i < 256; ++i)
    {
      double rgb[3];
      lut->GetTableValue(i, rgb);
      double distance = 0;
      for (int c = 0; c < 3; ++c)
        distance += std::pow(255 * rgb[c] - pixel[c], 2);
      if (distance < best_distance)
        {
          best          = i;
          best_distance = distance;
        }
    }
  const auto top = density_top_colour();
  std::printf("peak pixel (%d, %d): (%d, %d, %d) = colour map entry %d of 255 (top colour "
              "(%d, %d, %d))\n",
              column,
              row,
              pixel[0],
              pixel[1],
              pixel[2],
              best,
              top[0],
              top[1],
              top[2]);
  EXPECT_GE(best, 254);
  // The map is viridis: its top colour is matplotlib's (253, 231, 37); two entries below
  // it differ by at most 14 per channel.
  const int viridis_top[3] = {253, 231, 37};
  for (int c = 0; c < 3; ++c)
    EXPECT_NEAR(pixel[c], viridis_top[c], 14) << "channel " << c;
  EXPECT_LT(best_distance, 3 * 2.0 * 2.0) << "not a colour of the map";
  // And it is a peak: a pixel a quarter of the image away is far down the map.
  const auto away = image.at(std::max(0, column - 160), row);
  EXPECT_GT(std::abs(away[0] - top[0]) + std::abs(away[1] - top[1]) + std::abs(away[2] - top[2]),
            60);
}

TEST(Render, AllFramesWithParticlesIn1D2D3D)
{
  // --all: one frame per snapshot, particles (red, white) on top of the density.
  const std::string frames = scratch + "/frames/ou-2d.png";
  fs::remove_all(scratch + "/frames");
  const Outcome outcome = post("render " + runs + "/ou-2d --all --size 400,300 --output " + frames);
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const auto n = read_csv(runs + "/ou-2d/diagnostics.csv").rows.size();
  for (std::size_t i = 0; i < n; ++i)
    {
      char name[32];
      std::snprintf(name, sizeof(name), "/frames/ou-2d_%05zu.png", i);
      const Image image = read_png(scratch + name);
      EXPECT_EQ(image.width, 400);
      EXPECT_EQ(image.height, 300);
      EXPECT_GT(distinct_colours(image), 50u) << name;
      // The first system's particles are drawn in pure-ish red, which viridis never is.
      // Counted above the legend (the bottom quarter), whose text has the same colour.
      std::size_t red = 0;
      for (int row = 0; row < 3 * image.height / 4; ++row)
        for (int column = 0; column < image.width; ++column)
          {
            const auto rgb = image.at(column, row);
            red += rgb[0] > 200 && rgb[1] < 60 && rgb[2] < 60;
          }
      EXPECT_GT(red, 20u) << name;
    }
  for (const std::string problem : {"ou-1d", "ou-3d", "rotation-2d"})
    {
      const std::string file = scratch + "/" + problem + ".png";
      const Outcome     one =
          post("render " + runs + "/" + problem + " --size 300,200 --output " + file);
      ASSERT_EQ(one.exit_code, 0) << problem << ": " << one.err;
      const Image image = read_png(file);
      EXPECT_EQ(image.width, 300) << problem;
      EXPECT_EQ(image.height, 200) << problem;
      EXPECT_GT(distinct_colours(image), 20u) << problem;
    }
}

TEST(Plot, OnePngPerCsv)
{
  const std::string output = scratch + "/plots";
  fs::remove_all(output);
  const Outcome outcome = post("plot " + runs + "/ou-2d --size 600,400 --output-dir " + output);
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  for (const std::string name : {"diagnostics", "particles-vs-pde"})
    {
      const Image image = read_png(output + "/" + name + ".png");
      EXPECT_EQ(image.width, 600) << name;
      EXPECT_EQ(image.height, 400) << name;
      EXPECT_GT(distinct_colours(image), 10u) << name;
    }
  // A run without particles has one CSV, and one picture.
  const Outcome alone = post("plot " + runs + "/ou-1d --output-dir " + output + "/ou-1d");
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  EXPECT_TRUE(fs::exists(output + "/ou-1d/diagnostics.png"));
  EXPECT_FALSE(fs::exists(output + "/ou-1d/particles-vs-pde.png"));
}

TEST(BadInput, OneClearMessageEach)
{
  expect_clean_failure(post("info " + scratch + "/no-such-run"),
                       "run directory '" + scratch + "/no-such-run' does not exist");
  expect_clean_failure(post("render " + scratch + "/no-such-run"), "does not exist");

  // A .vtu cut in half, as a full disk or a killed run leaves it.
  const std::string truncated = copy_run("ou-1d", "truncated");
  const std::string piece     = truncated + "/density_00002.0.vtu";
  ASSERT_TRUE(fs::exists(piece));
  fs::resize_file(piece, fs::file_size(piece) / 2);
  expect_clean_failure(post("info " + truncated), "density_00002.pvtu");
  expect_clean_failure(post("render " + truncated + " --all --output " + scratch + "/t.png"),
                       "density_00002.pvtu");

  // A .pvd that names files that are not there.
  const std::string missing = copy_run("ou-1d", "missing");
  fs::remove(missing + "/density_00001.pvtu");
  expect_clean_failure(post("info " + missing),
                       "density.pvd names density_00001.pvtu, which does not exist");

  // A CSV without the expected columns.
  const std::string columns = copy_run("ou-1d", "columns");
  {
    auto          table = read_csv(columns + "/diagnostics.csv");
    std::ofstream out(columns + "/diagnostics.csv");
    out << "step,mass\n";
    for (const auto &row : table.rows)
      out << row[table.column("step")] << "," << row[table.column("mass")] << "\n";
  }
  expect_clean_failure(post("plot " + columns), "diagnostics.csv: no column 'time'");

  // An unknown column asked for.
  expect_clean_failure(post("plot " + runs + "/ou-1d --columns free_energy,no_such_column"),
                       "--columns: no column 'no_such_column'");

  // Options.
  expect_clean_failure(post("render " + runs + "/ou-1d --size 10x20"), "--size");
  expect_clean_failure(post("render " + runs + "/ou-1d --time 99"), "--time");
}
} // namespace
