# Builds TARGET in BUILD_DIR; passes only if the build fails with EXPECT in its output and a
# single `error:` line.
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(out "${out}${err}")
if(code EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but it must not")
endif()
if(NOT out MATCHES "${EXPECT}")
  message(FATAL_ERROR "${TARGET}: the diagnostic does not match\n  ${EXPECT}\noutput:\n${out}")
endif()
string(REGEX MATCHALL "error:" errors "${out}")
list(LENGTH errors count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "${TARGET}: ${count} error lines, expected exactly one:\n${out}")
endif()
message(STATUS "${TARGET}: one error, as expected")
