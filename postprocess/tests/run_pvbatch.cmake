# pvbatch postprocess/densityflow_view.py on a run, under xvfb-run: it must exit 0 and
# write its screenshots (first, middle and last snapshot) as non-empty PNGs.
file(REMOVE_RECURSE ${OUTPUT})
# A virtual X server that is not up in time (a loaded machine, another server on the
# display) gives "bad X server connection": try again, on another display, twice.
foreach(attempt 1 2 3)
  string(RANDOM LENGTH 3 ALPHABET 123456789 first_display)
  execute_process(COMMAND ${XVFB_RUN} -a -n ${first_display} ${PVBATCH} ${SCRIPT} ${RUN}
                          --output ${OUTPUT} --size 600,250
                  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(result EQUAL 0 OR NOT err MATCHES "bad X server connection")
    break()
  endif()
  message(STATUS "attempt ${attempt}: no X server on display ${first_display}; trying again")
endforeach()
message(STATUS "${out}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "pvbatch ${SCRIPT} ${RUN} failed (${result}):\n${err}")
endif()
file(GLOB shots ${OUTPUT}/view_t*.png)
list(LENGTH shots n)
if(n LESS 3)
  message(FATAL_ERROR "pvbatch wrote ${n} screenshots, expected 3:\n${out}\n${err}")
endif()
foreach(shot ${shots})
  file(SIZE ${shot} size)
  if(size LESS 2000)
    message(FATAL_ERROR "${shot} is ${size} bytes: no picture")
  endif()
endforeach()
message(STATUS "pvbatch wrote ${n} screenshots")
