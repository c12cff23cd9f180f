# CPACK_POST_BUILD_SCRIPTS: brings CPack's -dbgsym packages (.ddeb) to what
# dh_strip makes, which CMake 3.25 does not:
#   - md5sums names the files by their path in the package, not in the build folder;
#   - the .debug files are 0644, not executable;
#   - /usr/share/doc/<pkg>-dbgsym is a symlink to <pkg>'s (changelog, copyright).
# Each .ddeb is unpacked with dpkg-deb -R, fixed and rebuilt in place.
find_program(_dpkg_deb dpkg-deb REQUIRED)
set(_ddebs "")
foreach(_file IN LISTS CPACK_PACKAGE_FILES)
  if(_file MATCHES "\\.ddeb$")
    list(APPEND _ddebs "${_file}")
  endif()
endforeach()
if(NOT _ddebs)
  file(GLOB _ddebs "${CPACK_PACKAGE_DIRECTORY}/*.ddeb")
endif()

foreach(_ddeb IN LISTS _ddebs)
  get_filename_component(_name "${_ddeb}" NAME_WE)
  set(_root "${CPACK_TOPLEVEL_DIRECTORY}/fix-dbgsym/${_name}")
  file(REMOVE_RECURSE "${_root}")
  file(MAKE_DIRECTORY "${CPACK_TOPLEVEL_DIRECTORY}/fix-dbgsym")
  execute_process(COMMAND ${_dpkg_deb} -R "${_ddeb}" "${_root}" COMMAND_ERROR_IS_FATAL ANY)
  execute_process(COMMAND ${_dpkg_deb} -f "${_ddeb}" Package
                  OUTPUT_VARIABLE _package OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
  string(REGEX REPLACE "-dbgsym$" "" _parent "${_package}")

  file(GLOB_RECURSE _debug_files LIST_DIRECTORIES false RELATIVE "${_root}" "${_root}/usr/*")
  set(_md5sums "")
  foreach(_f IN LISTS _debug_files)
    file(CHMOD "${_root}/${_f}" FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
    file(MD5 "${_root}/${_f}" _sum)
    string(APPEND _md5sums "${_sum}  ${_f}\n")
  endforeach()
  file(WRITE "${_root}/DEBIAN/md5sums" "${_md5sums}")
  file(CHMOD "${_root}/DEBIAN/md5sums" FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

  file(MAKE_DIRECTORY "${_root}/usr/share/doc")
  file(CREATE_LINK "${_parent}" "${_root}/usr/share/doc/${_package}" SYMBOLIC)

  execute_process(COMMAND ${_dpkg_deb} --root-owner-group -Zxz --build "${_root}" "${_ddeb}"
                  OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)
  file(REMOVE_RECURSE "${_root}")
endforeach()
