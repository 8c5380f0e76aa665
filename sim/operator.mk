# sim/operator.mk - the operator actor (bulk-renewal campaigns) in sim/libsim.a, the run's glue
# in fleetsim, and their tests (included by Makefile.am after sim/sim.mk).
sim_libsim_a_SOURCES += sim/operator.c sim/operator.h sim/operator_plan.c
