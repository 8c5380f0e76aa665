# target/store.mk - build fragment (included by Makefile.am).
