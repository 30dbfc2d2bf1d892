// 1 rank and 2 ranks give the same diagnostics: each problem runs on MPI_COMM_WORLD (2
// ranks) and, on rank 0, alone on MPI_COMM_SELF; the diagnostics must agree to 1e-9
// (relative to each column's scale, at least 1: densities are of order one).
#include <deal.II/base/mpi.h>

#include <gtest/gtest.h>

#include <test_tools.h>

using namespace densityflow;
using namespace densityflow::testing;

namespace
{
void expect_same_on_one_and_two_ranks(const std::string &prm, const std::string &what)
{
  ASSERT_EQ(Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD), 2u) << "run this test on 2 ranks";
  const RunResult two = run(prm, {}, MPI_COMM_WORLD);
  RunResult       one;
  if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    one = run(prm, {}, MPI_COMM_SELF);
  one.rows    = Utilities::MPI::broadcast(MPI_COMM_WORLD, one.rows, 0);
  one.columns = two.columns;

  ASSERT_EQ(one.rows.size(), two.rows.size());
  for (std::size_t c = 0; c < two.columns.size(); ++c)
    {
      const std::string &name = two.columns[c];
      if (name == "wall_seconds" || name == "linear_iterations")
        continue;
      double scale = 1;
      for (const auto &row : two.rows)
        if (std::isfinite(row[c]))
          scale = std::max(scale, std::abs(row[c]));
      for (std::size_t r = 0; r < two.rows.size(); ++r)
        {
          if (std::isnan(two.rows[r][c]))
            {
              EXPECT_TRUE(std::isnan(one.rows[r][c])) << what << " " << name;
              continue;
            }
          EXPECT_NEAR(one.rows[r][c], two.rows[r][c], 1e-9 * scale)
              << what << ": " << name << " in row " << r;
        }
    }
}
} // namespace

TEST(ParallelConsistency, OneDimensionalSharedTriangulation)
{
  OuProblem p;
  p.dim        = 1;
  p.degree     = 2;
  p.refinement = 6;
  p.interval   = 0.1;
  expect_same_on_one_and_two_ranks(p.text(), "1D Q2");
}

TEST(ParallelConsistency, TwoDimensionalQ1AndQ2)
{
  OuProblem p;
  p.interval   = 0.1;
  p.refinement = 5;
  expect_same_on_one_and_two_ranks(p.text(), "2D Q1");
  p.degree     = 2;
  p.refinement = 4;
  p.scheme     = "crank-nicolson";
  expect_same_on_one_and_two_ranks(p.text(), "2D Q2");
}

TEST(ParallelConsistency, ThreeDimensional)
{
  OuProblem p;
  p.dim        = 3;
  p.refinement = 3;
  p.half_width = 4;
  p.end_time   = 0.2;
  p.time_step  = 0.02;
  p.interval   = 0.1;
  p.scheme     = "backward-euler";
  expect_same_on_one_and_two_ranks(p.text(), "3D Q1");
}
