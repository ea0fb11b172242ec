/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One route lookup over rtnetlink: see portcullis/route.h. */
#include <errno.h>
#include <stdbool.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "apply/nlquery.h"
#include "portcullis/route.h"

struct answer {
	uint32_t oif;
	bool got;
};

static int route_attr(const struct nlattr *a, void *data)
{
	struct answer *an = data;

	if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		an->oif = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int route_msg(const struct nlmsghdr *nlh, void *data)
{
	struct answer *an = data;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	an->got = true;
	return mnl_attr_parse(nlh, sizeof(struct rtmsg), route_attr, data);
}

int pc_route_lookup(int family, const uint8_t *addr, const uint8_t *src, uint32_t mark,
		unsigned oif, char name[16])
{
	char buf[8192];
	struct mnl_socket *nl = NULL;
	struct answer an = {0, false};
	uint32_t seq = (uint32_t)time(NULL);
	int ret = -1, err = 0;

	if (family != 4 && family != 6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family == 4 ? AF_INET : AF_INET6;
	rtm->rtm_dst_len = family == 4 ? 32 : 128;
	mnl_attr_put(nlh, RTA_DST, family == 4 ? 4 : 16, addr);
	/* The source selects the table under policy routing (`ip rule from ...`). */
	if (src) {
		rtm->rtm_src_len = family == 4 ? 32 : 128;
		mnl_attr_put(nlh, RTA_SRC, family == 4 ? 4 : 16, src);
	}
	if (mark)
		mnl_attr_put_u32(nlh, RTA_MARK, mark);
	if (oif)
		mnl_attr_put_u32(nlh, RTA_OIF, oif);

	nl = pc_nlquery_open(NETLINK_ROUTE);
	if (!nl || pc_nlquery(nl, nlh, buf, sizeof(buf), route_msg, &an, &an.got) < 0) {
		err = errno;
		goto out;
	}
	if (!an.oif) {
		err = ENOENT;
		goto out;
	}
	if (!if_indextoname(an.oif, name)) {
		err = errno;
		goto out;
	}
	ret = 0;
out:
	return pc_nlquery_close(nl, ret, err);
}
