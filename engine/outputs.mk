# engine/outputs.mk - build fragment (included by Makefile.am).
