// SPDX-License-Identifier: GPL-2.0
/*
 * kasan-ebpf benchmark: a program shaped like a real packet-parsing one.
 * Parses Ethernet, IPv4 and UDP/TCP headers from the packet (direct packet
 * access through skb->data), counts packets per protocol in an array map
 * with atomics, and keeps per-flow counters in a hash map: lookups,
 * branches, field loads and stores, the mix a KASAN check has to pay for
 * in production.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define TC_ACT_OK	0
#define TC_ACT_SHOT	2

struct bench_flow_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct bench_flow_stats {
	__u64 packets;
	__u64 bytes;
	__u64 ttl_sum;
	__u32 last_len;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct bench_flow_key);
	__type(value, struct bench_flow_stats);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} proto_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(__u32 why)
{
	__u64 *c = bpf_map_lookup_elem(&drops, &why);

	if (c)
		__sync_fetch_and_add(c, 1);
}

SEC("tc")
int mixed(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct bench_flow_key key = {};
	struct bench_flow_stats *st;
	struct iphdr *ip;
	__u32 proto;
	__u64 *pc;
	void *l4;

	if ((void *)(eth + 1) > data_end) {
		count_drop(0);
		return TC_ACT_SHOT;
	}
	if (eth->h_proto != bpf_htons(ETH_P_IP)) {
		count_drop(eth->h_proto == bpf_htons(ETH_P_IPV6) ? 1 : 2);
		return TC_ACT_OK;
	}
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl < 5) {
		count_drop(0);
		return TC_ACT_SHOT;
	}
	l4 = (void *)ip + ip->ihl * 4;
	key.saddr = ip->saddr;
	key.daddr = ip->daddr;
	key.proto = ip->protocol;

	proto = ip->protocol;
	pc = bpf_map_lookup_elem(&proto_count, &proto);
	if (pc)
		__sync_fetch_and_add(pc, 1);

	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > data_end) {
			count_drop(3);
			return TC_ACT_SHOT;
		}
		key.sport = bpf_ntohs(udp->source);
		key.dport = bpf_ntohs(udp->dest);
	} else if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end) {
			count_drop(3);
			return TC_ACT_SHOT;
		}
		key.sport = bpf_ntohs(tcp->source);
		key.dport = bpf_ntohs(tcp->dest);
	}

	st = bpf_map_lookup_elem(&flows, &key);
	if (!st) {
		struct bench_flow_stats init = {
			.packets = 1,
			.bytes = skb->len,
			.ttl_sum = ip->ttl,
			.last_len = skb->len,
		};

		bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST);
		return TC_ACT_OK;
	}
	st->packets++;
	st->bytes += skb->len;
	st->ttl_sum += ip->ttl;
	st->last_len = skb->len;
	if (ip->tos & 0xfc)
		st->flags |= 1;
	if (key.dport == 53 || key.sport == 53)
		st->flags |= 2;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
