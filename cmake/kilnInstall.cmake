# `cmake --install` exports kiln as a package: find_package(kiln) -> kiln::kiln and
# kiln_add_trainer().
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(KILN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/kiln)

install(DIRECTORY core/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kiln/core
        FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
install(DIRECTORY dsl/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kiln/dsl
        FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
install(DIRECTORY codegen/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kiln/codegen
        FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
install(DIRECTORY runtime/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kiln/runtime
        FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
install(DIRECTORY kiln/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kiln
        FILES_MATCHING PATTERN "*.hpp")

install(TARGETS kiln kiln_core kiln_dsl kiln_codegen kiln_kernels kiln_second_order kiln_engine
                kiln_trainer_parts kiln_runtime
        EXPORT kilnTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT kilnTargets NAMESPACE kiln:: DESTINATION ${KILN_CMAKE_DIR})

configure_package_config_file(cmake/kilnConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/kilnConfig.cmake
                              INSTALL_DESTINATION ${KILN_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/kilnConfig.cmake ${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake
              cmake/kilnDependencies.cmake cmake/kilnTrainer.cmake
        DESTINATION ${KILN_CMAKE_DIR})
