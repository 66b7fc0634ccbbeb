# The layering the tree promises, checked on the sources (cmake -DSOURCE_DIR=... -P):
#   core/     includes nothing of kiln's but core/
#   dsl/      includes only dsl/ (description only: no computation, no Highway)
#   codegen/  sees the runtime only through its model view: kiln/runtime/model.hpp and the
#             type-erased ONNX graph its to_onnx writes (kiln/runtime/io/onnx_graph.hpp)
#   runtime/  never includes codegen/ or dsl/
#   samples/  include no other sample's .cpp; tests include helpers from tests/support/ only
set(problems "")
function(check_tree dir pattern allowed what)
  file(GLOB_RECURSE files ${SOURCE_DIR}/${dir}/*.hpp ${SOURCE_DIR}/${dir}/*.h ${SOURCE_DIR}/${dir}/*.cpp)
  foreach(file ${files})
    file(STRINGS ${file} lines REGEX "^#include [\"<]${pattern}")
    foreach(line ${lines})
      if(allowed STREQUAL "" OR NOT line MATCHES "${allowed}")
        file(RELATIVE_PATH rel ${SOURCE_DIR} ${file})
        string(APPEND problems "${rel}: ${what}: ${line}\n")
      endif()
    endforeach()
  endforeach()
  set(problems "${problems}" PARENT_SCOPE)
endfunction()

check_tree(core "kiln/(dsl|codegen|runtime)/" "" "core includes another layer")
check_tree(dsl "kiln/(core|codegen|runtime)/" "" "dsl includes another layer")
check_tree(dsl "hwy/" "" "dsl includes Highway")
check_tree(codegen "kiln/runtime/" "kiln/runtime/(model|io/onnx_graph)\\.hpp" "codegen sees the runtime beyond rt::model")
check_tree(runtime "kiln/(codegen|dsl)/" "" "runtime includes codegen or dsl")
check_tree(samples "[^>\"]*\\.cpp" "" "a sample includes another sample's .cpp")
check_tree(tests "\\.\\./[a-z_]+/" "\\.\\./support/" "a test includes a helper outside tests/support")

if(NOT problems STREQUAL "")
  message(FATAL_ERROR "layering broken:\n${problems}")
endif()
