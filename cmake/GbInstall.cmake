# make install: headers, both libraries, gbridge, a pkg-config file and a
# CMake package config (find_package(gpubridge) -> gpubridge::gpubridge).
include(CMakePackageConfigHelpers)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/gpubridge DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS gpubridge_static gpubridge_shared EXPORT gpubridgeTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS gbridge RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT gpubridgeTargets NAMESPACE gpubridge::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/gpubridge)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/gpubridgeConfig.cmake.in
  ${CMAKE_BINARY_DIR}/gpubridgeConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/gpubridge)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/gpubridgeConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/gpubridgeConfig.cmake ${CMAKE_BINARY_DIR}/gpubridgeConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/gpubridge)
configure_file(${PROJECT_SOURCE_DIR}/cmake/gpubridge.pc.in ${CMAKE_BINARY_DIR}/gpubridge.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/gpubridge.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
# the pattern library (docs/patterns.md)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/patterns/ DESTINATION ${CMAKE_INSTALL_DATADIR}/gpubridge/patterns
        FILES_MATCHING PATTERN "*.gbp")
