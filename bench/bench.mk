# bench/bench.mk - shared benchmark files (each area adds its own benchmarks in its fragment).
EXTRA_DIST += bench/README.md
EXTRA_DIST += bench/soak_bench.sh
