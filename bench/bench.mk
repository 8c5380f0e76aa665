# bench/bench.mk - shared benchmark files (each area adds its own benchmarks in its fragment).
EXTRA_DIST += bench/README.md
EXTRA_DIST += bench/soak_bench.sh
# target_url: the URL fleetsim-target printed (sourced by the scripts that start it)
EXTRA_DIST += bench/target_url.sh
# the CPU floor of one event-loop wake-up on this machine (bench/fleet_bench.sh prints it)
noinst_PROGRAMS += bench/wake_bench
bench_wake_bench_SOURCES = bench/wake_bench.c
# the floor under fleetsim's CPU per TLS heartbeat: the same heartbeats over the same keep-alive
# TLS connections from a bare epoll client (bench/fleet_bench.sh runs it as a peer)
noinst_PROGRAMS += bench/tls_floor
bench_tls_floor_SOURCES = bench/tls_floor.c
bench_tls_floor_LDADD = engine/libnet.a $(DEPLIBS)
