# engine/measure.mk - build fragment (included by Makefile.am).
