/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The evaluator: what the resolved policy does with one packet, first match
 * wins as in an nft chain.  It is the oracle the kernel tests compare against.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "portcullis/policy.h"

static bool prefix_has(const struct pc_prefix *x, const uint8_t *addr)
{
	for (unsigned bit = 0; bit < x->len; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit % 8));
		if ((x->bytes[bit / 8] ^ addr[bit / 8]) & m)
			return false;
	}
	return true;
}

static bool set_has(const struct pc_addrset *set, size_t npeers, const struct pc_packet *pkt)
{
	if (npeers == 0 || set->any)
		return true;
	if (!pkt->family)
		return false;
	const struct pc_prefix *v = pkt->family == 4 ? set->v4 : set->v6;
	size_t n = pkt->family == 4 ? set->nv4 : set->nv6;
	for (size_t i = 0; i < n; i++)
		if (prefix_has(&v[i], pkt->addr))
			return true;
	return false;
}

/* Whether the packet is on the rule's interfaces: 1, 0, or -1 when its interface is unknown. */
static int on_interface(const struct pc_rule *r, const struct pc_packet *pkt)
{
	if (!r->interface.n)
		return 1;
	if (!pkt->iface[0])
		return -1;
	return pc_ifaces_match(&r->interface, pkt->iface);
}

void pc_policy_evaluate(
		const struct pc_policy *p, const struct pc_packet *pkt, struct pc_decision *out)
{
	memset(out, 0, sizeof(*out));
	if (pkt->iface[0] && pkt->direction != PC_DIR_FORWARD && p->defaults.loopback &&
			!strcmp(pkt->iface, "lo")) {
		out->by_loopback = true;
		out->verdict = PC_VERDICT_ACCEPT;
		return;
	}
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pc_rule *r = &p->rules[i];

		if (r->direction != pkt->direction)
			continue;
		bool peer = pkt->direction == PC_DIR_OUTPUT ? set_has(&r->dst, r->nto, pkt)
							    : set_has(&r->src, r->nfrom, pkt);
		if (!peer)
			continue;
		for (size_t k = 0; k < r->nmatches; k++) {
			const struct pc_match *m = &r->matches[k];
			if (m->proto != pkt->proto || pkt->port < m->lo || pkt->port > m->hi)
				continue;
			int on = on_interface(r, pkt);
			if (on < 0)
				out->skipped_interface++;
			if (on <= 0)
				break;
			out->by_rule = true;
			out->rule = i;
			out->match = k;
			out->action = r->action;
			out->verdict = r->action == PC_ACTION_ALLOW ? PC_VERDICT_ACCEPT
								    : PC_VERDICT_DROP;
			return;
		}
	}
	out->verdict = pkt->direction == PC_DIR_INPUT	 ? p->defaults.input
		       : pkt->direction == PC_DIR_OUTPUT ? p->defaults.output
							 : p->defaults.forward;
}

static int parse_addr(const char *s, struct pc_packet *pkt)
{
	if (inet_pton(AF_INET, s, pkt->addr) == 1) {
		pkt->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, pkt->addr) == 1) {
		pkt->family = 6;
		return 0;
	}
	return -1;
}

/*
 * A trailing "in NAME" (the interface a packet comes in on) or "out NAME"
 * (the one a packet this host sends leaves by): taken off the words and
 * written to pkt->iface.  Returns 0 for none, 1 for in, 2 for out, -1.
 */
static int packet_interface(char **tok, int *n, struct pc_packet *pkt, char *err, size_t errlen)
{
	if (*n < 2 || (strcmp(tok[*n - 2], "in") && strcmp(tok[*n - 2], "out")))
		return 0;
	const char *name = tok[*n - 1];
	size_t len = strlen(name);
	if (len >= sizeof(pkt->iface) ||
			strspn(name, "abcdefghijklmnopqrstuvwxyz"
				     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != len) {
		snprintf(err, errlen, "'%s' is not an interface name", name);
		return -1;
	}
	memcpy(pkt->iface, name, len + 1);
	*n -= 2;
	return strcmp(tok[*n], "in") ? 2 : 1;
}

int pc_packet_parse(const char *s, struct pc_packet *pkt, char *err, size_t errlen)
{
	char buf[256], *tok[8];
	int n = 0, on;

	memset(pkt, 0, sizeof(*pkt));
	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "the packet is too long to be one");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t;
			t = strtok_r(NULL, " \t", &save)) {
		if (n == 8) {
			snprintf(err, errlen, "too many words");
			return -1;
		}
		tok[n++] = t;
	}
	if ((on = packet_interface(tok, &n, pkt, err, errlen)) < 0)
		return -1;
	int i = 0;
	pkt->direction = PC_DIR_INPUT;
	if (i < n && !strcmp(tok[i], "forward")) {
		pkt->direction = PC_DIR_FORWARD;
		i++;
	}
	int proto = i < n ? pc_proto_parse(tok[i]) : -1;
	if (proto < 0) {
		snprintf(err, errlen, "expected a protocol (tcp, udp, sctp or dccp) first");
		return -1;
	}
	pkt->proto = (enum pc_proto)proto;
	i++;
	const char *addr = NULL, *port = NULL;
	if (i < n && !strcmp(tok[i], "->")) {
		/* "-> DST PORT": a packet this host sends */
		if (pkt->direction == PC_DIR_FORWARD || n - i != 3) {
			snprintf(err, errlen, "expected: PROTO -> DESTINATION PORT");
			return -1;
		}
		pkt->direction = PC_DIR_OUTPUT;
		addr = tok[i + 1];
		port = tok[i + 2];
	} else {
		if (n - i != 3 || strcmp(tok[i + 1], "->")) {
			snprintf(err, errlen, "expected: PROTO SOURCE -> PORT");
			return -1;
		}
		addr = tok[i];
		port = tok[i + 2];
	}
	if (parse_addr(addr, pkt) < 0) {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", addr);
		return -1;
	}
	uint16_t lo, hi;
	if (pc_parse_port_range_public(port, &lo, &hi) < 0 || lo != hi || lo == 0) {
		snprintf(err, errlen, "'%s' is not a port (1-65535)", port);
		return -1;
	}
	pkt->port = lo;
	if (on && (on == 2) != (pkt->direction == PC_DIR_OUTPUT)) {
		snprintf(err, errlen,
				"a packet comes in on an interface (`in NAME`) or, sent by this host, goes out by one (`out NAME`)");
		return -1;
	}
	return 0;
}
