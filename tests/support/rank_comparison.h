#pragma once
// Comparing the diagnostics of one problem run on different numbers of ranks.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include <support/test_tools.h>

namespace densityflow::testing
{
/**
 * Expects @p one and @p two to have the same rows and, in every column but the wall
 * clock and the iteration count (which depend on the ranks), values within @p tolerance
 * times the column's largest magnitude (at least 1); a NaN must be NaN in both.
 */
inline void
expect_same_diagnostics(const RunResult &one, const RunResult &two, const double tolerance = 1e-9)
{
  ASSERT_EQ(one.rows.size(), two.rows.size());
  ASSERT_EQ(one.columns, two.columns);
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
            EXPECT_TRUE(std::isnan(one.rows[r][c])) << name << " row " << r;
          else
            EXPECT_NEAR(one.rows[r][c], two.rows[r][c], tolerance * scale) << name << " row " << r;
        }
    }
}
} // namespace densityflow::testing
