# bench/bench.mk - shared benchmark files (each area adds its own benchmarks in its fragment).
EXTRA_DIST += bench/README.md
