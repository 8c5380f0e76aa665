# engine/outputs.mk - build fragment (included by Makefile.am after src/src.mk, because it
# appends to fleetsim_SOURCES and fleetsim_LDADD): the Prometheus exposition, the
# --metrics-listen endpoint and the HTML report (engine/liboutputs.a), the `fleetsim merge` and
# `fleetsim report` commands, and their unit tests.
noinst_LIBRARIES += engine/liboutputs.a
engine_liboutputs_a_SOURCES = \
	engine/prometheus.c engine/prometheus.h \
	engine/metrics_http.c engine/metrics_http.h \
	engine/report_html.c engine/report_html_svg.c engine/report_html_charts.c \
	engine/report_html_file.c engine/report_html.h engine/report_html_private.h

fleetsim_SOURCES += src/cmd_merge.c src/cmd_merge.h src/cmd_report.c src/cmd_report.h \
	src/cmd_outputs.c src/cmd_outputs.h
# liboutputs.a uses libmeasure.a and libparse.a: they follow it again here, so this line works
# wherever it lands on fleetsim's link line.
fleetsim_LDADD += engine/liboutputs.a engine/libmeasure.a engine/libparse.a $(DEPLIBS)

OUTPUTS_TEST_LDADD = tests/lib/libtesthelp.a engine/liboutputs.a engine/libmeasure.a \
	engine/libparse.a $(DEPLIBS) $(TEST_LIBS)
OUTPUTS_FIXTURE = tests/unit/outputs_fixture.c tests/unit/outputs_fixture.h

check_PROGRAMS += tests/unit/check_prometheus tests/unit/check_report_html tests/unit/check_merge
TESTS += tests/unit/check_prometheus tests/unit/check_report_html tests/unit/check_merge
tests_unit_check_report_html_SOURCES = tests/unit/check_report_html.c $(OUTPUTS_FIXTURE)
tests_unit_check_report_html_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_report_html_LDADD = $(OUTPUTS_TEST_LDADD)
tests_unit_check_prometheus_SOURCES = tests/unit/check_prometheus.c $(OUTPUTS_FIXTURE)
tests_unit_check_prometheus_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_prometheus_LDADD = $(OUTPUTS_TEST_LDADD)
tests_unit_check_merge_SOURCES = tests/unit/check_merge.c $(OUTPUTS_FIXTURE) \
	src/cmd_merge.c src/cmd_outputs.c
tests_unit_check_merge_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_merge_LDADD = $(OUTPUTS_TEST_LDADD)
