/* cmd_unload.c - `portwall unload [--iface IF]`: detach and remove pins;
 * afterwards nothing of portwall remains (with --iface: that interface
 * only, and the rest when it was the last). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "datapath/state.h"
#include "datapath/unload.h"
#include "cli/cmds.h"

struct uargs {
	const char *root;
	const char *only;	/* --iface, NULL: every interface */
	const char *netns;	/* --netns: only to say when it is not the one applied in */
};

/* Returns -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct uargs *a)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' }, { "pin-root", required_argument, NULL, 'p' },
		{ "netns", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "i:h", lo, NULL)) != -1) {
		switch (c) {
		case 'i': a->only = optarg; break;
		case 'p': a->root = optarg; break;
		case 'n': a->netns = optarg; break;
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
	return -1;
}

/* Where it was, before it is taken off. */
static void tell_found(void *ctx, const struct pw_unload *u)
{
	const struct uargs *a = ctx;

	if (a->netns && strcmp(a->netns, u->meta.netns) != 0)
		fprintf(stderr, "portwall unload: note: it was applied in network namespace \"%s\"\n", u->meta.netns);
	if (u->pin_only)
		fprintf(stderr, "portwall unload: %s; detaching by pin only\n", u->ns_err);
}

static void tell_detached(void *ctx, const struct pw_iface *f)
{
	(void)ctx;
	printf("detached from %s\n", f->name);
}

static void tell_not_on(const struct uargs *a, const struct pw_unload *u)
{
	fprintf(stderr, "portwall unload: portwall is not on \"%s\" (it is on", a->only);
	for (int i = 0; i < u->meta.niface; i++)
		fprintf(stderr, " %s", u->meta.iface[i].name);
	fprintf(stderr, ")\n");
}

int cmd_unload(int argc, char **argv)
{
	struct uargs a = { .root = PW_PIN_ROOT };
	struct pw_unload_tell tell = { .found = tell_found, .detached = tell_detached, .ctx = &a };
	struct pw_unload u;
	char err[600];
	int rc = parse_args(argc, argv, &a);

	if (rc >= 0)
		return rc;
	if (pw_need_root("unload"))
		return PW_EXIT_FAIL;
	rc = pw_unload(a.root, a.only, &tell, &u, err, sizeof(err));
	if (rc && !u.not_on) {
		fprintf(stderr, "portwall unload: %s%s\n", err, u.partial ? "; removing the pins anyway" : "");
		if (u.links_by_pin)
			printf("detached %d XDP link%s by pin\n", u.links_by_pin, u.links_by_pin == 1 ? "" : "s");
		return PW_EXIT_FAIL;
	}
	if (u.nothing) {
		printf("portwall unload: nothing is loaded under %s\n", a.root);
		return PW_EXIT_OK;
	}
	if (u.not_on) {
		tell_not_on(&a, &u);
		return PW_EXIT_FAIL;
	}
	if (u.kept)
		return PW_EXIT_OK;
	if (u.not_empty)
		fprintf(stderr, "portwall unload: %s is not empty (something else is pinned there): left in place\n",
			a.root);
	printf("unloaded: nothing of portwall remains under %s\n", a.root);
	return PW_EXIT_OK;
}
