# Sources live in core/, dsl/, codegen/ and runtime/ (the architecture at a glance); users include
# them as <kiln/core/...>, <kiln/dsl/...>, <kiln/codegen/...>, <kiln/runtime/...> and
# <kiln/kiln.hpp>.
# In the build folder that tree is made of links; `cmake --install` copies the headers.
set(KILN_INCLUDE_TREE ${PROJECT_BINARY_DIR}/include)
file(MAKE_DIRECTORY ${KILN_INCLUDE_TREE}/kiln)
foreach(part core dsl codegen runtime)
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${part} ${KILN_INCLUDE_TREE}/kiln/${part} SYMBOLIC)
endforeach()
file(CREATE_LINK ${PROJECT_SOURCE_DIR}/codegen/kiln.hpp ${KILN_INCLUDE_TREE}/kiln/kiln.hpp SYMBOLIC)
