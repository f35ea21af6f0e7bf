// The source version this binary was built from, stamped at build time (not
// at configure time, and not read from a source tree at run time): the
// generated build_stamp.cc is rewritten by every build whose commit or dirty
// flag changed. Torch-free.
#pragma once

namespace hrm {

// The project's version (CMake's project VERSION).
const char* ProjectVersion();
// The git commit (40 hex digits), or "unknown" outside a git checkout.
const char* BuildCommit();
// 1 when tracked files differed from the commit, 0 when not, -1 if unknown.
int BuildDirty();

}  // namespace hrm
