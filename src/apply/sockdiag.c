/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One TCP socket search over inet_diag: see portcullis/sockdiag.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "apply/nlquery.h"
#include "portcullis/sockdiag.h"

struct want {
	size_t alen;
	uint8_t local[16], remote[16]; /* as the dumped family writes them */
	uint16_t lport, rport; /* network order */
	bool found;
	struct pc_sock_route route;
};

static int socket_attr(const struct nlattr *a, void *data)
{
	struct want *w = data;

	if (mnl_attr_get_type(a) == INET_DIAG_MARK && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		w->route.mark = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int socket_msg(const struct nlmsghdr *nlh, void *data)
{
	struct want *w = data;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			mnl_nlmsg_get_payload_len(nlh) < sizeof(struct inet_diag_msg))
		return MNL_CB_OK;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	if (m->idiag_state == TCP_ESTABLISHED && m->id.idiag_sport == w->lport &&
			m->id.idiag_dport == w->rport &&
			!memcmp(m->id.idiag_src, w->local, w->alen) &&
			!memcmp(m->id.idiag_dst, w->remote, w->alen) && !w->found) {
		w->found = true;
		w->route.ifindex = m->id.idiag_if;
		return mnl_attr_parse(nlh, sizeof(*m), socket_attr, w);
	}
	return MNL_CB_OK;
}

/* Dumps one family's established TCP sockets; 0 when done, -1 on errors. */
static int dump(struct mnl_socket *nl, uint32_t seq, int af, struct want *w)
{
	char buf[16384];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	struct inet_diag_req_v2 *req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = (uint8_t)af;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = 1u << TCP_ESTABLISHED;
	return pc_nlquery(nl, nlh, buf, sizeof(buf), socket_msg, w, NULL);
}

int pc_sockdiag_established(int family, const uint8_t *local, uint16_t lport, const uint8_t *remote,
		uint16_t rport, struct pc_sock_route *route)
{
	static const uint8_t v4mapped[12] = {[10] = 0xff, [11] = 0xff};
	struct mnl_socket *nl = NULL;
	struct want w = {.lport = htons(lport), .rport = htons(rport)};
	uint32_t seq = (uint32_t)time(NULL);
	int ret = -1, err = 0;

	if (family != 4 && family != 6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	nl = pc_nlquery_open(NETLINK_SOCK_DIAG);
	if (!nl) {
		err = errno;
		goto out;
	}
	w.alen = family == 4 ? 4 : 16;
	memcpy(w.local, local, w.alen);
	memcpy(w.remote, remote, w.alen);
	if (dump(nl, seq, family == 4 ? AF_INET : AF_INET6, &w) < 0) {
		err = errno;
		goto out;
	}
	/* An IPv4 peer of a dual-stack listener is on an IPv6 socket. */
	if (!w.found && family == 4) {
		w.alen = 16;
		memcpy(w.local, v4mapped, 12);
		memcpy(w.local + 12, local, 4);
		memcpy(w.remote, v4mapped, 12);
		memcpy(w.remote + 12, remote, 4);
		if (dump(nl, seq + 1, AF_INET6, &w) < 0) {
			err = errno;
			goto out;
		}
	}
	ret = w.found;
	if (w.found && route)
		*route = w.route;
out:
	return pc_nlquery_close(nl, ret, err);
}
