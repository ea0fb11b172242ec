/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The evaluator: what the resolved policy does with one packet, first match
 * wins as in an nft chain.  It is the oracle the kernel tests compare against.
 */
#include <arpa/inet.h>
#include <stdarg.h>
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

const struct pc_prefix *pc_addrset_find(
		const struct pc_addrset *set, int family, const uint8_t *addr)
{
	const struct pc_prefix *v = family == 4 ? set->v4 : set->v6;
	size_t n = family == 4 ? set->nv4 : set->nv6;

	for (size_t i = 0; i < n; i++)
		if (prefix_has(&v[i], addr))
			return &v[i];
	return NULL;
}

/* Whether one side of a rule lets the packet through: 1, 0, or -1 when the packet gives no address
 * there. */
static int set_has(const struct pc_addrset *set, size_t npeers, const struct pc_packet *pkt,
		bool given, const uint8_t *addr)
{
	if (npeers == 0 || set->any)
		return 1;
	if (!given)
		return -1;
	return pc_addrset_find(set, pkt->family, addr) != NULL;
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

		if (r->direction != pkt->direction ||
				(pkt->over_limit && (r->flags & PC_RULE_F_LIMIT)))
			continue;
		int src = set_has(&r->src, r->nfrom, pkt, pkt->has_src, pkt->src);
		int dst = set_has(&r->dst, r->nto, pkt, pkt->has_dst, pkt->dst);
		if (src == 0 || dst == 0)
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
			if (src < 0 || dst < 0) {
				out->skipped_destination++;
				break;
			}
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

/* ---- the packet's text ------------------------------------------------ */

#define MAX_WORDS 8

struct words {
	const char *s;
	char buf[256];
	char *w[MAX_WORDS + 1];
	unsigned col[MAX_WORDS + 1];
	int n;
};

__attribute__((format(printf, 3, 4))) static int fail(
		struct pc_packet_error *e, unsigned col, const char *fmt, ...)
{
	va_list ap;

	e->col = col;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* The column of word i, or just past the text when there is none. */
static unsigned col_of(const struct words *w, int i)
{
	return i < w->n ? w->col[i] : (unsigned)strlen(w->s) + 1;
}

static const char *word(const struct words *w, int i)
{
	return i < w->n ? w->w[i] : NULL;
}

static bool word_is(const struct words *w, int i, const char *s)
{
	return i < w->n && !strcmp(w->w[i], s);
}

static int split(struct words *w, const char *s, struct pc_packet_error *e)
{
	size_t len = strlen(s);

	w->s = s;
	w->n = 0;
	if (len >= sizeof(w->buf))
		return fail(e, (unsigned)sizeof(w->buf),
				"the packet is too long to be one (at most 255 characters)");
	memcpy(w->buf, s, len + 1);
	for (size_t k = 0; k < len;) {
		if (w->buf[k] == ' ' || w->buf[k] == '\t') {
			w->buf[k++] = '\0';
			continue;
		}
		if (w->n == MAX_WORDS)
			return fail(e, (unsigned)k + 1, "too many words: '%s' and what follows",
					w->buf + k);
		w->col[w->n] = (unsigned)k + 1;
		w->w[w->n++] = w->buf + k;
		while (k < len && w->buf[k] != ' ' && w->buf[k] != '\t')
			k++;
	}
	return 0;
}

static int parse_addr(const struct words *w, int i, struct pc_packet *pkt, bool dst,
		struct pc_packet_error *e)
{
	const char *s = word(w, i);
	uint8_t *addr = dst ? pkt->dst : pkt->src;
	uint8_t family = 0;

	if (!s)
		return fail(e, col_of(w, i), "expected %s address here",
				dst ? "a destination" : "a source");
	if (inet_pton(AF_INET, s, addr) == 1)
		family = 4;
	else if (inet_pton(AF_INET6, s, addr) == 1)
		family = 6;
	else
		return fail(e, col_of(w, i), "'%s' is not an IPv4 or IPv6 address", s);
	if (pkt->family && pkt->family != family)
		return fail(e, col_of(w, i),
				family == 4 ? "'%s' is IPv4, the source IPv6: a packet has one family"
					    : "'%s' is IPv6, the source IPv4: a packet has one family",
				s);
	pkt->family = family;
	*(dst ? &pkt->has_dst : &pkt->has_src) = true;
	return 0;
}

static int parse_port(
		const struct words *w, int i, struct pc_packet *pkt, struct pc_packet_error *e)
{
	const char *s = word(w, i);
	uint16_t lo, hi;

	if (!s)
		return fail(e, col_of(w, i), "expected a port or a service name here");
	if (strspn(s, "0123456789") == strlen(s)) {
		if (pc_parse_port_range_public(s, &lo, &hi) < 0 || lo == 0)
			return fail(e, col_of(w, i), "'%s' is not a port (1-65535)", s);
		pkt->port = lo;
		return 0;
	}
	if (!pc_service_name_ok(s) || strlen(s) >= sizeof(pkt->service))
		return fail(e, col_of(w, i), "'%s' is neither a port (1-65535) nor a service name",
				s);
	snprintf(pkt->service, sizeof(pkt->service), "%s", s);
	pkt->service_col = col_of(w, i);
	return 0;
}

static int parse_iface(
		const struct words *w, int i, struct pc_packet *pkt, struct pc_packet_error *e)
{
	const char *s = word(w, i);

	if (!s)
		return fail(e, col_of(w, i), "expected an interface name after '%s'",
				word(w, i - 1));
	if (strlen(s) >= sizeof(pkt->iface) ||
			strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
					strlen(s))
		return fail(e, col_of(w, i),
				"'%s' is not an interface name (at most 15 letters, digits, '.', '_' or '-')",
				s);
	memcpy(pkt->iface, s, strlen(s) + 1);
	return 0;
}

int pc_packet_parse(const char *s, struct pc_packet *pkt, struct pc_packet_error *e)
{
	struct words w;
	int i = 0;

	memset(pkt, 0, sizeof(*pkt));
	memset(e, 0, sizeof(*e));
	if (split(&w, s, e) < 0)
		return -1;
	pkt->direction = PC_DIR_INPUT;
	if (word_is(&w, i, "forward")) {
		pkt->direction = PC_DIR_FORWARD;
		i++;
	}
	int proto = word(&w, i) ? pc_proto_parse(word(&w, i)) : -1;
	if (proto < 0)
		return fail(e, col_of(&w, i), "expected a protocol (tcp, udp, sctp or dccp)%s",
				i ? " after 'forward'" : " first");
	pkt->proto = (enum pc_proto)proto;
	i++;
	if (word_is(&w, i, "->")) {
		/* "-> DST PORT": a packet this host sends */
		if (pkt->direction == PC_DIR_FORWARD)
			return fail(e, col_of(&w, i),
					"a forwarded packet names its source first: forward PROTO SOURCE -> [DESTINATION] PORT");
		pkt->direction = PC_DIR_OUTPUT;
		if (parse_addr(&w, i + 1, pkt, true, e) < 0 || parse_port(&w, i + 2, pkt, e) < 0)
			return -1;
		i += 3;
	} else {
		if (parse_addr(&w, i, pkt, false, e) < 0)
			return -1;
		if (!word_is(&w, i + 1, "->"))
			return fail(e, col_of(&w, i + 1), "expected '->' after the source address");
		i += 2;
		/* "-> DST PORT" or "-> PORT": the destination is optional */
		int k = i;
		while (k < w.n && strcmp(w.w[k], "in") && strcmp(w.w[k], "out"))
			k++;
		if (k == i)
			return fail(e, col_of(&w, i),
					"expected a port or a service name after '->'");
		if (k - i == 2) {
			if (parse_addr(&w, i, pkt, true, e) < 0)
				return -1;
			i++;
		} else if (k - i > 2) {
			return fail(e, col_of(&w, i + 2),
					"unexpected '%s': expected [DESTINATION] PORT after '->'",
					word(&w, i + 2));
		}
		if (parse_port(&w, i, pkt, e) < 0)
			return -1;
		i++;
	}
	if (word_is(&w, i, "in") || word_is(&w, i, "out")) {
		bool in = word_is(&w, i, "in");
		if (in != (pkt->direction != PC_DIR_OUTPUT))
			return fail(e, col_of(&w, i),
					in ? "a packet this host sends leaves by an interface: 'out IFACE', not '%s'"
					   : "a packet that arrives comes in on an interface: 'in IFACE', not '%s'",
					word(&w, i));
		if (parse_iface(&w, i + 1, pkt, e) < 0)
			return -1;
		i += 2;
	}
	if (i < w.n)
		return fail(e, col_of(&w, i), "unexpected '%s' after the packet", word(&w, i));
	return 0;
}

int pc_packet_resolve(
		const struct pc_registry *reg, struct pc_packet *pkt, struct pc_packet_error *e)
{
	struct pc_resolution res;
	const struct pc_port *one = NULL;
	size_t n = 0;
	int ret = -1;

	memset(e, 0, sizeof(*e));
	if (!pkt->service[0])
		return 0;
	e->col = pkt->service_col;
	pc_resolution_init(&res);
	switch (pc_registry_resolve(reg, pkt->service, &res)) {
	case PC_RESOLVE_OK:
		break;
	case PC_RESOLVE_UNKNOWN: {
		const char *near[1];
		if (pc_registry_suggest(reg, pkt->service, near, 1))
			snprintf(e->msg, sizeof(e->msg), "unknown service '%s'; did you mean '%s'?",
					pkt->service, near[0]);
		else
			snprintf(e->msg, sizeof(e->msg), "unknown service '%s'", pkt->service);
		goto out;
	}
	default:
		snprintf(e->msg, sizeof(e->msg),
				"'%s' names no one port (`portcullis lookup %s` says why); give the "
				"port",
				pkt->service, pkt->service);
		goto out;
	}
	for (size_t i = 0; i < res.nports; i++) {
		if (res.ports[i].proto != pkt->proto && res.ports[i].proto != PC_PROTO_ANY)
			continue;
		one = &res.ports[i];
		n++;
	}
	if (n == 0) {
		snprintf(e->msg, sizeof(e->msg), "'%s' has no %s port", pkt->service,
				pc_proto_name(pkt->proto));
	} else if (n > 1) {
		snprintf(e->msg, sizeof(e->msg),
				"'%s' has %zu %s ports: a packet goes to one; give it as a number",
				pkt->service, n, pc_proto_name(pkt->proto));
	} else if (one->lo != one->hi) {
		snprintf(e->msg, sizeof(e->msg),
				"'%s' is %u-%u/%s: a packet goes to one port; give it as a number",
				pkt->service, one->lo, one->hi, pc_proto_name(pkt->proto));
	} else {
		pkt->port = one->lo;
		ret = 0;
	}
out:
	pc_resolution_finish(&res);
	return ret;
}
