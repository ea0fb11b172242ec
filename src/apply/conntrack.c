/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One conntrack lookup over ctnetlink: see portcullis/conntrack.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>

#include "apply/nlquery.h"
#include "portcullis/conntrack.h"

static int found_msg(const struct nlmsghdr *nlh, void *data)
{
	bool *found = data;

	if ((nlh->nlmsg_type & 0xff) == IPCTNL_MSG_CT_NEW)
		*found = true;
	return MNL_CB_OK;
}

/* Returns 1 (an entry with this original tuple), 0 (ENOENT) or -1. */
static int get_one(struct mnl_socket *nl, uint32_t seq, int family, const uint8_t *src,
		uint16_t sport, const uint8_t *dst, uint16_t dport)
{
	char buf[8192];
	bool found = false;
	size_t alen = family == 4 ? 4 : 16;

	/* The u8 attribute's padding is sent too: zero it. */
	memset(buf, 0, 1024);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family == 4 ? AF_INET : AF_INET6;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	struct nlattr *tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, family == 4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, alen, src);
	mnl_attr_put(nlh, family == 4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, alen, dst);
	mnl_attr_nest_end(nlh, ip);
	struct nlattr *proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_TCP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, proto);
	mnl_attr_nest_end(nlh, tuple);

	/* The entry comes first, then the acknowledgement; none: ENOENT. */
	if (pc_nlquery(nl, nlh, buf, sizeof(buf), found_msg, &found, NULL) < 0)
		return errno == ENOENT ? 0 : -1;
	return found ? 1 : 0;
}

int pc_conntrack_tracked(
		int family, const uint8_t *a, uint16_t aport, const uint8_t *b, uint16_t bport)
{
	struct mnl_socket *nl = NULL;
	uint32_t seq = (uint32_t)time(NULL);
	int ret = -1, err = 0;

	if (family != 4 && family != 6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	nl = pc_nlquery_open(NETLINK_NETFILTER);
	if (!nl) {
		err = errno;
		goto out;
	}
	/* The original direction is the first packet conntrack saw: either side's. */
	ret = get_one(nl, seq, family, a, aport, b, bport);
	if (ret == 0)
		ret = get_one(nl, seq + 1, family, b, bport, a, aport);
	err = errno;
out:
	return pc_nlquery_close(nl, ret, err);
}

int pc_conntrack_tcp_loose(void)
{
	char c = 0;
	int fd = open("/proc/sys/net/netfilter/nf_conntrack_tcp_loose", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	ssize_t n = read(fd, &c, 1);
	int err = errno;
	close(fd);
	if (n != 1 || c < '0' || c > '9') {
		errno = n < 0 ? err : EIO;
		return -1;
	}
	return c != '0';
}
