# seed/seed.mk - build fragment (included by Makefile.am).
