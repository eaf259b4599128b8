/* load_l3.c - the programs for interfaces without a link-layer header
 * (tun, WireGuard, ppp: docs/datapath.md, "Link types"), loaded onto the
 * maps of a datapath that has none. A first apply verifies them only when
 * one of its interfaces needs them; the first reload or re-attach that
 * meets such an interface loads them here, on the very maps in force, so
 * both pairs of programs keep sharing one state. */
#include "datapath/loader.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "datapath/skel_sizes.h"
#include "lib/diag.h"

/* Each map of obj on dp's map of that name; the ones no pin names (the
 * inner tries' template, the DNS parser's per-CPU scratch) the object
 * makes its own, as they hold no state. */
static int reuse_maps(const struct pw_dp *dp, struct bpf_object *obj, char *err, size_t n)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		int fd = pw_dp_map_fd(dp, bpf_map__name(m));
		if (fd < 0)
			continue;	/* .rodata and the stateless ones */
		int rc = bpf_map__reuse_fd(m, fd);
		if (rc)
			return pw_errf(err, n, rc, "sharing map %s with the programs for interfaces without a "
				       "link-layer header failed: %s", bpf_map__name(m), strerror(-rc));
	}
	return 0;
}

/* The L3 program of each object alone, with the sizes dp's maps have. */
static void pick_l3(const struct pw_dp *dp, struct ingress_bpf *in, struct egress_bpf *out)
{
	bpf_program__set_autoload(in->progs.pw_ingress, false);
	bpf_program__set_autoload(out->progs.pw_egress, false);
	pw_dp_skel_sizes(dp, in, out);
}

static int load_both(const struct pw_dp *dp, struct ingress_bpf *in, struct egress_bpf *out, char *err, size_t n)
{
	int rc = reuse_maps(dp, in->obj, err, n);

	if (!rc)
		rc = reuse_maps(dp, out->obj, err, n);
	if (rc)
		return rc;
	pick_l3(dp, in, out);
	rc = ingress_bpf__load(in);
	if (!rc)
		rc = egress_bpf__load(out);
	if (rc)
		return pw_errf(err, n, rc, "loading the programs for interfaces without a link-layer header "
			       "failed: %s (run with -v for the verifier's log)", strerror(-rc));
	return 0;
}

/* The loaded programs' fds, ours now (the objects are closed after). */
static int take_l3(struct pw_dp *dp, struct ingress_bpf *in, struct egress_bpf *out, char *err, size_t n)
{
	int fin = dup(bpf_program__fd(in->progs.pw_ingress_l3));
	int fout = fin < 0 ? -1 : dup(bpf_program__fd(out->progs.pw_egress_l3));

	if (fout < 0) {
		int rc = -errno;
		if (fin >= 0)
			close(fin);
		return pw_errf(err, n, rc, "keeping the programs for interfaces without a link-layer header: %s",
			       strerror(-rc));
	}
	for (int d = 0; d < PW_DIR_COUNT; d++)	/* one of a pair pinned before */
		if (dp->prog_l3_fd[d] >= 0 && (dp->pinned || dp->l3_later))
			close(dp->prog_l3_fd[d]);
	dp->prog_l3_fd[PW_DIR_IN] = fin;
	dp->prog_l3_fd[PW_DIR_OUT] = fout;
	dp->l3_later = true;
	return 0;
}

int pw_dp_load_l3(struct pw_dp *dp, bool verbose, char *err, size_t n)
{
	if (dp->prog_l3_fd[PW_DIR_IN] >= 0 && dp->prog_l3_fd[PW_DIR_OUT] >= 0)
		return 0;
	if (!dp->class_words || !dp->flat4_chunks)	/* their maps' sizes not read from the pins */
		return pw_errf(err, n, -EPROTO, "the sizes of pw_classes and pw_flat4 are unknown: the programs for "
			       "interfaces without a link-layer header cannot be loaded on these maps (portwall "
			       "unload, then apply again)");
	pw_dp_set_verbose(verbose);
	struct ingress_bpf *in = ingress_bpf__open();
	struct egress_bpf *out = egress_bpf__open();
	int rc = in && out ? 0 : pw_errf(err, n, -errno, "opening the BPF objects failed: %s", strerror(errno));

	if (!rc)
		rc = load_both(dp, in, out, err, n);
	if (!rc)
		rc = take_l3(dp, in, out, err, n);
	egress_bpf__destroy(out);
	ingress_bpf__destroy(in);
	return rc;
}
