/* cmd_unload.c - `portwall unload [--iface IF]`: detach and remove pins;
 * afterwards nothing of portwall remains (with --iface: that interface
 * only, and the rest when it was the last). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "datapath/state.h"
#include "datapath/attach.h"
#include "cli/cmds.h"

int cmd_unload(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' }, { "pin-root", required_argument, NULL, 'p' },
		{ "netns", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *root = PW_PIN_ROOT, *only = NULL, *netns = NULL;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "i:h", lo, NULL)) != -1) {
		switch (c) {
		case 'i': only = optarg; break;
		case 'p': root = optarg; break;
		case 'n': netns = optarg; break;
		case 'h':
			printf("usage: portwall unload [--iface IF] [--pin-root DIR] [--netns NAME]\n"
			       "  Detach the programs and remove every pin; with --iface, from that\n"
			       "  interface only (the rest goes when it was the last).\n");
			return PW_EXIT_OK;
		default:
			fprintf(stderr, "usage: portwall unload [--iface IF] [--pin-root DIR] [--netns NAME]\n");
			return PW_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "portwall unload: unexpected \"%s\"\n", argv[optind]);
		return PW_EXIT_USAGE;
	}
	if (pw_need_root("unload"))
		return PW_EXIT_FAIL;
	char err[600], pin[600];
	int lock = pw_lock(root, err, sizeof(err));
	if (lock < 0) {
		fprintf(stderr, "portwall unload: %s\n", err);
		return PW_EXIT_FAIL;
	}
	struct pw_dp dp;
	int rc = pw_dp_open_pinned(&dp, root, err, sizeof(err));
	if (rc == -ENOENT) {
		printf("portwall unload: nothing is loaded under %s\n", root);
		close(lock);
		return PW_EXIT_OK;
	}
	struct pw_meta m;
	if (rc || pw_dp_read_meta(&dp, &m)) {
		/* a partial load: clear what can be cleared */
		fprintf(stderr, "portwall unload: %s; removing the pins anyway\n", rc ? err : strerror(errno));
		if (!rc)
			pw_dp_close(&dp);
		int nl = pw_link_unpin_all(root);
		if (nl)
			printf("detached %d XDP link%s by pin\n", nl, nl == 1 ? "" : "s");
		pw_dp_unpin(root);
		rmdir(root);
		close(lock);
		return PW_EXIT_FAIL;
	}
	if (netns && strcmp(netns, m.netns) != 0)
		fprintf(stderr, "portwall unload: note: it was applied in network namespace \"%s\"\n", m.netns);
	int saved = -1;
	bool ns_ok = pw_netns_enter(m.netns, &saved, err, sizeof(err)) == 0;
	if (!ns_ok)
		fprintf(stderr, "portwall unload: %s; detaching by pin only\n", err);
	struct pw_meta left = m;
	left.niface = 0;
	bool found = !only;
	for (int i = 0; i < m.niface; i++) {
		const struct pw_iface *f = &m.iface[i];
		if (only && strcmp(only, f->name) != 0) {
			left.iface[left.niface++] = *f;
			continue;
		}
		found = true;
		pw_link_pin(root, f->name, pin, sizeof(pin));
		pw_detach_xdp(pin);
		if (ns_ok && f->tc_mode && pw_tc_attached((int)f->ifindex, dp.prog_fd[PW_DIR_OUT]) == 1)
			pw_detach_tc((int)f->ifindex, f->tc_mode);
		printf("detached from %s\n", f->name);
	}
	if (ns_ok)
		pw_netns_leave(saved);
	if (!found) {
		fprintf(stderr, "portwall unload: portwall is not on \"%s\" (it is on", only);
		for (int i = 0; i < m.niface; i++)
			fprintf(stderr, " %s", m.iface[i].name);
		fprintf(stderr, ")\n");
		pw_dp_close(&dp);
		close(lock);
		return PW_EXIT_FAIL;
	}
	if (left.niface) {
		pw_dp_write_meta(&dp, &left);
		pw_dp_close(&dp);
		close(lock);
		return PW_EXIT_OK;
	}
	pw_dp_close(&dp);
	pw_dp_unpin(root);
	if (rmdir(root) && errno != ENOENT)
		fprintf(stderr, "portwall unload: %s is not empty (something else is pinned there): left in place\n",
			root);
	printf("unloaded: nothing of portwall remains under %s\n", root);
	close(lock);
	return PW_EXIT_OK;
}
