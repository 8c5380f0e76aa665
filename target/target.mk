# target/target.mk - build fragment (included by Makefile.am).
