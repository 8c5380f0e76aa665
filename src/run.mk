# src/run.mk - build fragment (included by Makefile.am).
