// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pc-bench-floor N hosts|prefixes: the floor `apply` is measured against.
 * It makes the kernel object apply makes for one network of N addresses,
 * and nothing else: table inet portcullis, the set n_big_v4 with the same
 * type, flags, key, declared size and user data, and the same elements
 * (hosts: 10.0.0.1, 10.0.0.2, ... in a hash set; prefixes: 10.0.0.0/30,
 * 10.0.0.8/30, ... in an interval set, each a start and an end element as
 * apply sends them), written as raw netlink attributes into one buffer and
 * sent in one sendmsg(), its send buffer raised to hold it.  No chain, no
 * rule, no generation check.  bench/apply.py writes the policy of the same
 * addresses (bench_addresses() there).  The buffer is sized for N once, as
 * apply sizes its batch, and zeroed by calloc(): a page is touched only
 * when written (it was a 1 MiB buffer set to zero whole, then doubled: 0.8
 * MiB of peak and about 1 ms at 10 000 hosts that no program needs).
 * Prints the messages and bytes sent;
 * exits 1 when the kernel refused the batch, 2 (sending nothing) when run
 * in the network namespace of process 1.  A benchmark tool, never part of
 * the tests.
 *
 * usage: pc-bench-floor N hosts|prefixes [ELEMENTS_PER_MESSAGE]
 *   ELEMENTS_PER_MESSAGE: as many as fit in a message (the default), or as
 *   apply sends them (256).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#define TABLE "portcullis"
#define SET "n_big_v4"
#define COMMENT "network big, IPv4"
#define KEY_TYPE_IPADDR 7 /* nft's ipv4_addr */
#define LIST_BYTES (60u << 10) /* an element list's attribute length has 16 bits */

static char *buf;
static size_t len, cap;
static uint32_t seq;

static struct nlmsghdr *msg(uint16_t type, uint16_t flags, uint8_t family)
{
	if (cap - len < 128 * 1024) { /* never, with the buffer main() sizes */
		size_t old = cap;
		cap = cap ? cap * 2 : 1u << 20;
		if (!(buf = realloc(buf, cap)))
			exit(2);
		memset(buf + old, 0, cap - old); /* attribute padding is sent too */
	}
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++seq;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(type == NFNL_MSG_BATCH_BEGIN || type == NFNL_MSG_BATCH_END
					  ? NFNL_SUBSYS_NFTABLES
					  : 0);
	return nlh;
}

static void end(struct nlmsghdr *nlh)
{
	len += nlh->nlmsg_len;
}

static uint16_t nft(int type)
{
	return (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | type);
}

/* The smallest power of two at least twice n, and at least 16: the size apply declares. */
static uint32_t declared_size(size_t n)
{
	uint32_t s = 16;

	while (s < 2 * n)
		s *= 2;
	return s;
}

/* One element: its key, and the interval-end flag. */
static void elem(struct nlmsghdr *nlh, uint32_t key, int is_end)
{
	struct nlattr *e = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	struct nlattr *k = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	uint32_t be = htonl(key);

	mnl_attr_put(nlh, NFTA_DATA_VALUE, sizeof(be), &be);
	mnl_attr_nest_end(nlh, k);
	if (is_end)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
	mnl_attr_nest_end(nlh, e);
}

struct elems {
	struct nlmsghdr *nlh;
	struct nlattr *list;
	size_t n, per_msg;
	unsigned msgs;
};

static void elems_flush(struct elems *w)
{
	if (!w->nlh)
		return;
	mnl_attr_nest_end(w->nlh, w->list);
	end(w->nlh);
	w->nlh = NULL;
	w->n = 0;
}

static void elems_add(struct elems *w, uint32_t key, int is_end)
{
	if (w->nlh && (w->n == w->per_msg ||
				      (char *)mnl_nlmsg_get_payload_tail(w->nlh) - (char *)w->list >
						      (long)LIST_BYTES))
		elems_flush(w);
	if (!w->nlh) {
		w->nlh = msg(nft(NFT_MSG_NEWSETELEM), NLM_F_CREATE, NFPROTO_INET);
		mnl_attr_put_strz(w->nlh, NFTA_SET_ELEM_LIST_TABLE, TABLE);
		mnl_attr_put_strz(w->nlh, NFTA_SET_ELEM_LIST_SET, SET);
		mnl_attr_put_u32(w->nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(1));
		w->list = mnl_attr_nest_start(w->nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		w->msgs++;
	}
	elem(w->nlh, key, is_end);
	w->n++;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4 || (strcmp(argv[2], "hosts") && strcmp(argv[2], "prefixes"))) {
		fprintf(stderr, "usage: pc-bench-floor N hosts|prefixes [ELEMENTS_PER_MESSAGE]\n");
		return 2;
	}
	size_t n = strtoul(argv[1], NULL, 10);
	int prefixes = !strcmp(argv[2], "prefixes");
	struct elems w = {.per_msg = argc == 4 ? strtoul(argv[3], NULL, 10) : SIZE_MAX};
	if (!n || n > (prefixes ? 1u << 21 : 1u << 24) - 1 || !w.per_msg) {
		fprintf(stderr, "pc-bench-floor: N from 1 to %u\n",
				(prefixes ? 1u << 21 : 1u << 24) - 1);
		return 2;
	}

	/*
	 * It makes table inet portcullis: never in the initial network namespace
	 * (its inode number is fixed, PROC_NET_INIT_INO) or in process 1's.
	 */
	struct stat self, init;
	if (stat("/proc/self/ns/net", &self) < 0 || self.st_ino == 0xEFFFFFF9u ||
			(stat("/proc/1/ns/net", &init) == 0 && self.st_dev == init.st_dev &&
					self.st_ino == init.st_ino)) {
		fprintf(stderr, "pc-bench-floor: run it in a network namespace of its own "
				"(unshare -n): it makes table inet portcullis\n");
		return 2;
	}

	/*
	 * At most 24 bytes an element (a key, an end flag), two an address with
	 * prefixes, and a message's headers every 256 elements or fewer.
	 */
	cap = (256u << 10) + (2 * n + 1) * 32;
	if (!(buf = calloc(cap, 1)))
		return 2;
	end(msg(NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC));
	struct nlmsghdr *nlh = msg(nft(NFT_MSG_NEWTABLE), NLM_F_CREATE, NFPROTO_INET);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, TABLE);
	end(nlh);

	/* The set's user data as apply writes it: key byte order (big endian), comment. */
	uint8_t udata[2 + 4 + 2 + sizeof(COMMENT)];
	uint32_t order = 2;
	udata[0] = 0, udata[1] = 4;
	memcpy(udata + 2, &order, 4);
	udata[6] = 7, udata[7] = sizeof(COMMENT);
	memcpy(udata + 8, COMMENT, sizeof(COMMENT));
	nlh = msg(nft(NFT_MSG_NEWSET), NLM_F_CREATE, NFPROTO_INET);
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, TABLE);
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, SET);
	mnl_attr_put_u32(nlh, NFTA_SET_FLAGS, htonl(prefixes ? NFT_SET_INTERVAL : 0));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_TYPE, htonl(KEY_TYPE_IPADDR));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_LEN, htonl(4));
	mnl_attr_put_u32(nlh, NFTA_SET_ID, htonl(1));
	struct nlattr *desc = mnl_attr_nest_start(nlh, NFTA_SET_DESC);
	mnl_attr_put_u32(nlh, NFTA_SET_DESC_SIZE, htonl(declared_size(n)));
	mnl_attr_nest_end(nlh, desc);
	mnl_attr_put(nlh, NFTA_SET_USERDATA, sizeof(udata), udata);
	end(nlh);

	const uint32_t base = 10u << 24;
	if (prefixes)
		elems_add(&w, 0, 1); /* the first interval does not start at zero */
	for (size_t i = 0; i < n; i++) {
		if (prefixes) {
			uint32_t lo = base + (uint32_t)i * 8;
			elems_add(&w, lo, 0);
			elems_add(&w, lo + 4, 1);
		} else {
			elems_add(&w, base + (uint32_t)i + 1, 0);
		}
	}
	elems_flush(&w);
	end(msg(NFNL_MSG_BATCH_END, 0, AF_UNSPEC));

	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("pc-bench-floor: netlink");
		return 1;
	}
	int fd = mnl_socket_get_fd(nl), size = (int)len;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (mnl_socket_sendto(nl, buf, len) < 0) {
		perror("pc-bench-floor: sendmsg");
		return 1;
	}
	/* The kernel answers inside sendmsg(): an error is queued by now, success says nothing. */
	char ack[MNL_SOCKET_BUFFER_SIZE];
	ssize_t got = recv(fd, ack, sizeof(ack), MSG_DONTWAIT);
	if (got > 0) {
		struct nlmsghdr *r = (struct nlmsghdr *)ack;
		if (r->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = mnl_nlmsg_get_payload(r);
			if (e->error) {
				fprintf(stderr, "pc-bench-floor: refused: %s\n",
						strerror(-e->error));
				return 1;
			}
		}
	}
	printf("%zu %s, %u element messages, %zu bytes in one sendmsg()\n", n, argv[2], w.msgs,
			len);
	mnl_socket_close(nl);
	free(buf);
	return 0;
}
