# engine/measure.mk - build fragment (included by Makefile.am): clock, histogram, metrics
# registry, thresholds and report writers (engine/libmeasure.a), their unit tests and the
# histogram benchmark.
noinst_LIBRARIES += engine/libmeasure.a
engine_libmeasure_a_SOURCES = \
	engine/clock.c engine/clock.h \
	engine/hist.c engine/hist_json.c engine/hist.h \
	engine/metrics.c engine/metrics_tagged.c engine/metrics_merge.c \
	engine/metrics.h engine/metrics_private.h \
	engine/threshold.c engine/threshold_eval.c engine/threshold.h \
	engine/report_text.c engine/report_progress.c engine/report_text.h \
	engine/report_json.c engine/report_json_read.c engine/report_interval.c \
	engine/report_json.h engine/report_json_private.h engine/report.h

MEASURE_TEST_LDADD = tests/lib/libtesthelp.a engine/libmeasure.a $(DEPLIBS) $(TEST_LIBS)

check_PROGRAMS += tests/unit/check_hist tests/unit/check_metrics \
	tests/unit/check_threshold tests/unit/check_report
TESTS += tests/unit/check_hist tests/unit/check_metrics \
	tests/unit/check_threshold tests/unit/check_report
tests_unit_check_hist_SOURCES = tests/unit/check_hist.c
tests_unit_check_hist_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_hist_LDADD = $(MEASURE_TEST_LDADD)
tests_unit_check_metrics_SOURCES = tests/unit/check_metrics.c
tests_unit_check_metrics_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_metrics_LDADD = $(MEASURE_TEST_LDADD)
tests_unit_check_threshold_SOURCES = tests/unit/check_threshold.c
tests_unit_check_threshold_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_threshold_LDADD = $(MEASURE_TEST_LDADD)
tests_unit_check_report_SOURCES = tests/unit/check_report.c
tests_unit_check_report_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_report_LDADD = $(MEASURE_TEST_LDADD)

noinst_PROGRAMS += bench/hist_bench
bench_hist_bench_SOURCES = bench/hist_bench.c
bench_hist_bench_LDADD = engine/libmeasure.a $(DEPLIBS)
