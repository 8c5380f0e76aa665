# docs/docs.mk - build fragment (included by Makefile.am).
