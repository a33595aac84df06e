#pragma once

namespace vmeval {
/// The vmeval release, e.g. "0.1.0".
const char* version();
/// The git commit the binary was built from ("unknown" outside a checkout, "-dirty" with local edits).
const char* git_commit();
}  // namespace vmeval
