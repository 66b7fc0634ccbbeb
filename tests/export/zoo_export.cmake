# kiln-zoo export NAME OUT, then onnx.checker on OUT (full check: shapes inferred too).
file(REMOVE ${OUT})
execute_process(COMMAND ${ZOO} export ${NAME} ${OUT} RESULT_VARIABLE code OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT code EQUAL 0 OR NOT out STREQUAL "onnx=${OUT}\n")
  message(FATAL_ERROR "kiln-zoo export ${NAME} failed (${code}): ${out}${err}")
endif()
execute_process(COMMAND ${PYTHON} -c "import sys, onnx; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print([n.op_type for n in m.graph.node])" ${OUT}
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "onnx.checker refused ${OUT}: ${err}")
endif()
message(STATUS "${NAME}: ${out}")
