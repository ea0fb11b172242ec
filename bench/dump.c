// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pc-bench-dump TABLE: a bare netlink dump of table inet TABLE, the floor
 * `show` and `diff` are measured against: the same requests (its sets, the
 * elements of each, its chains, its rules) read into a buffer of the same
 * size, each answer only counted, nothing parsed but the set names.  Prints
 * the messages and bytes read.  A benchmark tool, never part of the tests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#define RECV_BUF (128 * 1024) /* as src/apply/dump.c */

static struct mnl_socket *nl;
static char *buf;
static unsigned long msgs, bytes;
static char **names;
static size_t nnames;

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)data;
	msgs++;
	bytes += nlh->nlmsg_len;
	return MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();

	count_cb(nlh, data);
	if (s && nftnl_set_nlmsg_parse(nlh, s) == 0) {
		names = realloc(names, (nnames + 1) * sizeof(*names));
		if (!names)
			exit(1);
		names[nnames++] = strdup(nftnl_set_get_str(s, NFTNL_SET_NAME));
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static void talk(struct nlmsghdr *nlh, mnl_cb_t cb)
{
	uint32_t seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	ssize_t len;
	int ret;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("pc-bench-dump: sendto");
		exit(1);
	}
	do {
		len = mnl_socket_recvfrom(nl, buf, RECV_BUF);
		ret = len < 0 ? -1 : mnl_cb_run(buf, (size_t)len, seq, portid, cb, NULL);
	} while (ret > 0);
	if (ret < 0) {
		fprintf(stderr, "pc-bench-dump: %s\n", strerror(errno));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	const char *table = argc > 1 ? argv[1] : "portcullis";
	uint32_t seq = (uint32_t)time(NULL);
	struct nlmsghdr *nlh;

	buf = malloc(RECV_BUF);
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!buf || !nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("pc-bench-dump");
		return 1;
	}
	struct nftnl_set *s = nftnl_set_alloc();
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_DUMP, seq++);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	talk(nlh, set_cb);
	for (size_t i = 0; i < nnames; i++) {
		s = nftnl_set_alloc();
		nlh = nftnl_nlmsg_build_hdr(
				buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP, seq++);
		nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, names[i]);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		talk(nlh, count_cb);
		free(names[i]);
	}
	free(names);
	struct nftnl_chain *c = nftnl_chain_alloc();
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP, seq++);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	talk(nlh, count_cb);
	struct nftnl_rule *r = nftnl_rule_alloc();
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, seq++);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	talk(nlh, count_cb);
	printf("%lu messages, %lu bytes\n", msgs, bytes);
	mnl_socket_close(nl);
	free(buf);
	return 0;
}
