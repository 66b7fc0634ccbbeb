# Every dependency comes from Debian 12 packages (scripts/deps.sh installs them).
# This file is also installed: kilnConfig.cmake includes it so that consumers find the same.
include(CMakeFindDependencyMacro)
find_package(Threads REQUIRED)
find_package(hwy 1.0.3 REQUIRED CONFIG)
find_package(ZLIB REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(nlohmann_json 3 CONFIG REQUIRED)
find_package(OpenBLAS CONFIG REQUIRED)
# Tensor files: ONNX initializers (protobuf first: ONNX's config needs its targets) and .npz.
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
# MPI (libopenmpi-dev) is optional: data-parallel training and distributed ensembles
# (runtime/parallel/comm.cpp). Without it kiln builds as usual, every job has one rank and the
# MPI tests skip. KILN_WITH_MPI=OFF leaves it out even when installed.
if(NOT DEFINED KILN_WITH_MPI OR KILN_WITH_MPI)
  find_package(MPI COMPONENTS CXX)
endif()
if(MPI_CXX_FOUND)
  set(KILN_HAVE_MPI ON)
else()
  set(KILN_HAVE_MPI OFF)
endif()
# oneDNN (libdnnl-dev, built on OpenMP): the compute engine's products (codegen/engine). Its CMake
# config also wants OpenCL's, which a CPU build does not need: a plain imported target instead.
find_package(OpenMP REQUIRED COMPONENTS CXX)
if(NOT TARGET kiln_dnnl)
  find_library(KILN_DNNL_LIBRARY NAMES dnnl REQUIRED)
  find_path(KILN_DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp REQUIRED)
  add_library(kiln_dnnl INTERFACE IMPORTED)
  target_include_directories(kiln_dnnl INTERFACE ${KILN_DNNL_INCLUDE_DIR})
  target_link_libraries(kiln_dnnl INTERFACE ${KILN_DNNL_LIBRARY} OpenMP::OpenMP_CXX)
endif()
if(NOT TARGET kiln_openblas)
  # Debian's OpenBLASConfig.cmake sets variables only; wrap them in a target.
  add_library(kiln_openblas INTERFACE IMPORTED)
  target_include_directories(kiln_openblas INTERFACE ${OpenBLAS_INCLUDE_DIRS})
  target_link_libraries(kiln_openblas INTERFACE ${OpenBLAS_LIBRARIES})
endif()

# Every Highway target is compiled (AVX3_DL, AVX3, AVX2, SSE4, SSSE3 and the scalar fallback) and
# chosen at run time; no -march flag anywhere. HWY_WANT_AVX3_DL: Highway 1.0.3 leaves AVX3_DL out
# otherwise. HWY_COMPILE_ALL_ATTAINABLE keeps the scalar target for tests and benchmarks.
set(KILN_HWY_DEFINITIONS HWY_WANT_AVX3_DL HWY_COMPILE_ALL_ATTAINABLE)
