# Installation: bin/kefu, lib/kefu/plugins/*.so, include/kefu/*.h, lib/cmake/Kefu/ (the
# package plugin authors find with find_package(Kefu)), share/kefu/samples/.
include(CMakePackageConfigHelpers)

install(DIRECTORY plugin-api/include/kefu DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS kefu_sdk EXPORT KefuTargets)
install(EXPORT KefuTargets NAMESPACE Kefu:: DESTINATION ${KEFU_INSTALL_CMAKE_DIR})

configure_package_config_file(cmake/KefuConfig.cmake.in
  ${PROJECT_BINARY_DIR}/KefuConfig.cmake
  INSTALL_DESTINATION ${KEFU_INSTALL_CMAKE_DIR}
  PATH_VARS KEFU_INSTALL_PLUGIN_DIR)
# The SDK major is the compatibility line: a 1.x plugin needs a 1.y host with y >= x.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/KefuConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/KefuConfig.cmake
  ${PROJECT_BINARY_DIR}/KefuConfigVersion.cmake
  cmake/KefuPlugin.cmake
  DESTINATION ${KEFU_INSTALL_CMAKE_DIR})

install(DIRECTORY samples/ DESTINATION ${CMAKE_INSTALL_DATADIR}/kefu/samples
        PATTERN "build" EXCLUDE)
