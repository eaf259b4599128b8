# portwall - eBPF/XDP port-allowlist enforcement.
#   make            build build/portwall
#   make test       install Debian deps, build, run every test (ASan/UBSan + valgrind)
#   make demo       install Debian deps, build, run the demo
#   make V=1        show the commands
.DELETE_ON_ERROR:

BUILD   ?= build
CC      ?= gcc
V       ?= 0
Q        = $(if $(filter 1,$(V)),,@)
msg      = $(if $(filter 1,$(V)),,@printf '  %-7s %s\n' $(1) $(2))

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -Iinclude -Iuser
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

SHARED_H := include/portwall.h
USER_H   := $(wildcard user/*.h) $(SHARED_H)

LIB_SRCS := user/addr.c user/diag.c user/names.c user/parse.c user/compile.c \
            user/analyze.c user/sha256.c user/json.c user/explain.c user/common.c
CMD_SRCS := user/main.c user/cmd_check.c user/cmd_explain.c

LIB_OBJS     := $(LIB_SRCS:user/%.c=$(BUILD)/obj/%.o)
CMD_OBJS     := $(CMD_SRCS:user/%.c=$(BUILD)/obj/%.o)
SAN_LIB_OBJS := $(LIB_SRCS:user/%.c=$(BUILD)/san/%.o)
SAN_CMD_OBJS := $(CMD_SRCS:user/%.c=$(BUILD)/san/%.o)

UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

.PHONY: all deps test unit-test cli-test demo clean
all: $(BUILD)/portwall

deps:
	$(Q)scripts/deps.sh

$(BUILD)/obj/%.o: user/%.c $(USER_H) | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/san/%.o: user/%.c $(USER_H) | $(BUILD)/san
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SAN) -c $< -o $@

$(BUILD)/portwall: $(CMD_OBJS) $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ -o $@

# the CLI built with sanitizers, for the CLI tests
$(BUILD)/san/portwall: $(SAN_CMD_OBJS) $(SAN_LIB_OBJS)
	$(call msg,LD-SAN,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) $^ -o $@

# unit tests: one binary per tests/unit/test_*.c, with and without sanitizers
$(BUILD)/tests/%: tests/unit/%.c tests/harness.h $(LIB_OBJS) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests $< $(LIB_OBJS) -o $@

$(BUILD)/tests/san-%: tests/unit/%.c tests/harness.h $(SAN_LIB_OBJS) | $(BUILD)/tests
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SAN) -Itests $< $(SAN_LIB_OBJS) -o $@

$(BUILD)/obj $(BUILD)/san $(BUILD)/tests:
	$(Q)mkdir -p $@

test: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/portwall $(BUILD)/san/portwall \
		$(UNIT_TESTS:%=$(BUILD)/tests/%) $(UNIT_TESTS:%=$(BUILD)/tests/san-%)
	$(Q)BUILD=$(BUILD) scripts/run-tests.sh $(UNIT_TESTS)

demo: deps all
	$(Q)scripts/demo.sh

clean:
	rm -rf $(BUILD)
