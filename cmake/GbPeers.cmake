# The peer systems gpubridge's actor benchmark races against (bench/peers/).
# Builds build/bench/peer_caf from bench/peers/caf/*.cpp when a C++ compiler
# and CAF (Debian libcaf-dev: caf/all.hpp, libcaf_core) are found; otherwise
# says why and does nothing, so the library, the tests and the sanitizer
# builds never need C++. The Erlang peer is compiled by scripts/bench-peers.sh.
include(CheckLanguage)
check_language(CXX)
if(NOT CMAKE_CXX_COMPILER)
  message(STATUS "peers: no C++ compiler, peer_caf not built")
  return()
endif()
find_path(GB_CAF_INCLUDE caf/all.hpp DOC "CAF headers (Debian libcaf-dev)")
find_library(GB_CAF_CORE caf_core DOC "CAF core library (Debian libcaf-dev)")
if(NOT GB_CAF_INCLUDE OR NOT GB_CAF_CORE)
  message(STATUS "peers: CAF not found (scripts/deps.sh bench installs it), peer_caf not built")
  return()
endif()

enable_language(CXX)
file(GLOB GB_PEER_CAF_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/bench/peers/caf/*.cpp)
add_executable(peer_caf ${GB_PEER_CAF_SOURCES})
set_target_properties(peer_caf PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench
  CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
target_include_directories(peer_caf SYSTEM PRIVATE ${GB_CAF_INCLUDE})
target_link_libraries(peer_caf PRIVATE ${GB_CAF_CORE} Threads::Threads)
# -O2 whatever the build type, like the reference figures (g++ -O2).
target_compile_options(peer_caf PRIVATE -O2 -Wall -Wextra)
if(GB_WERROR)
  target_compile_options(peer_caf PRIVATE -Werror)
endif()
