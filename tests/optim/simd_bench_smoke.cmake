# simd_bench runs end to end at a tiny size: JSON with a row per plan and target (and the plain
# scalar loop), a PNG from gnuplot, and exit code 2 for a bad option.
execute_process(COMMAND ${BENCH} --sizes 1000 --threads 1,2 --reps 1 --json --png ${WORK}/chart.png
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "simd_bench failed (${code}):\n${err}")
endif()
string(JSON rows LENGTH "${out}" results)
string(REGEX MATCHALL "\"target\": \"scalar\"" scalar "${out}")
list(LENGTH scalar scalar_rows)
if(NOT scalar_rows EQUAL 28)  # 14 plans x 2 thread counts
  message(FATAL_ERROR "expected 28 scalar rows, got ${scalar_rows}:\n${out}")
endif()
# One target per plan, size and thread count is the one a trainer would pick (width.hpp).
string(REGEX MATCHALL "\"picked\": true" picked "${out}")
list(LENGTH picked picked_rows)
if(NOT picked_rows EQUAL 28)
  message(FATAL_ERROR "expected 28 picked rows (14 plans x 2 thread counts), got ${picked_rows}")
endif()
if(NOT EXISTS ${WORK}/chart.png)
  message(FATAL_ERROR "no chart written")
endif()
execute_process(COMMAND ${BENCH} --optimizers Nope RESULT_VARIABLE code ERROR_VARIABLE err)
if(NOT code EQUAL 2 OR NOT err MATCHES "^error: --optimizers: unknown plan 'Nope'")
  message(FATAL_ERROR "a bad option must exit with 2 and one line, got ${code}: ${err}")
endif()
message(STATUS "simd_bench: ${rows} rows and a chart")
