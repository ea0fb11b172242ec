/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's listening sockets over inet_diag, and their processes: see portcullis/listening.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "apply/nlquery.h"
#include "portcullis/listening.h"
#include "util.h"

/* Dumps a kernel overran (ENOBUFS) are read again at most this many times. */
#define DUMP_TRIES 3
/* Processes and descriptors looked at, at most, while finding owners. */
#define PROC_MAX_PIDS 100000
#define PROC_MAX_FDS 1000000

struct reading {
	struct pc_listeners *l;
	enum pc_proto proto;
	size_t first; /* this dump's first socket, to forget them when it is read again */
};

static int socket_attr(const struct nlattr *a, void *data)
{
	struct pc_listener *s = data;

	if (mnl_attr_get_type(a) == INET_DIAG_SKV6ONLY && mnl_attr_validate(a, MNL_TYPE_U8) == 0)
		s->v6only = mnl_attr_get_u8(a) != 0;
	return MNL_CB_OK;
}

static int socket_msg(const struct nlmsghdr *nlh, void *data)
{
	static const uint8_t v4mapped[12] = {[10] = 0xff, [11] = 0xff};
	struct reading *r = data;
	struct pc_listeners *l = r->l;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			mnl_nlmsg_get_payload_len(nlh) < sizeof(struct inet_diag_msg))
		return MNL_CB_OK;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	if (m->id.idiag_sport == 0 || (m->idiag_family != AF_INET && m->idiag_family != AF_INET6))
		return MNL_CB_OK;
	if (l->n >= PC_LISTENERS_MAX) {
		l->truncated++;
		return MNL_CB_OK;
	}
	l->v = pc_grow(l->v, l->n, sizeof(*l->v));
	struct pc_listener *s = &l->v[l->n++];
	memset(s, 0, sizeof(*s));
	s->proto = r->proto;
	s->family = m->idiag_family == AF_INET ? 4 : 6;
	memcpy(s->addr, m->id.idiag_src, s->family == 4 ? 4 : 16);
	if (s->family == 6 && !memcmp(s->addr, v4mapped, 12)) {
		s->family = 4;
		memmove(s->addr, s->addr + 12, 4);
		memset(s->addr + 4, 0, 12);
	}
	s->port = ntohs(m->id.idiag_sport);
	s->ifindex = m->id.idiag_if;
	if (s->ifindex && !if_indextoname(s->ifindex, s->ifname))
		s->ifname[0] = '\0';
	s->uid = m->idiag_uid;
	s->inode = m->idiag_inode;
	return mnl_attr_parse(nlh, sizeof(*m), socket_attr, s);
}

/* One family's sockets of one protocol: 0 when done, -1 on errors. */
static int dump(struct mnl_socket *nl, uint32_t seq, int af, struct reading *r, char *buf,
		size_t size)
{
	for (int tries = 0;; tries++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_seq = seq + (uint32_t)tries;
		struct inet_diag_req_v2 *req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
		req->sdiag_family = (uint8_t)af;
		req->sdiag_protocol = r->proto == PC_PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP;
		/* UDP has no LISTEN: a socket no connect() tied to a peer is in CLOSE. */
		req->idiag_states = r->proto == PC_PROTO_TCP ? 1u << TCP_LISTEN : 1u << TCP_CLOSE;
		req->id.idiag_cookie[0] = req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
		r->first = r->l->n;
		if (pc_nlquery(nl, nlh, buf, size, socket_msg, r, NULL) == 0)
			return 0;
		if (errno != ENOBUFS || tries + 1 >= DUMP_TRIES)
			return -1;
		/* Overrun: what this dump gave is incomplete; read it again. */
		r->l->n = r->first;
	}
}

void pc_listeners_init(struct pc_listeners *l)
{
	memset(l, 0, sizeof(*l));
}

void pc_listeners_finish(struct pc_listeners *l)
{
	free(l->v);
	pc_listeners_init(l);
}

int pc_listeners_read(struct pc_listeners *l)
{
	static const int afs[] = {AF_INET, AF_INET6};
	static const enum pc_proto protos[] = {PC_PROTO_TCP, PC_PROTO_UDP};
	const size_t size = 65536;
	char *buf = xmalloc(size);
	struct mnl_socket *nl;
	uint32_t seq = (uint32_t)time(NULL);
	int ret = 0, err = 0;

	pc_listeners_finish(l);
	nl = pc_nlquery_open(NETLINK_SOCK_DIAG);
	if (!nl) {
		err = errno;
		ret = -1;
		goto out;
	}
	for (size_t k = 0; k < PC_ARRAY_SIZE(protos) && ret == 0; k++)
		for (size_t f = 0; f < PC_ARRAY_SIZE(afs) && ret == 0; f++) {
			struct reading r = {.l = l, .proto = protos[k]};
			seq += DUMP_TRIES;
			if (dump(nl, seq, afs[f], &r, buf, size) < 0) {
				err = errno;
				ret = -1;
			}
		}
	if (ret == 0) {
		unsigned lo = 32768, hi = 60999; /* the kernel's default */
		FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
		if (f) {
			if (fscanf(f, "%u %u", &lo, &hi) != 2)
				lo = 32768, hi = 60999;
			fclose(f);
		}
		for (size_t i = 0; i < l->n; i++)
			l->v[i].ephemeral = l->v[i].proto == PC_PROTO_UDP && l->v[i].port >= lo &&
					    l->v[i].port <= hi;
		pc_listeners_owners(l, "/proc");
		pc_listeners_sort(l);
	}
out:
	free(buf);
	return pc_nlquery_close(nl, ret, err);
}

static int by_inode(const void *a, const void *b)
{
	const struct pc_listener *x = a, *y = b;
	return (x->inode > y->inode) - (x->inode < y->inode);
}

/* Whether `s` is all digits: a process's directory in /proc. */
static bool is_pid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* The process's name from PROC/PID/comm, without the newline that ends it; "" when it cannot be
 * read. */
static void read_comm(int pidfd, char comm[16])
{
	char buf[64] = {0};
	int fd = openat(pidfd, "comm", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n') /* the kernel's end of line; a name may hold others */
		buf[n - 1] = '\0';
	buf[15] = '\0';
	memcpy(comm, buf, 16);
}

void pc_listeners_owners(struct pc_listeners *l, const char *proc)
{
	DIR *d = l->n ? opendir(proc) : NULL;
	size_t pids = 0, fds = 0;

	if (!l->n)
		return;
	if (!d) {
		l->proc_missing = true;
		return;
	}
	/* Sorted by inode, each descriptor is found with a binary search. */
	qsort(l->v, l->n, sizeof(*l->v), by_inode);
	for (struct dirent *e; (e = readdir(d)) && pids < PROC_MAX_PIDS;) {
		if (!is_pid(e->d_name))
			continue;
		pids++;
		long pid = strtol(e->d_name, NULL, 10);
		int pidfd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pidfd < 0)
			continue; /* gone meanwhile */
		int fdfd = openat(pidfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *fdd = fdfd < 0 ? NULL : fdopendir(fdfd);
		if (!fdd) {
			if (errno == EACCES || errno == EPERM)
				l->proc_denied++;
			if (fdfd >= 0)
				close(fdfd);
			close(pidfd);
			continue;
		}
		for (struct dirent *f; (f = readdir(fdd)) && fds < PROC_MAX_FDS;) {
			char link[64];
			unsigned long long ino;
			char end;
			if (!is_pid(f->d_name))
				continue;
			fds++;
			ssize_t n = readlinkat(dirfd(fdd), f->d_name, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (sscanf(link, "socket:[%llu%c", &ino, &end) != 2 || end != ']')
				continue;
			struct pc_listener key = {.inode = ino};
			struct pc_listener *s = bsearch(&key, l->v, l->n, sizeof(*l->v), by_inode);
			if (!s)
				continue;
			/* Every socket of that inode (one each per dump), lowest pid first. */
			while (s > l->v && s[-1].inode == ino)
				s--;
			for (; s < l->v + l->n && s->inode == ino; s++)
				if (!s->pid || pid < s->pid) {
					s->pid = pid;
					read_comm(pidfd, s->comm);
				}
		}
		closedir(fdd);
		close(pidfd);
	}
	closedir(d);
}

static int by_place(const void *a, const void *b)
{
	const struct pc_listener *x = a, *y = b;
	int c;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->addr, y->addr, 16);
	if (c)
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (x->inode > y->inode) - (x->inode < y->inode);
}

void pc_listeners_sort(struct pc_listeners *l)
{
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), by_place);
}
