# Installs kiln from BUILD_DIR into a prefix, builds tests/consumer against it out of tree,
# and runs the trainer it makes for one epoch.
set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "failed (${code}): ${ARGN}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
# The build's own flags: a consumer of a sanitized kiln (asan-ubsan, tsan) is sanitized too.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -G Ninja -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${prefix} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer_trainer --epochs 1 --quiet)
if(NOT out MATCHES "test_accuracy=0\\.[0-9]+")
  message(FATAL_ERROR "the consumer's trainer did not report an accuracy:\n${out}")
endif()
message(STATUS "consumer built against the installed kiln: ${out}")
