# sim/sim.mk - the certctl world on the engine: identity, agents, fleet (library sim/libsim.a).
noinst_LIBRARIES += sim/libsim.a
sim_libsim_a_SOURCES = sim/identity.c sim/identity.h
