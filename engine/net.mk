# engine/net.mk - build fragment (included by Makefile.am).
