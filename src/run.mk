# src/run.mk - `fleetsim run` (owner: fleet): setup, pre-flight, the control loop and the report.
fleetsim_SOURCES += src/cmd_run.c src/cmd_run.h src/run_internal.h src/run_setup.c \
	src/run_control.c src/run_report.c src/preflight.c src/preflight.h
