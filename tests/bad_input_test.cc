// Bad input, end to end: `mpirun -np 2 densityflow` on each bad problem must stop with a
// non-zero exit code, one clear message naming the parameter, file or line, no hang,
// no stack dump, and no output directory that looks complete.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

namespace
{
const std::string work = TEST_WORK_DIRECTORY;

struct Outcome
{
  int         exit_code = -1;
  std::string output;
};

Outcome run_densityflow(const std::string &arguments)
{
  // timeout turns a hang into exit code 124.
  const std::string command = "cd " + work +
                              " && timeout 120 " MPIEXEC_PROGRAM " -np 2 --oversubscribe " +
                              DENSITYFLOW_EXECUTABLE + " " + arguments + " 2>&1";
  Outcome                outcome;
  std::array<char, 4096> buffer;
  FILE                  *pipe = popen(command.c_str(), "r");
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr)
    outcome.output += buffer.data();
  const int status  = pclose(pipe);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return outcome;
}

/** A valid small problem; @p replace maps lines of it to their replacement. */
std::string problem(const std::string                                      &name,
                    const std::vector<std::pair<std::string, std::string>> &replace)
{
  std::string text =
      "set Dimension = 2\n"
      "subsection Mesh\n  set Shape = box\n  set Refinement = 3\n  set File = \nend\n"
      "subsection Physics\n  set Potential = x^2 + y^2\n  set Diffusion = 0.5\nend\n"
      "subsection Initial density\n  set Expression = exp(-(x^2 + y^2))\nend\n"
      "subsection Time\n  set End time = 0.05\n  set Time step = 0.01\nend\n"
      "subsection Discretization\n  set Degree = 1\nend\n"
      "subsection Output\n  set Directory = out-" +
      name + "\nend\n";
  for (const auto &[from, to] : replace)
    {
      const auto at = text.find(from);
      EXPECT_NE(at, std::string::npos) << from;
      text.replace(at, from.size(), to);
    }
  const std::string file = name + ".prm";
  std::ofstream(work + "/" + file) << text;
  return file;
}

int count(const std::string &text, const std::string &what)
{
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

/** Runs densityflow with @p arguments and checks the failure is clean and says @p
 * expected. */
void expect_clean_failure(const std::string &arguments,
                          const std::string &expected,
                          const int          exit_code = 1)
{
  const Outcome outcome = run_densityflow(arguments);
  SCOPED_TRACE(arguments + "\n" + outcome.output);
  EXPECT_NE(outcome.exit_code, 124) << "densityflow hung";
  EXPECT_EQ(outcome.exit_code, exit_code);
  EXPECT_NE(outcome.output.find(expected), std::string::npos)
      << "expected the message to contain: " << expected;
  // One message, from one rank, and nothing that looks like a crash.
  EXPECT_EQ(count(outcome.output, "densityflow: error:") +
                count(outcome.output, "densityflow: the run failed:"),
            1);
  for (const char *crash : {"Stacktrace",
                            "PETSC ERROR",
                            "MPI_ABORT",
                            "terminate called",
                            "Segmentation",
                            "internal error"})
    EXPECT_EQ(outcome.output.find(crash), std::string::npos) << crash;
}

class BadInput : public ::testing::Test
{
protected:
  static void SetUpTestSuite() { std::filesystem::create_directories(work); }
};
} // namespace

TEST_F(BadInput, UnknownParameterNamesTheLine)
{
  expect_clean_failure(problem("unknown", {{"set Refinement = 3", "set Refinment = 3"}}),
                       "Line <4> of file <unknown.prm>: No entry with name <Refinment> was "
                       "declared in subsection Mesh. Did you mean <Refinement>?");
  // Far from every name: the names there are listed.
  expect_clean_failure(problem("unknown-far", {{"set Refinement = 3", "set Colour = 3"}}),
                       "No entry with name <Colour> was declared in subsection Mesh. The names "
                       "there are: Absorbing walls, Absorbing windows, Center, File,");
}

TEST_F(BadInput, UnknownSubsectionGetsTheNearestName)
{
  expect_clean_failure(problem("unknown-subsection", {{"subsection Mesh", "subsection Mseh"}}),
                       "Line <2> of file <unknown-subsection.prm>: There is no subsection <Mseh> "
                       "at the top level. Did you mean <Mesh>?");
  expect_clean_failure(problem("unknown-subsection-set", {}) + " --set \"Tmie/End time=1\"",
                       "--set 'Tmie/End time=1': There is no subsection <Tmie> at the top level. "
                       "Did you mean <Time>?");
}

TEST_F(BadInput, UnknownParameterOnTheCommandLine)
{
  expect_clean_failure(problem("unknown-set", {}) + " --set \"Mesh/Refinment=4\"",
                       "--set 'Mesh/Refinment=4': No entry with name <Refinment> was declared in "
                       "subsection Mesh. Did you mean <Refinement>?");
  expect_clean_failure(problem("unknown-set-output", {}) + " --set \"Output/Intervall=4\"",
                       "Did you mean <Interval>?");
}

TEST_F(BadInput, MalformedExpression)
{
  expect_clean_failure(problem("malformed", {{"x^2 + y^2", "x^^2 + y"}}),
                       "Physics/Potential = 'x^^2 + y' cannot be parsed");
}

TEST_F(BadInput, UnknownMeshShape)
{
  expect_clean_failure(
      problem("shape", {{"set Shape = box", "set Shape = sphere"}}),
      "Line <3> of file <shape.prm>: The entry value sphere for the entry named Shape "
      "does "
      "not match the given pattern: [Selection box|ball|shell|L-shape|file ]");
}

TEST_F(BadInput, MissingMeshFile)
{
  expect_clean_failure(
      problem("missing-mesh",
              {{"set Shape = box", "set Shape = file"}, {"set File = ", "set File = nowhere.msh"}}),
      "Mesh/File = 'nowhere.msh': cannot open");
}

TEST_F(BadInput, CorruptMeshFile)
{
  std::ofstream(work + "/corrupt.msh") << "$MeshFormat\n2.2 0 8\n$EndMeshFormat\n$Nodes\nthree\n";
  expect_clean_failure(
      problem("corrupt-mesh",
              {{"set Shape = box", "set Shape = file"}, {"set File = ", "set File = corrupt.msh"}}),
      "Mesh/File = 'corrupt.msh'");
}

TEST_F(BadInput, BadLikelihoodData)
{
  // The data file relative to the .prm's folder; every rank reads it and says the same.
  const std::string likelihood =
      "set Diffusion = 0.5\n  subsection Likelihood\n    set Data file = data.csv\n"
      "    set Negative log-likelihood = (v - x)^2 / s + y^2\n  end";
  std::ofstream(work + "/data.csv") << "v\n1.5\n0.3\n";
  expect_clean_failure(problem("likelihood-column", {{"set Diffusion = 0.5", likelihood}}),
                       "'s' is neither a column of the data file");
  std::ofstream(work + "/data.csv") << "v, s\n1.5, 2\n0.3, two\n";
  expect_clean_failure(problem("likelihood-number", {{"set Diffusion = 0.5", likelihood}}),
                       "data.csv, line 3, column 's': 'two' is not a number.");
  std::ofstream(work + "/data.csv") << "";
  expect_clean_failure(problem("likelihood-empty", {{"set Diffusion = 0.5", likelihood}}),
                       "data.csv' is empty");
}

TEST_F(BadInput, NegativeInitialDensity)
{
  expect_clean_failure(problem("negative", {{"exp(-(x^2 + y^2))", "x"}}),
                       "Initial density/Expression = 'x' is negative at x = ");
}

TEST_F(BadInput, ZeroMassInitialDensity)
{
  expect_clean_failure(problem("zero-mass", {{"exp(-(x^2 + y^2))", "0"}}), "has zero mass");
}

TEST_F(BadInput, NonPositiveDiffusion)
{
  expect_clean_failure(problem("eps-zero", {{"Diffusion = 0.5", "Diffusion = 0"}}),
                       "Physics/Diffusion must be positive");
  expect_clean_failure(problem("eps-negative", {{"Diffusion = 0.5", "Diffusion = -1"}}),
                       "Physics/Diffusion must be positive");
}

TEST_F(BadInput, NonPositiveTimeStep)
{
  expect_clean_failure(problem("dt-zero", {{"Time step = 0.01", "Time step = 0"}}),
                       "Time/Time step must be positive");
  expect_clean_failure(problem("dt-negative", {{"Time step = 0.01", "Time step = -0.1"}}),
                       "Time/Time step must be positive");
}

TEST_F(BadInput, DegreeOutOfRange)
{
  expect_clean_failure(problem("degree", {{"Degree = 1", "Degree = 4"}}),
                       "Discretization/Degree = 4 is out of range: it must be 0 to 3");
}

// V = (x^2 + y^2) log(1 - t) is fine until t = 1, where it stops being finite.
TEST_F(BadInput, NaNDuringTheSolve)
{
  const std::string file = problem("nan",
                                   {{"x^2 + y^2", "(x^2 + y^2 + 1) * (1 - log(1 - t))"},
                                    {"End time = 0.05", "End time = 2"},
                                    {"Time step = 0.01", "Time step = 0.1"}});
  expect_clean_failure(
      file, "Physics/Potential = '(x^2 + y^2 + 1) * (1 - log(1 - t))' is not finite", 2);
  std::ifstream status(work + "/out-nan/status");
  std::string   line;
  std::getline(status, line);
  EXPECT_EQ(line.rfind("failed:", 0), 0u) << "status: " << line;
}

TEST_F(BadInput, MissingProblemFileAndUnknownOption)
{
  expect_clean_failure("no-such-problem.prm", "Cannot open the problem file 'no-such-problem.prm'");
  expect_clean_failure(problem("option", {}) + " --refine 3", "Unknown option '--refine'");
}

TEST_F(BadInput, ACompleteRunSaysSo)
{
  const Outcome outcome = run_densityflow(problem("good", {}));
  ASSERT_EQ(outcome.exit_code, 0) << outcome.output;
  std::ifstream status(work + "/out-good/status");
  std::string   line;
  std::getline(status, line);
  EXPECT_EQ(line, "completed");
  EXPECT_TRUE(std::filesystem::exists(work + "/out-good/density.pvd"));
  EXPECT_TRUE(std::filesystem::exists(work + "/out-good/parameters.prm"));
}

TEST_F(BadInput, TransportVelocityWithTheWrongNumberOfComponents)
{
  expect_clean_failure(
      problem("velocity",
              {{"set Diffusion = 0.5",
                "set Model = transport\n  set Velocity = -y; x; 0\n  set Diffusion = 0"}}),
      "Physics/Velocity = '-y; x; 0' has 3 component(s) separated by ';', but 2 are needed in 2D.");
}

TEST_F(BadInput, TransportCFLThatCannotBeMet)
{
  expect_clean_failure(
      problem("cfl",
              {{"set Diffusion = 0.5",
                "set Model = transport\n  set Velocity = -y; x\n  set Diffusion = 0"},
               {"set End time = 0.05", "set End time = 0.05\n  set CFL number = 1"},
               {"set Degree = 1", "set Degree = 2"}}),
      "Time/CFL number = 1 cannot be met: with Degree = 2, SSP-RK3 is stable and the limiter keeps "
      "rho >= 0 only for CFL <= 0.166667");
}

// (Another Fokker-Planck scheme ignores the start: ou-2d sets it, and its scheme may be
// changed on the command line.)
TEST_F(BadInput, CrankNicolsonStartOutsideTheFokkerPlanckModel)
{
  expect_clean_failure(
      problem("cn-start-transport",
              {{"set Diffusion = 0.5", "set Model = transport\n  set Diffusion = 0.5"},
               {"set End time = 0.05", "set End time = 0.05\n  set BDF2 start = crank-nicolson"}}),
      "Time/BDF2 start = crank-nicolson is implemented for Physics/Model = fokker-planck only.");
}

TEST_F(BadInput, TransportNegativeDiffusion)
{
  expect_clean_failure(
      problem("transport-eps",
              {{"set Diffusion = 0.5", "set Model = transport\n  set Diffusion = -0.1"}}),
      "Physics/Diffusion must be >= 0 for the transport model");
}

TEST_F(BadInput, VelocityForTheFokkerPlanckModel)
{
  expect_clean_failure(
      problem("fp-velocity",
              {{"set Diffusion = 0.5", "set Velocity = -y; x\n  set Diffusion = 0.5"}}),
      "Physics/Velocity is for Model = transport");
}

TEST_F(BadInput, ParticlesOfAPath)
{
  const std::pair<std::string, std::string> path = {"set Diffusion = 0.5",
                                                    "set Model = path\n  set Diffusion = 0.5"};
  // Q1's phi_h has no Laplacian: flow-map particles could not carry log rho.
  expect_clean_failure(problem("path-q1-particles",
                               {path,
                                {"set Degree = 1",
                                 "set Degree = 1\nend\nsubsection Particles\n  set Number = 20\n"
                                 "  set Dynamics = flow-map"}}),
                       "which is zero for Discretization/Degree = 1: set Degree = 2 or 3.");
  expect_clean_failure(problem("path-langevin",
                               {path,
                                {"set Degree = 1",
                                 "set Degree = 2\nend\nsubsection Particles\n  set Number = 20\n"
                                 "  set Dynamics = langevin"}}),
                       "Particles/Dynamics = langevin does not follow a density path "
                       "(Physics/Model = path): use flow-map");
}

TEST_F(BadInput, InteractingParticles)
{
  const std::string particles = "set Degree = 1\nend\nsubsection Particles\n  set Number = 20\n";
  expect_clean_failure(
      problem("interacting-fp", {{"set Degree = 1", particles + "  set Dynamics = interacting"}}),
      "Particles/Dynamics = interacting follows an interaction flow only: set Physics/Model = "
      "interaction.");
  expect_clean_failure(
      problem("interaction-langevin",
              {{"set Diffusion = 0.5", "set Model = interaction\n  set Diffusion = 0"},
               {"set Degree = 1", particles + "  set Dynamics = langevin"}}),
      "Particles/Dynamics = langevin does not follow an interaction flow (Physics/Model = "
      "interaction): use interacting.");
}

TEST_F(BadInput, AbsorbingWalls)
{
  const std::string walls = "set Refinement = 3\n  set Absorbing walls = ";
  expect_clean_failure(problem("absorbing-name", {{"set Refinement = 3", walls + "x-min, z-max"}}),
                       "Mesh/Absorbing walls: 'z-max' is not a wall of a 2D box (x-min, x-max, "
                       "y-min, y-max).");
  expect_clean_failure(problem("absorbing-twice", {{"set Refinement = 3", walls + "y-max, y-max"}}),
                       "Mesh/Absorbing walls: 'y-max' is given twice.");
  expect_clean_failure(
      problem("absorbing-transport",
              {{"set Refinement = 3", walls + "x-max"},
               {"set Diffusion = 0.5", "set Model = transport\n  set Diffusion = 0.5"}}),
      "Mesh/Absorbing walls = x-max: absorbing walls are for Physics/Model = fokker-planck only.");
  expect_clean_failure(
      problem("absorbing-particles",
              {{"set Refinement = 3", walls + "x-max"},
               {"set Degree = 1",
                "set Degree = 1\nend\nsubsection Particles\n  set Number = 20\n"
                "  set Dynamics = probability-flow"}}),
      "Particles/Dynamics = probability-flow does not know absorbing walls (Mesh/Absorbing walls "
      "= x-max): use langevin.");
}

// Mesh/Absorbing windows: the entry named, with what is wrong with it (the box is
// [-1, 1]^2 in 8 x 8 cells of 0.25).
TEST_F(BadInput, AbsorbingWindows)
{
  const auto window = [](const std::string &name, const std::string &entry) {
    return problem(
        name, {{"set Refinement = 3", "set Refinement = 3\n  set Absorbing windows = " + entry}});
  };
  expect_clean_failure(window("window-syntax", "x-max: y in [0.4 0.6]"),
                       "Mesh/Absorbing windows: 'x-max: y in [0.4 0.6]' is not '<wall>: <c> in "
                       "[<lower>, <upper>]' (e.g. 'x-max: y in [0.4, 0.6]'; in 3D two such "
                       "ranges, separated by a comma): '[0.4 0.6]' is not two numbers.");
  expect_clean_failure(window("window-wall", "w-max: y in [0, 1]"),
                       "Mesh/Absorbing windows: 'w-max: y in [0, 1]': 'w-max' is not a wall");
  expect_clean_failure(window("window-3d-wall", "z-max: y in [0, 1]"),
                       "Mesh/Absorbing windows: 'z-max: y in [0, 1]': z-max is not a wall of a "
                       "2D box.");
  expect_clean_failure(window("window-normal", "x-max: x in [0, 1]"),
                       "Mesh/Absorbing windows: 'x-max: x in [0, 1]': x is not a coordinate "
                       "along the wall x-max of a 2D box.");
  expect_clean_failure(window("window-empty", "x-max: y in [1, 1]"),
                       "Mesh/Absorbing windows: 'x-max: y in [1, 1]': the window is empty: y in "
                       "[1, 1] needs lower < upper.");
  expect_clean_failure(window("window-off-box", "x-max: y in [0.5, 3]"),
                       "Mesh/Absorbing windows: 'x-max: y in [0.5, 3]': the window is not on the "
                       "box: y in [0.5, 3] reaches beyond the wall's [-1, 1].");
  expect_clean_failure(window("window-no-face", "x-max: y in [0.26, 0.36]"),
                       "Mesh/Absorbing windows: 'x-max: y in [0.26, 0.36]' contains no face "
                       "centre of the mesh (a face is absorbing where its centre is in the "
                       "window): make it at least one cell wide.");
  expect_clean_failure(window("window-overlap", "x-max: y in [0, 0.5]; x-max: y in [0.25, 1]"),
                       "Mesh/Absorbing windows: 'x-max: y in [0.25, 1]': the window overlaps "
                       "'x-max: y in [0, 0.5]'.");
  expect_clean_failure(
      problem("window-on-wall",
              {{"set Refinement = 3",
                "set Refinement = 3\n  set Absorbing walls = x-max\n  set Absorbing windows = "
                "x-max: y in [0, 1]"}}),
      "Mesh/Absorbing windows: 'x-max: y in [0, 1]': x-max is a whole absorbing wall already "
      "(Mesh/Absorbing walls).");
  expect_clean_failure(
      problem("window-mala",
              {{"set Refinement = 3",
                "set Refinement = 3\n  set Absorbing windows = x-max: y in [0, 1]"},
               {"set Degree = 1",
                "set Degree = 1\nend\nsubsection Particles\n  set Number = 20\n"
                "  set Dynamics = mala"}}),
      "Particles/Dynamics = mala does not know absorbing walls (Mesh/Absorbing windows = x-max: y "
      "in [0, 1]): use langevin.");
}

TEST_F(BadInput, PeriodicMesh)
{
  const std::string periodic = "set Refinement = 3\n  set Periodic = ";
  expect_clean_failure(problem("periodic-count", {{"set Refinement = 3", periodic + "true"}}),
                       "Mesh/Periodic = true has 1 value(s); a 2D box needs 2");
  expect_clean_failure(problem("periodic-word", {{"set Refinement = 3", periodic + "true, yes"}}),
                       "Mesh/Periodic = true, yes: 'yes' is neither true nor false.");
  expect_clean_failure(problem("periodic-ball",
                               {{"set Shape = box", "set Shape = ball"},
                                {"set Refinement = 3", periodic + "true, false"}}),
                       "periodic directions are those of a box; this mesh is not a box.");
  expect_clean_failure(
      problem("periodic-absorbing",
              {{"set Refinement = 3", periodic + "false, true\n  set Absorbing walls = y-max"}}),
      "Mesh/Absorbing walls: 'y-max' is a wall of a periodic direction (Mesh/Periodic)");
  expect_clean_failure(problem("periodic-window",
                               {{"set Refinement = 3",
                                 periodic + "true, false\n  set Absorbing windows = x-max: y in "
                                            "[0, 0.5]"}}),
                       "Mesh/Absorbing windows: 'x-max: y in [0, 0.5]': x-max is a wall of a "
                       "periodic direction (Mesh/Periodic)");
  // x^2 + y^2 on [-1, 1]^2 is even: periodic in x. x + y^2 is not.
  expect_clean_failure(
      problem("periodic-potential",
              {{"set Refinement = 3", periodic + "true, false"},
               {"set Potential = x^2 + y^2", "set Potential = x + y^2"}}),
      "Physics/Potential is not periodic in the periodic directions (Mesh/Periodic)");
  expect_clean_failure(
      problem("periodic-path",
              {{"set Refinement = 3", periodic + "true, true"},
               {"set Diffusion = 0.5", "set Model = path\n  set Diffusion = 0.5"}}),
      "Mesh/Periodic: periodic directions are for Physics/Model = fokker-planck and transport "
      "only");
  // The transport velocity -grad V = -2 (x, y) is odd: not periodic on [-1, 1]^2.
  expect_clean_failure(
      problem("periodic-transport",
              {{"set Refinement = 3", periodic + "true, true"},
               {"set Diffusion = 0.5", "set Model = transport\n  set Diffusion = 0.5"}}),
      "The transport velocity b (Physics/Velocity, Physics/Potential) is not periodic in the "
      "periodic directions (Mesh/Periodic): at t = 0 it differs by 4");
}

TEST_F(BadInput, ParticleStepLargerThanThePDEStep)
{
  // 1.5 PDE steps: refused.
  expect_clean_failure(problem("particle-step",
                               {{"set Degree = 1",
                                 "set Degree = 1\nend\n"
                                 "subsection Particles\n  set Number = 20\n"
                                 "  set Time step = 0.015"}}),
                       "Particles/Time step = 0.015 is larger than the PDE step 0.01 (Time/End "
                       "time / ceil(End time / Time/Time step)) and not a multiple of it");
  // 2 PDE steps, but the run ends after 5: the particles would be due between two steps.
  expect_clean_failure(problem("particle-step-end",
                               {{"set Degree = 1",
                                 "set Degree = 1\nend\n"
                                 "subsection Particles\n  set Number = 20\n"
                                 "  set Time step = 0.02"}}),
                       "Particles/Time step = 0.02 is larger than the PDE step 0.01 (2 PDE "
                       "steps), but the particles are due for output at t = 0.05 (PDE step 5)");
  // 5 PDE steps: runs, and says so.
  const Outcome outcome = run_densityflow(problem(
      "particle-step-5",
      {{"set Degree = 1",
        "set Degree = 1\nend\nsubsection Particles\n  set Number = 20\n  set Time step = 0.05"}}));
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  EXPECT_NE(outcome.output.find("step 0.05 (5 PDE steps)"), std::string::npos) << outcome.output;
}

namespace
{
/** Every file below @p folder, by path relative to it, with its contents. */
std::map<std::string, std::string> folder_contents(const std::string &folder)
{
  std::map<std::string, std::string> files;
  for (const auto &entry : std::filesystem::recursive_directory_iterator(folder))
    if (entry.is_regular_file())
      {
        std::ifstream      in(entry.path());
        std::ostringstream text;
        text << in.rdbuf();
        files[std::filesystem::relative(entry.path(), folder).string()] = text.str();
      }
  return files;
}

std::string first_line(const std::string &file)
{
  std::ifstream in(file);
  std::string   line;
  std::getline(in, line);
  return line;
}
} // namespace

// A completed run is never lost to a later run that fails: not on bad input (the folder
// is not touched), not during the solve (its files come back), not to `compare`.
TEST_F(BadInput, ACompletedRunSurvivesFailingRuns)
{
  const std::string file   = problem("survive", {});
  const std::string folder = work + "/out-survive";
  std::filesystem::remove_all(folder);
  const Outcome first = run_densityflow(file);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const auto completed = folder_contents(folder);
  ASSERT_EQ(first_line(folder + "/status"), "completed");
  ASSERT_TRUE(completed.count("diagnostics.csv") && completed.count("density_00001.pvtu"));

  // Bad input: an expression that cannot be parsed.
  expect_clean_failure(file + " --set \"Physics/Potential=r^2\"", "Physics/Potential = 'r^2'");
  EXPECT_EQ(folder_contents(folder), completed);

  // A failure during the solve, after the run started writing: the completed run is put
  // back, the failed one is in failed/ and says so.
  expect_clean_failure(file + " --set \"Physics/Potential=(x^2 + y^2 + 1) * (1 - log(1 - t))\"" +
                           " --set \"Time/End time=2\" --set \"Time/Time step=0.1\"",
                       "is not finite",
                       2);
  auto after = folder_contents(folder);
  EXPECT_EQ(first_line(folder + "/failed/status").rfind("failed:", 0), 0u);
  EXPECT_TRUE(after.count("failed/diagnostics.csv"));
  for (auto it = after.begin(); it != after.end();)
    it = it->first.rfind("failed/", 0) == 0 ? after.erase(it) : std::next(it);
  EXPECT_EQ(after, completed);

  // compare: a failing one (a bad ensemble) and a successful one leave the plain run's
  // files as they are; the successful one writes to compare/.
  std::ofstream(work + "/survive-nan.csv") << "# time = 0.02\nx,y\n0,nan\n";
  std::ofstream(work + "/survive-good.csv") << "# time = 0.02\nx,y\n0,0.1\n0.2,-0.3\n";
  expect_clean_failure("compare " + file + " --particles survive-nan.csv", "'nan' is not a finite");
  const Outcome compare = run_densityflow("compare " + file + " --particles survive-good.csv");
  ASSERT_EQ(compare.exit_code, 0) << compare.output;
  EXPECT_EQ(first_line(folder + "/compare/status"), "completed");
  EXPECT_TRUE(std::filesystem::exists(folder + "/compare/compare.csv"));
  after = folder_contents(folder);
  for (auto it = after.begin(); it != after.end();)
    it = it->first.rfind("failed/", 0) == 0 || it->first.rfind("compare/", 0) == 0 ? after.erase(it)
                                                                                   : std::next(it);
  EXPECT_EQ(after, completed);

  // A second completed run replaces the first and clears previous/ and failed/; with
  // Output/Keep previous run, the one it replaced stays in previous/.
  ASSERT_EQ(run_densityflow(file).exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(folder + "/previous"));
  EXPECT_FALSE(std::filesystem::exists(folder + "/failed"));
  const auto second = folder_contents(folder);
  ASSERT_EQ(run_densityflow(file + " --set \"Output/Keep previous run=true\"").exit_code, 0);
  const auto kept = folder_contents(folder + "/previous");
  EXPECT_EQ(kept.at("diagnostics.csv"), second.at("diagnostics.csv"));
  EXPECT_EQ(kept.at("status"), "completed\n");
}

namespace
{
/** The rows of a CSV file, as fields. */
std::vector<std::vector<std::string>> csv_rows(const std::string &file)
{
  std::ifstream                         in(file);
  std::string                           line;
  std::vector<std::vector<std::string>> rows;
  while (std::getline(in, line))
    {
      std::vector<std::string> fields(1);
      for (const char c : line)
        if (c == ',')
          fields.emplace_back();
        else
          fields.back() += c;
      rows.push_back(fields);
    }
  return rows;
}
} // namespace

// --time binds to the --particles files before it: two files at two times are scored
// each at its own time, exactly as in a run with that file alone.
TEST_F(BadInput, EachFileAtItsOwnTime)
{
  problem("times", {});
  std::ofstream(work + "/times-a.csv") << "x,y\n0.1,0.2\n-0.3,0.4\n0.5,-0.1\n0,0\n";
  std::ofstream(work + "/times-b.csv") << "x,y\n0.3,0.1\n-0.2,-0.4\n0.1,0.6\n";
  const auto compare = [](const std::string &name, const std::string &particles) {
    const Outcome outcome = run_densityflow("compare times.prm " + particles +
                                            " --set \"Output/Directory=out-" + name + "\"");
    EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
    return csv_rows(work + "/out-" + name + "/compare/compare.csv");
  };
  const auto both = compare(
      "times-both", "--particles times-a.csv --time 0.02 --particles times-b.csv --time 0.04");
  const auto a      = compare("times-a", "--particles times-a.csv --time 0.02");
  const auto b      = compare("times-b", "--particles times-b.csv --time 0.04");
  const auto a_late = compare("times-a-late", "--particles times-a.csv --time 0.04");
  ASSERT_EQ(both.size(), 3u);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  ASSERT_EQ(a_late.size(), 2u);
  EXPECT_EQ(both[1][0], "0.02"); // the exact time, as given
  EXPECT_EQ(both[2][0], "0.04");
  // Every column but the ensemble's name (the same file) is the separate run's.
  EXPECT_EQ(both[1], a[1]);
  EXPECT_EQ(both[2], b[1]);
  // The test can tell the times apart: the file at 0.04 scores differently.
  EXPECT_NE(a_late[1][4], a[1][4]);
}

TEST_F(BadInput, ATimeGivenTwiceIsRefused)
{
  problem("time-twice", {});
  std::ofstream(work + "/time-twice.csv") << "# time = 0.01\nx,y\n0,0.1\n";
  std::ofstream(work + "/time-none.csv") << "x,y\n0,0.1\n";
  expect_clean_failure("compare time-twice.prm --particles time-twice.csv --time 0.02",
                       "time-twice.csv, line 1: '# time = 0.01' gives a second time, after "
                       "--time 0.02 on the command line");
  expect_clean_failure("compare time-twice.prm --particles time-none.csv --time 0.01 --time 0.02",
                       "two times for time-none.csv: --time 0.01 and --time 0.02");
  expect_clean_failure("compare time-twice.prm --time 0.01 --particles time-none.csv",
                       "--time 0.01 comes before any --particles");
  // The time of the first group is not the second's.
  expect_clean_failure(
      "compare time-twice.prm --particles time-none.csv --time 0.01 --particles time-none.csv",
      "time-none.csv: no time");
}

TEST_F(BadInput, CompareWithBadEnsembles)
{
  problem("compare", {});
  std::ofstream(work + "/wrong-dimension.csv") << "# time = 0.01\nx,y,z\n0,0,0\n";
  std::ofstream(work + "/nan.csv") << "# time = 0.01\nx,y\n0,nan\n";
  expect_clean_failure("compare compare.prm --particles wrong-dimension.csv",
                       "wrong-dimension.csv, line 2: the column 'z' is a coordinate that a 2D "
                       "problem does not have");
  expect_clean_failure("compare compare.prm --particles nan.csv",
                       "nan.csv, line 3: 'nan' is not a finite number");
  expect_clean_failure("compare compare.prm --particles missing.npy --time 0.01",
                       "--particles: cannot open 'missing.npy'");
  expect_clean_failure("compare compare.prm", "compare needs ensembles");
}

TEST_F(BadInput, BadRegionsAndGrid)
{
  expect_clean_failure(problem("regions-duplicate", {}) +
                           " --set \"Diagnostics/Regions=left: x < 0; left: x > 0\"",
                       "Diagnostics/Regions = 'left: x < 0; left: x > 0': the name 'left' is "
                       "given twice.");
  expect_clean_failure(problem("regions-malformed", {}) +
                           " --set \"Diagnostics/Regions=left: x < 0; right: x >> 0\"",
                       "Diagnostics/Regions (right) = 'x >> 0' cannot be parsed");
  expect_clean_failure(problem("grid-counts", {}) + " --set \"Output/Grid=32, 32, 32\"",
                       "Output/Grid = '32, 32, 32' has 3 count(s); a 2D problem needs 2");
}

TEST_F(BadInput, InteractionModel)
{
  const std::pair<std::string, std::string> model        = {"set Potential = x^2 + y^2",
                                                            "set Model = interaction"};
  const std::pair<std::string, std::string> negative_eps = {"set Diffusion = 0.5",
                                                            "set Diffusion = -0.5"};
  expect_clean_failure(problem("interaction-eps", {model, negative_eps}),
                       "Physics/Diffusion must be >= 0 for the interaction model");
  const std::pair<std::string, std::string> no_eps = {"set Diffusion = 0.5", "set Diffusion = 0"};
  expect_clean_failure(problem("interaction-kernel", {model, no_eps}) +
                           " --set \"Interaction/Kernel/Type=attractive-repulsive\" --set "
                           "\"Interaction/Kernel/Repulsive exponent=3\"",
                       "Interaction/Kernel/Repulsive exponent = 3: the attractive-repulsive "
                       "kernel needs 0 < b < a = 2");
  expect_clean_failure(problem("interaction-exponent", {model, no_eps}) +
                           " --set \"Interaction/Kernel/Exponent=2\"",
                       "Interaction/Kernel/Exponent = 2 is out of range");
  expect_clean_failure(problem("interaction-sorted", {model, no_eps}) +
                           " --set \"Interaction/Velocity summation=sorted\"",
                       "Interaction/Velocity summation = sorted is exact only in 1D");
  expect_clean_failure(problem("interaction-target", {model, no_eps}) +
                           " --set \"Interaction/Target/Density=x\"",
                       "Interaction/Target/Density = 'x' is -");
  expect_clean_failure(problem("interaction-scheme", {model, no_eps}) +
                           " --set \"Time/Scheme=bdf2\"",
                       "the interaction model steps with ssp-rk3 (Diffusion = 0) or imex-ssp3");
  // imex-ssp3 is for the DG solvers; the Fokker-Planck solver (the default model) refuses it.
  expect_clean_failure(problem("imex-fokker-planck", {}) + " --set \"Time/Scheme=imex-ssp3\"",
                       "Time/Scheme = imex-ssp3 is for the transport and interaction models");
}

TEST_F(BadInput, InteractionSlicedAndSamples)
{
  const std::pair<std::string, std::string> model  = {"set Potential = x^2 + y^2",
                                                      "set Model = interaction"};
  const std::pair<std::string, std::string> no_eps = {"set Diffusion = 0.5", "set Diffusion = 0"};
  expect_clean_failure(problem("interaction-sliced-r", {model, no_eps}) +
                           " --set \"Interaction/Velocity summation=sliced\"" +
                           " --set \"Interaction/Kernel/Exponent=1.5\"",
                       "Interaction/Velocity summation = sliced applies only in 2D/3D with "
                       "Interaction/Kernel/Type = riesz and Exponent = 1");
  expect_clean_failure(problem("interaction-sliced-sets", {model, no_eps}) +
                           " --set \"Interaction/Sliced directions=99\"",
                       "Interaction/Sliced directions = 99 is not a multiple of Interaction/"
                       "Sliced direction sets = 5");
  expect_clean_failure(problem("interaction-both-targets", {model, no_eps}) +
                           " --set \"Interaction/Target/Density=1\"" +
                           " --set \"Interaction/Target/Samples=nu.csv\"",
                       "both give the target nu: set one of them");
  expect_clean_failure(problem("interaction-missing-samples", {model, no_eps}) +
                           " --set \"Interaction/Target/Samples=missing.csv\"",
                       "Interaction/Target/Samples: ");
  std::ofstream(work + "/bad-samples.csv") << "x,y\n0.1,0.2\n0.3,nan\n";
  expect_clean_failure(problem("interaction-bad-samples", {model, no_eps}) +
                           " --set \"Interaction/Target/Samples=bad-samples.csv\"",
                       "bad-samples.csv, line 3: 'nan' is not a finite number");
  std::ofstream(work + "/two-systems.csv") << "x,y,system\n0.1,0.2,a\n0.3,0.1,b\n";
  expect_clean_failure(problem("interaction-two-systems", {model, no_eps}) +
                           " --set \"Interaction/Target/Samples=two-systems.csv\"",
                       "holds 2 ensembles");
}

TEST_F(BadInput, RestartFromABadCheckpoint)
{
  namespace fs          = std::filesystem;
  const std::string prm = problem("checkpoint", {});
  ASSERT_EQ(run_densityflow(prm + " --set \"Checkpoint/Interval=2\"").exit_code, 0);
  const std::string folder = work + "/out-checkpoint";
  const auto        status = [&] {
    std::ifstream in(folder + "/status");
    std::string   line;
    std::getline(in, line);
    return line;
  };

  expect_clean_failure(problem("checkpoint-none", {}) + " --restart out-checkpoint-none",
                       "--restart out-checkpoint-none: no complete checkpoint in "
                       "out-checkpoint-none/checkpoint");
  expect_clean_failure(prm + " --restart out-checkpoint --set \"Mesh/Refinement=4\"",
                       "was written for other parameters (only Time/End time, "
                       "Checkpoint/Interval and Output/Directory may change):\n"
                       "  Mesh/Refinement = 3 there, 4 here");
  expect_clean_failure(prm + " --restart out-checkpoint --set \"Time/End time=0.055\"",
                       "was written with the step 0.01");

  // Another deal.II: the version in the metadata is faked.
  const std::string metadata = folder + "/checkpoint/metadata.txt";
  std::stringstream text;
  text << std::ifstream(metadata).rdbuf();
  const std::string original = text.str();
  std::ofstream(metadata) << std::regex_replace(
      original, std::regex("deal.II = [0-9.]+"), "deal.II = 9.3.0");
  expect_clean_failure(prm + " --restart out-checkpoint",
                       "the checkpoint was written by deal.II 9.3.0 and this is deal.II ");
  std::ofstream(metadata) << original;

  // A file cut short (a disk that filled up) and one with a changed byte.
  const std::string density = folder + "/checkpoint/density_1.bin";
  const auto        size    = fs::file_size(density);
  fs::resize_file(density, size - 8);
  expect_clean_failure(prm + " --restart out-checkpoint", "density_1.bin is truncated or corrupt");
  fs::resize_file(density, size);
  expect_clean_failure(prm + " --restart out-checkpoint",
                       "density_1.bin is corrupt (its checksum does not match)");
  // Refused restarts leave the run as it was.
  EXPECT_EQ(status(), "completed");

  // What checkpoints do not continue, each refused by name.
  expect_clean_failure(problem("checkpoint-grid", {}) +
                           " --set \"Output/Grid=8, 8\" --set \"Checkpoint/Interval=2\"",
                       "Checkpoint/Interval > 0 is not implemented with Output/Grid (the "
                       "grid_*.npy files are not continued): set Output/Grid empty.");
  expect_clean_failure(problem("checkpoint-no-files", {}) +
                           " --set \"Output/Write files=false\" --set \"Checkpoint/Interval=2\"",
                       "Checkpoint/Interval > 0 needs Output/Write files = true (the checkpoint "
                       "and the files it continues are in the run's folder).");
}
