# sim/operator.mk - build fragment (included by Makefile.am).
