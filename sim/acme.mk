# sim/acme.mk - build fragment (included by Makefile.am).
