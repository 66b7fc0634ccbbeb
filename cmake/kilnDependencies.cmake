# Every dependency comes from Debian 12 packages (scripts/deps.sh installs them).
# This file is also installed: kilnConfig.cmake includes it so that consumers find the same.
include(CMakeFindDependencyMacro)
find_package(Threads REQUIRED)
find_package(hwy 1.0.3 REQUIRED CONFIG)
find_package(ZLIB REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(nlohmann_json 3 CONFIG REQUIRED)
find_package(OpenBLAS CONFIG REQUIRED)
if(NOT TARGET kiln_openblas)
  # Debian's OpenBLASConfig.cmake sets variables only; wrap them in a target.
  add_library(kiln_openblas INTERFACE IMPORTED)
  target_include_directories(kiln_openblas INTERFACE ${OpenBLAS_INCLUDE_DIRS})
  target_link_libraries(kiln_openblas INTERFACE ${OpenBLAS_LIBRARIES})
endif()
