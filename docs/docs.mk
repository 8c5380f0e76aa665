# docs/docs.mk - documentation and deployment examples shipped in the distribution tarball.
EXTRA_DIST += deploy/kubernetes/fleetsim-indexed-job.yaml deploy/systemd/fleetsim-soak.service
