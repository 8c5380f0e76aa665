# bench/bench.mk - build fragment (included by Makefile.am).
