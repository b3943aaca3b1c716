# kefu_add_plugin(<name> SOURCES ...) builds kefu-<name>.so into the plugin directory of the
# build tree and installs it into <prefix>/lib/kefu/plugins.
function(kefu_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIR" "SOURCES;LIBRARIES" ${ARGN})
  set(target kefu-plugin-${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${KEFU_PLUGIN_OUTPUT_DIR})
  endif()
  # Only the entry symbol is exported; C++20 without GNU extensions, as the host is built.
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME kefu-${name}
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR}
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
  target_link_libraries(${target} PRIVATE Kefu::sdk ${ARG_LIBRARIES})
  # Fail at link time, not at load time, on an unresolved symbol.
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${KEFU_INSTALL_PLUGIN_DIR})
    # For the kefu-runtime target: what a deployment runs, without the tests.
    set_property(GLOBAL APPEND PROPERTY KEFU_RUNTIME_PLUGINS ${target})
  endif()
endfunction()
