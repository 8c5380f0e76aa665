# engine/parse.mk - build fragment (included by Makefile.am).
