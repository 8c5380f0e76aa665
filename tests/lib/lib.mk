# tests/lib/lib.mk - build fragment (included by Makefile.am).
