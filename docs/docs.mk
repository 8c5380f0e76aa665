# docs/docs.mk - documentation and deployment examples shipped in the distribution tarball
# (each area's own fragment lists the docs it owns; these are the shared ones).
EXTRA_DIST += docs/distributed.md docs/metrics.md docs/scenarios.md \
	deploy/kubernetes/fleetsim-indexed-job.yaml deploy/systemd/fleetsim-soak.service
