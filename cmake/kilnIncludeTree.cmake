# Sources live in core/, dsl/, codegen/ and runtime/ (the architecture at a glance), and kiln/
# holds the public headers at the top of the tree where codegen and runtime meet (<kiln/kiln.hpp>,
# <kiln/run.hpp>, <kiln/zoo.hpp>, <kiln/transfer.hpp>); users include the others as
# <kiln/core/...>, <kiln/dsl/...>, <kiln/codegen/...>, <kiln/runtime/...>.
# In the build folder that tree is made of links; `cmake --install` copies the headers.
set(KILN_INCLUDE_TREE ${PROJECT_BINARY_DIR}/include)
file(MAKE_DIRECTORY ${KILN_INCLUDE_TREE}/kiln)
foreach(part core dsl codegen runtime)
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${part} ${KILN_INCLUDE_TREE}/kiln/${part} SYMBOLIC)
endforeach()
file(GLOB KILN_TOP_HEADERS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kiln/*.hpp)
foreach(header ${KILN_TOP_HEADERS})
  get_filename_component(name ${header} NAME)
  file(CREATE_LINK ${header} ${KILN_INCLUDE_TREE}/kiln/${name} SYMBOLIC)
endforeach()
