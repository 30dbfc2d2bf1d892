#pragma once

namespace densityflow
{
/**
 * The commit this build was configured from (`git describe --always --dirty` when CMake
 * ran; "unknown" for a build without .git). Checkpoints record it and a restart by another
 * commit warns. It lives in a generated source (cmake/build_info.cc.in) that CMake rewrites
 * only when the id changes, so that a new commit recompiles that one file.
 */
const char *build_commit();
} // namespace densityflow
