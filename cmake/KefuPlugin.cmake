# kefu_add_plugin(<name> SOURCES ...) builds kefu-<name>.so into the plugin directory of the
# build tree and installs it into <prefix>/lib/kefu/plugins.
function(kefu_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIR" "SOURCES;LIBRARIES" ${ARGN})
  set(target kefu-plugin-${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${KEFU_PLUGIN_OUTPUT_DIR})
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME kefu-${name}
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR})
  target_link_libraries(${target} PRIVATE Kefu::sdk ${ARG_LIBRARIES})
  # Fail at link time, not at load time, on an unresolved symbol.
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${KEFU_INSTALL_PLUGIN_DIR})
  endif()
endfunction()
