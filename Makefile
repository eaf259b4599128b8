# portwall - eBPF/XDP port-allowlist enforcement.
#   make            build build/portwall
#   make test       install Debian deps, build, run every test (ASan/UBSan + valgrind)
#   make demo       install Debian deps, build, run the demo
#   make V=1        show the commands
.DELETE_ON_ERROR:
.SECONDARY:

BUILD   ?= build
CC      ?= gcc
V       ?= 0
Q        = $(if $(filter 1,$(V)),,@)
msg      = $(if $(filter 1,$(V)),,@printf '  %-7s %s\n' $(1) $(2))

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARN) $(CPPFLAGS) $(CFLAGS) -Iinclude -Iuser
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

SHARED_H := include/portwall.h
USER_H   := $(wildcard user/*/*.h) $(SHARED_H)

# BPF: one object per attach point, a libbpf skeleton for each
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH_INC := -I/usr/include/$(shell gcc -dumpmachine)
BPF_CFLAGS := -g -O2 -target bpf -Wall -Wextra -Werror -Wno-unused-parameter \
              -Wno-missing-field-initializers $(ARCH_INC) -Iinclude
BPF_H    := $(wildcard bpf/*.h) $(SHARED_H)
BPF_PROGS := ingress egress clock
SKELS    := $(BPF_PROGS:%=$(BUILD)/bpf/%.skel.h)
# the library layers' own: JSON (jansson) for every JSON that leaves portwall
LIB_LIBS := -ljansson
LIBS     := -lbpf -lelf -lz -lresolv -lsystemd -lsmartcols -lmicrohttpd $(LIB_LIBS)

# userspace in layers (docs/architecture.md): lib/ <- policy/ <- datapath/ <- cli/
# lib and policy need no kernel (unit tests and fuzzers link them alone)
LIB_SRCS := $(wildcard user/lib/*.c user/policy/*.c)
# the parts that talk to the kernel (libbpf, the skeletons)
DP_SRCS  := $(wildcard user/datapath/*.c)
CMD_SRCS := $(wildcard user/cli/*.c)

LIB_OBJS     := $(LIB_SRCS:user/%.c=$(BUILD)/obj/%.o)
DP_OBJS      := $(DP_SRCS:user/%.c=$(BUILD)/obj/%.o)
CMD_OBJS     := $(CMD_SRCS:user/%.c=$(BUILD)/obj/%.o) $(DP_OBJS)
SAN_LIB_OBJS := $(LIB_SRCS:user/%.c=$(BUILD)/san/%.o)
SAN_DP_OBJS  := $(DP_SRCS:user/%.c=$(BUILD)/san/%.o)
SAN_CMD_OBJS := $(CMD_SRCS:user/%.c=$(BUILD)/san/%.o) $(SAN_DP_OBJS)
BPF_TESTS    := $(patsubst tests/bpf/%.c,%,$(wildcard tests/bpf/test_*.c))

UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

.PHONY: all deps test demo bench bench-live clean install uninstall fuzz deb
all: $(BUILD)/portwall

deps:
	$(Q)scripts/deps.sh

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_H) | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(BUILD)/obj/%.o: user/%.c $(USER_H) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -I$(BUILD)/bpf -c $< -o $@

$(BUILD)/san/%.o: user/%.c $(USER_H) $(SKELS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -I$(BUILD)/bpf -O1 $(SAN) -c $< -o $@

$(BUILD)/portwall: $(CMD_OBJS) $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

# the CLI built with sanitizers, for the CLI tests
$(BUILD)/san/portwall: $(SAN_CMD_OBJS) $(SAN_LIB_OBJS)
	$(call msg,LD-SAN,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) $^ $(LIBS) -o $@

# libFuzzer harnesses: clang, ASan and UBSan, the library sources linked in
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Iinclude -Iuser -Itests/unit
FUZZ_SECONDS ?= 60
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRCS) $(USER_H) tests/unit/oracle.h | $(BUILD)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) $< $(LIB_SRCS) $(LIB_LIBS) -o $@

fuzz: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/fuzz/fuzz_policy $(BUILD)/fuzz/fuzz_packet $(BUILD)/fuzz/fuzz_import \
		$(BUILD)/fuzz/fuzz_gateway
	$(Q)BUILD=$(BUILD) scripts/fuzz.sh $(FUZZ_SECONDS)

# the e2e tests' traffic tool
$(BUILD)/pwprobe: tests/e2e/pwprobe.c | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< -o $@

# BPF_PROG_TEST_RUN tests (root): the loader and libbpf linked in
$(BUILD)/tests/%: tests/bpf/%.c tests/harness.h tests/vendor_rows.h tests/dns_msg.h $(wildcard tests/bpf/*.h) $(LIB_OBJS) $(DP_OBJS) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -I$(BUILD)/bpf -Itests $< $(LIB_OBJS) $(DP_OBJS) $(LIBS) -o $@

$(BUILD)/tests/san-%: tests/bpf/%.c tests/harness.h tests/vendor_rows.h tests/dns_msg.h $(wildcard tests/bpf/*.h) $(SAN_LIB_OBJS) $(SAN_DP_OBJS) | $(BUILD)/tests
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SAN) -I$(BUILD)/bpf -Itests $< $(SAN_LIB_OBJS) $(SAN_DP_OBJS) $(LIBS) -o $@

# unit tests: one binary per tests/unit/test_*.c, with and without sanitizers
$(BUILD)/tests/%: tests/unit/%.c tests/harness.h tests/vendor_rows.h $(LIB_OBJS) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -Ibench $< $(LIB_OBJS) $(LIB_LIBS) -o $@

$(BUILD)/tests/san-%: tests/unit/%.c tests/harness.h tests/vendor_rows.h $(SAN_LIB_OBJS) | $(BUILD)/tests
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SAN) -Itests -Ibench $< $(SAN_LIB_OBJS) $(LIB_LIBS) -o $@

# benchmarks (root): BPF_PROG_TEST_RUN ns/packet as ratios to an empty program
$(BUILD)/bench/%.bpf.o: bench/%.bpf.c | $(BUILD)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/%.skel.h: $(BUILD)/bench/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(BUILD)/bench/bench_prog: bench/bench_prog.c bench/scale_policy.h bench/bench_stats.h $(LIB_OBJS) $(DP_OBJS) \
		$(BUILD)/bench/empty.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -I$(BUILD)/bpf -I$(BUILD)/bench -Ibench $< $(LIB_OBJS) $(DP_OBJS) \
		$(LIBS) -o $@

# the datapath's programs without the DNS learner (bench only): what it adds
$(BUILD)/bench/%_nodns.bpf.o: bpf/%.bpf.c $(BPF_H) | $(BUILD)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DPW_BENCH_NO_DNS -c $< -o $@

$(BUILD)/bench/bench_dns: bench/bench_dns.c bench/bench_stats.h tests/dns_msg.h $(LIB_OBJS) $(DP_OBJS) \
		$(BUILD)/bench/empty.skel.h $(BUILD)/bench/ingress_nodns.skel.h $(BUILD)/bench/egress_nodns.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -I$(BUILD)/bpf -I$(BUILD)/bench -Ibench -Itests $< $(LIB_OBJS) $(DP_OBJS) \
		$(LIBS) -o $@

$(BUILD)/bench/live_gen.bpf.o: bench/live_gen.bpf.c bench/live.h | $(BUILD)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ibench -c $< -o $@

$(BUILD)/bench/live: bench/live.c bench/live.h $(LIB_OBJS) $(BUILD)/bench/live_gen.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -I$(BUILD)/bench -Ibench $< $(LIB_OBJS) $(LIBS) -o $@

$(BUILD)/bench/gen_scale: bench/gen_scale.c bench/scale_policy.h | $(BUILD)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Ibench $< -o $@

# tracked flows written straight into a pinned pw_ct (bench/reload.sh)
$(BUILD)/bench/ct_fill: bench/ct_fill.c include/portwall.h | $(BUILD)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIBS) -o $@

bench: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/bench/bench_prog $(BUILD)/bench/bench_dns $(BUILD)/bench/gen_scale \
		$(BUILD)/bench/ct_fill $(BUILD)/portwall
	$(Q)$(BUILD)/bench/bench_prog $(BENCH_ARGS)
	$(Q)$(BUILD)/bench/bench_dns $(BENCH_DNS_ARGS)
	$(Q)PORTWALL=$(BUILD)/portwall GEN_SCALE=$(BUILD)/bench/gen_scale CT_FILL=$(BUILD)/bench/ct_fill bench/reload.sh
	$(Q)PORTWALL=$(BUILD)/portwall bench/first_apply.sh

# live packet rates on a veth pair: portwall against nftables, iptables,
# xdp-filter and an empty XDP drop (root; BENCH_ROUNDS, BENCH_PACKETS)
bench-live:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory $(BUILD)/bench/live $(BUILD)/bench/empty.bpf.o $(BUILD)/bench/gen_scale \
		$(BUILD)/portwall
	$(Q)BUILD=$(BUILD) bench/live.sh

$(BUILD)/obj $(BUILD)/san $(BUILD)/tests $(BUILD)/bpf $(BUILD)/bench $(BUILD)/fuzz:
	$(Q)mkdir -p $@

test: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/portwall $(BUILD)/san/portwall $(BUILD)/pwprobe \
		$(BUILD)/bench/empty.bpf.o $(BUILD)/fuzz/fuzz_policy $(BUILD)/fuzz/fuzz_packet $(BUILD)/fuzz/fuzz_import $(BUILD)/fuzz/fuzz_gateway \
		$(UNIT_TESTS:%=$(BUILD)/tests/%) $(UNIT_TESTS:%=$(BUILD)/tests/san-%) \
		$(BPF_TESTS:%=$(BUILD)/tests/%) $(BPF_TESTS:%=$(BUILD)/tests/san-%)
	$(Q)BUILD=$(BUILD) BPF_TESTS="$(BPF_TESTS)" scripts/run-tests.sh $(UNIT_TESTS)

demo: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/portwall $(BUILD)/pwprobe
	$(Q)scripts/demo.sh

# install (PREFIX, DESTDIR): the binary (the BPF objects are embedded in it
# through the skeletons), the shipped policies (vendor files, replaced by the
# next install), the unit, the defaults (naming no policy: nothing is
# enforced until the operator sets them), man pages, completion
PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
DATADIR    ?= $(PREFIX)/share
POLICYDIR  ?= $(DATADIR)/portwall/policies
PROMDIR    ?= $(DATADIR)/portwall/prometheus
MANDIR     ?= $(DATADIR)/man
# systemd's own directory for /usr, the local one (searched by systemd too)
# for any other prefix, e.g. /usr/local/lib/systemd/system
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
COMPDIR    ?= $(DATADIR)/bash-completion/completions
SYSCONFDIR ?= /etc
INSTALLED  := $(DESTDIR)$(SBINDIR)/portwall $(DESTDIR)$(UNITDIR)/portwall.service \
              $(DESTDIR)$(MANDIR)/man8/portwall.8 $(DESTDIR)$(MANDIR)/man5/portwall.policy.5 \
              $(DESTDIR)$(COMPDIR)/portwall $(wildcard $(DESTDIR)$(POLICYDIR)/*.policy) \
              $(wildcard $(DESTDIR)$(POLICYDIR)/*.gateway) \
              $(DESTDIR)$(PROMDIR)/portwall.rules.yml

install: $(BUILD)/portwall
	install -D -m 0755 $(BUILD)/portwall $(DESTDIR)$(SBINDIR)/portwall
	install -d -m 0755 $(DESTDIR)$(POLICYDIR)
	install -m 0644 policies/*.policy $(DESTDIR)$(POLICYDIR)/
	install -m 0644 policies/*.gateway $(DESTDIR)$(POLICYDIR)/
	install -D -m 0644 packaging/prometheus/portwall.rules.yml $(DESTDIR)$(PROMDIR)/portwall.rules.yml
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/portwall
	sed 's|/usr/share/portwall/policies|$(POLICYDIR)|g' packaging/etc-README > $(BUILD)/etc-README
	install -m 0644 $(BUILD)/etc-README $(DESTDIR)$(SYSCONFDIR)/portwall/README
	sed 's|/usr/share/portwall/policies|$(POLICYDIR)|g' packaging/portwall.default > $(BUILD)/portwall.default
	[ -e $(DESTDIR)$(SYSCONFDIR)/default/portwall ] || \
		install -D -m 0644 $(BUILD)/portwall.default $(DESTDIR)$(SYSCONFDIR)/default/portwall
	sed -e 's|/usr/sbin/portwall|$(SBINDIR)/portwall|' -e 's|/usr/share/portwall/policies|$(POLICYDIR)|g' \
		packaging/portwall.service > $(BUILD)/portwall.service
	install -D -m 0644 $(BUILD)/portwall.service $(DESTDIR)$(UNITDIR)/portwall.service
	install -D -m 0644 docs/man/portwall.8 $(DESTDIR)$(MANDIR)/man8/portwall.8
	install -D -m 0644 docs/man/portwall.policy.5 $(DESTDIR)$(MANDIR)/man5/portwall.policy.5
	install -D -m 0644 packaging/portwall.bash-completion $(DESTDIR)$(COMPDIR)/portwall

# the operator's files (/etc/portwall/, /etc/default/portwall) are left in place
uninstall:
	rm -f $(INSTALLED)
	-rmdir $(DESTDIR)$(POLICYDIR) $(DESTDIR)$(PROMDIR) $(DESTDIR)$(DATADIR)/portwall 2>/dev/null

# the Debian package (debian/), built from a copy of the tree so that
# dpkg-buildpackage's outputs (it writes them to the parent directory) land in
# DEBDIR: DEBDIR/portwall_VERSION_ARCH.deb
DEBDIR ?= build/deb
deb:
	$(Q)scripts/deps.sh
	rm -rf $(DEBDIR)
	mkdir -p $(DEBDIR)/src
	tar --exclude=./build --exclude=./.git --exclude=./debian/build -cf - . | tar -C $(DEBDIR)/src -xf -
	cd $(DEBDIR)/src && dpkg-buildpackage -us -uc -b
	rm -rf $(DEBDIR)/src
	ls $(DEBDIR)/*.deb

clean:
	rm -rf $(BUILD)
