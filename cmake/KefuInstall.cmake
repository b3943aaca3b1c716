# Installation: bin/kefu, lib/kefu/plugins/*.so, include/kefu/*.h, lib/cmake/Kefu/ (the
# package plugin authors find with find_package(Kefu)), share/kefu/samples/.
include(CMakePackageConfigHelpers)

install(DIRECTORY plugin-api/include/kefu DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS kefu_sdk EXPORT KefuTargets)
install(EXPORT KefuTargets NAMESPACE Kefu:: DESTINATION ${KEFU_INSTALL_CMAKE_DIR})

# Generated into a folder of its own: the build tree is no usable package, and a
# KefuConfig.cmake at its top would make find_package(Kefu) pick it up.
set(_kefu_pkg ${PROJECT_BINARY_DIR}/cmake-package)
configure_package_config_file(cmake/KefuConfig.cmake.in
  ${_kefu_pkg}/KefuConfig.cmake
  INSTALL_DESTINATION ${KEFU_INSTALL_CMAKE_DIR}
  PATH_VARS KEFU_INSTALL_PLUGIN_DIR)
# The package is the SDK: its version is the SDK's, and the major is the compatibility line
# (a plugin built against 1.x loads in a 1.y host with y >= x).
write_basic_package_version_file(${_kefu_pkg}/KefuConfigVersion.cmake
  VERSION ${KEFU_SDK_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES
  ${_kefu_pkg}/KefuConfig.cmake
  ${_kefu_pkg}/KefuConfigVersion.cmake
  cmake/KefuPlugin.cmake
  DESTINATION ${KEFU_INSTALL_CMAKE_DIR})

install(DIRECTORY samples/ DESTINATION ${CMAKE_INSTALL_DATADIR}/kefu/samples
        PATTERN "build" EXCLUDE)
