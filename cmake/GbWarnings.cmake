# Warnings for every target of ours; -Werror when GB_WERROR is on (CI).
function(gb_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wstrict-prototypes
                         -Wmissing-prototypes -Wno-unused-parameter)
  if(GB_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
