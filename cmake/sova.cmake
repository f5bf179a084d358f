# sova_add_module(NAME DEPS...): a static library from every .c file in the
# current source folder (and its subfolders given as SUBDIRS), so adding a file
# needs no edit here.
function(sova_add_module name)
  cmake_parse_arguments(M "" "" "DEPS;SUBDIRS;SOURCES" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
  foreach(d IN LISTS M_SUBDIRS)
    file(GLOB more CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${d}/*.c)
    list(APPEND srcs ${more})
  endforeach()
  list(APPEND srcs ${M_SOURCES})
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/include)
  target_link_libraries(${name} PUBLIC ${M_DEPS})
endfunction()

# sova_add_test(NAME SOURCE LIBS...): one CTest test per executable; tests find
# the golden data through SOVA_FIXTURES and build outputs through SOVA_BIN.
function(sova_add_test name src)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE sova_testlib ${ARGN})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "SOVA_FIXTURES=${SOVA_FIXTURES_DIR};SOVA_BIN=$<TARGET_FILE:sova>;SOVA_SRC=${CMAKE_SOURCE_DIR}"
    TIMEOUT 600)
endfunction()

# sova_add_script_test(NAME SCRIPT): a shell test driving the `sova` command.
function(sova_add_script_test name script)
  add_test(NAME ${name} COMMAND bash ${script})
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "SOVA_FIXTURES=${SOVA_FIXTURES_DIR};SOVA_BIN=$<TARGET_FILE:sova>;SOVA_SRC=${CMAKE_SOURCE_DIR};SOVA_BUILD=${CMAKE_BINARY_DIR}"
    TIMEOUT 600)
endfunction()

# Adds every subfolder of the current folder that has a CMakeLists.txt.
function(sova_add_subdirs)
  file(GLOB kids LIST_DIRECTORIES true ${CMAKE_CURRENT_SOURCE_DIR}/*)
  foreach(k IN LISTS kids)
    if(IS_DIRECTORY ${k} AND EXISTS ${k}/CMakeLists.txt)
      add_subdirectory(${k})
    endif()
  endforeach()
endfunction()

# Sets `out` to every module library (sova_<folder> for each src/<folder>
# that defines one), for executables that link the whole engine.
function(sova_module_libs out)
  file(GLOB module_dirs LIST_DIRECTORIES true ${CMAKE_SOURCE_DIR}/src/*)
  set(libs "")
  foreach(d IN LISTS module_dirs)
    get_filename_component(n ${d} NAME)
    if(TARGET sova_${n})
      list(APPEND libs sova_${n})
    endif()
  endforeach()
  set(${out} ${libs} PARENT_SCOPE)
endfunction()
