/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pw_maps.h - every map of the datapath, defined alike in ingress.bpf.c and
 * egress.bpf.c; the loader creates them once (from the ingress object) and
 * hands the same maps to the egress object (bpf_map__reuse_fd). Layouts are
 * in include/portwall.h; sizes marked "set by the loader" are placeholders
 * the loader overrides before load. */
#ifndef PW_MAPS_H
#define PW_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "portwall.h"

/* Which half is in force, and each half's configuration. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_state);
} pw_state SEC(".maps");

/* The decision array, both halves: index = active * PW_SLOT_COUNT + slot.
 * Memory-mapped by the loader, which writes a half with one copy. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2 * PW_SLOT_COUNT);
	__type(key, __u32);
	__type(value, struct pw_slot);
} pw_slots SEC(".maps");

/* The peer tries, one per half; the loader creates each inner trie sized to
 * its policy (with the key and value BTF below) and swaps it in.
 * pw_peer_tmpl is the inner maps' template. clang only emits a struct into
 * BTF in full when something holds it by value, so pw_peer_btf does. */
const volatile struct {
	struct pw_peer_key key;
	struct pw_peer_val val;
} pw_peer_btf = {};

struct pw_peer_trie {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct pw_peer_key);
	__type(value, struct pw_peer_val);
} pw_peer_tmpl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct pw_peer_trie);
} pw_peers SEC(".maps");

/* The peer classes of both halves (include/portwall.h, "Peer classes"):
 * pw_class_words words a half, set by the loader (it sizes the map to two
 * halves of them). Memory-mapped by the loader, like pw_slots. */
const volatile __u32 pw_class_words = 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2);		/* set by the loader: 2 * pw_class_words */
	__type(key, __u32);
	__type(value, __u32);
} pw_classes SEC(".maps");

/* Timed exceptions, one map for both halves (portwall.h): a reload and a
 * rollback keep them. Filled by `portwall allow`, emptied of expired
 * entries by the agent; the datapath itself ignores an expired one. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, PW_EXC_CAPACITY);
	__type(key, struct pw_exc_key);
	__type(value, struct pw_exc_val);
} pw_exc SEC(".maps");

/* The flat IPv4 lookup of both halves (include/portwall.h): pw_flat4_chunks
 * chunks a half, set by the loader. Memory-mapped by the loader. */
const volatile __u32 pw_flat4_chunks = 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2);		/* set by the loader: 2 * pw_flat4_chunks */
	__type(key, __u32);
	__type(value, struct pw_chunk);
} pw_flat4 SEC(".maps");


/* TCP flows the host opened. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_CT_CAPACITY);	/* set by the loader */
	__type(key, struct pw_ct_key);
	__type(value, struct pw_ct_val);
} pw_ct SEC(".maps");

/* Every other flow the host opened (UDP, ICMP echo, ...): a budget apart
 * from pw_ct, so a flood of datagrams evicts no TCP flow (portwall.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_CT_CAPACITY / PW_CT_DGRAM_SHARE);	/* set by the loader */
	__type(key, struct pw_ct_key);
	__type(value, struct pw_ct_val);
} pw_ct_dgram SEC(".maps");

/* Flows a peer started, for the host's replies (portwall.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_CT_CAPACITY / PW_CT_IN_SHARE);	/* set by the loader */
	__type(key, struct pw_ct_key);
	__type(value, struct pw_ct_val);
} pw_ct_in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_FRAG_CAPACITY);
	__type(key, struct pw_frag_key);
	__type(value, struct pw_frag_val);
} pw_frags SEC(".maps");

/* Each peer's share of pw_frags. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_FRAG_SRC_CAPACITY);
	__type(key, struct pw_frag_src_key);
	__type(value, struct pw_frag_src_val);
} pw_frag_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4 * 1024);		/* set by the loader: 2 halves * 2 dirs * capacity */
	__type(key, __u32);
	__type(value, struct pw_counter);
} pw_rule_stats SEC(".maps");

/* Rules' fingerprints and carried counts: userspace only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * 1024);		/* set by the loader: 2 * rule capacity */
	__type(key, __u32);
	__type(value, struct pw_rule_info);
} pw_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_DIR_COUNT * PW_R_COUNT);
	__type(key, __u32);
	__type(value, struct pw_counter);
} pw_reason_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_SLOT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} pw_port_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_stats);
} pw_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_bucket);
} pw_ratelimit SEC(".maps");

/* What is applied: written and read by userspace only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_meta);
} pw_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} pw_events SEC(".maps");

#endif
