# flite ships no pkg-config file or CMake package: find the library and the
# voices we offer (awb, rms, slt, kal) by hand.
find_path(FLITE_INCLUDE_DIR flite/flite.h REQUIRED)
set(_flite_libs flite_cmu_us_awb flite_cmu_us_rms flite_cmu_us_slt flite_cmu_us_kal
                flite_usenglish flite_cmulex flite)
set(FLITE_LIBRARIES "")
foreach(lib IN LISTS _flite_libs)
  find_library(FLITE_${lib}_LIBRARY NAMES ${lib} REQUIRED)
  list(APPEND FLITE_LIBRARIES ${FLITE_${lib}_LIBRARY})
endforeach()
add_library(apex::flite INTERFACE IMPORTED)
target_include_directories(apex::flite INTERFACE ${FLITE_INCLUDE_DIR})
target_link_libraries(apex::flite INTERFACE ${FLITE_LIBRARIES} m)
