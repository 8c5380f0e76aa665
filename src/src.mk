# src/src.mk - the fleetsim program: declared here, sources added by src/cli.mk and src/run.mk.
bin_PROGRAMS += fleetsim
fleetsim_SOURCES =
fleetsim_LDADD = src/libcli.a target/libtarget.a target/libacme.a target/libstore.a \
	seed/libseed.a sim/libsim.a engine/libnet.a engine/libjose.a engine/libmeasure.a \
	engine/libparse.a $(DEPLIBS)
