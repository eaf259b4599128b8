/* cmd_version.c - `portwall version`: this build, libbpf, and what the
 * running kernel offers portwall. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cli/cmds.h"

static const char *yes(int probe)
{
	return probe > 0 ? "yes" : probe == 0 ? "no" : "unknown (needs root)";
}

int cmd_version(int argc, char **argv)
{
	struct utsname u;
	int maj = 0, min = 0;

	if (argc > 1) {
		bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
		fprintf(help && argc == 2 ? stdout : stderr, "usage: portwall version\n"
			"  This build, libbpf, and what the running kernel offers portwall.\n");
		if (help && argc == 2)
			return PW_EXIT_OK;
		fprintf(stderr, "portwall version: unexpected \"%s\"\n", argv[1]);
		return PW_EXIT_USAGE;
	}
	printf("portwall %s\n", PW_VERSION);
	printf("libbpf %u.%u\n", libbpf_major_version(), libbpf_minor_version());
	if (uname(&u) == 0) {
		printf("kernel %s (%s)\n", u.release, u.machine);
		sscanf(u.release, "%d.%d", &maj, &min);
	}
	int root = geteuid() == 0;
	printf("  BPF ring buffer:   %s\n", yes(root ? libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) : -1));
	printf("  LPM trie:          %s\n", yes(root ? libbpf_probe_bpf_map_type(BPF_MAP_TYPE_LPM_TRIE, NULL) : -1));
	printf("  XDP programs:      %s\n", yes(root ? libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) : -1));
	printf("  tc programs:       %s\n", yes(root ? libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL) : -1));
	printf("  tcx (kernel 6.6+): %s; this build attaches tc egress with clsact\n",
	       maj > 6 || (maj == 6 && min >= 6) ? "yes" : "no");
	printf("  native XDP on an interface: `portwall apply --xdp-mode native` says\n");
	return PW_EXIT_OK;
}
