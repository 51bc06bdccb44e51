# Every tests/<layer>/test_<name>.c is one Criterion test program, registered
# with CTest as <layer>.<name>. A line "// gb-test-labels: a;b" in the file
# adds CTest labels; "concurrency" marks the tests CI runs under TSan,
# "serial" the tests that must have the machine to themselves (they check
# a measuring method's own error bound, which a concurrent test inflates).
find_library(GB_CRITERION criterion REQUIRED
             DOC "Criterion test framework (Debian libcriterion-dev)")
file(GLOB_RECURSE GB_TEST_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/*/test_*.c)
file(GLOB GB_TEST_SUPPORT CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/support/*.c)
if(GB_TEST_SUPPORT)
  add_library(gb_test_support STATIC ${GB_TEST_SUPPORT})
  target_include_directories(gb_test_support PUBLIC ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(gb_test_support PUBLIC gpubridge_static)
  target_compile_definitions(gb_test_support PRIVATE _GNU_SOURCE)
endif()

foreach(src ${GB_TEST_SOURCES})
  get_filename_component(layer_dir ${src} DIRECTORY)
  get_filename_component(layer ${layer_dir} NAME)
  get_filename_component(name ${src} NAME_WE)
  string(REGEX REPLACE "^test_" "" short ${name})
  set(target test_${layer}_${short})
  add_executable(${target} ${src})
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${target} PRIVATE _GNU_SOURCE
    GB_SOURCE_DIR="${PROJECT_SOURCE_DIR}" GB_BINARY_DIR="${CMAKE_BINARY_DIR}" GB_SANITIZE_MODE="${GB_SANITIZE}")
  target_link_libraries(${target} PRIVATE gpubridge_static ${GB_CRITERION} Threads::Threads)
  if(TARGET gb_test_support)
    target_link_libraries(${target} PRIVATE gb_test_support)
  endif()
  gb_target_warnings(${target})
  add_test(NAME ${layer}.${short} COMMAND ${target} --jobs=1)
  file(STRINGS ${src} label_line REGEX "gb-test-labels:")
  set(labels ${layer})
  if(label_line)
    string(REGEX REPLACE ".*gb-test-labels:[ ]*" "" extra "${label_line}")
    string(STRIP "${extra}" extra)
    list(APPEND labels ${extra})
  endif()
  set_tests_properties(${layer}.${short} PROPERTIES LABELS "${labels}" TIMEOUT 300
    ENVIRONMENT "POCL_CACHE_DIR=${CMAKE_BINARY_DIR}/pocl-cache;UCX_NET_DEVICES=lo;GB_KERNEL_CACHE=${CMAKE_BINARY_DIR}/kernel-cache")
  if("serial" IN_LIST labels)
    set_tests_properties(${layer}.${short} PROPERTIES RUN_SERIAL TRUE)
  endif()
endforeach()
