# tests/integration/acceptance.mk - build fragment (included by Makefile.am).
