# Run at every build (cmake -P): writes OUT, the commit and dirty flag of the
# source tree the binary is built from, only when they changed, so that an
# unchanged stamp relinks nothing. Inputs: SRC (source dir), OUT (a .cc),
# VERSION (the project's).
execute_process(COMMAND git -C ${SRC} rev-parse HEAD
  OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(rc EQUAL 0 AND commit)
  execute_process(COMMAND git --no-optional-locks -C ${SRC} status --porcelain --untracked-files=no
    OUTPUT_VARIABLE status ERROR_QUIET)
  if(status)
    set(dirty 1)
  else()
    set(dirty 0)
  endif()
else()  # not a git checkout (a source tarball): the commit is unknown
  set(commit "unknown")
  set(dirty -1)
endif()
set(text "// Generated at build time by cmake/build_stamp.cmake; do not edit.
#include \"base/build_stamp.h\"

namespace hrm {
const char* ProjectVersion() { return \"${VERSION}\"; }
const char* BuildCommit() { return \"${commit}\"; }
int BuildDirty() { return ${dirty}; }
}  // namespace hrm
")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUT} "${text}")
endif()
