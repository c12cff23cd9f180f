# CPACK_PRE_BUILD_SCRIPTS: before CPack splits off the debug info, drop the
# sections dh_strip drops too (.comment: the compiler's version string; .note:
# not .note.gnu.build-id, which the -dbgsym packages are keyed on).
find_program(_objcopy objcopy REQUIRED)
file(GLOB _binaries LIST_DIRECTORIES false "${CPACK_TEMPORARY_DIRECTORY}/*/usr/bin/*" "${CPACK_TEMPORARY_DIRECTORY}/usr/bin/*")
foreach(_binary IN LISTS _binaries)
  execute_process(COMMAND ${_objcopy} --remove-section=.comment --remove-section=.note "${_binary}"
                  COMMAND_ERROR_IS_FATAL ANY)
endforeach()
