/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's sockets against a resolved policy (check --listening): what
 * input allows where nothing listens, and what listens where input drops
 * it, each packet asked of the evaluator.  See portcullis/listening.h.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "portcullis/listening.h"
#include "portcullis/policy.h"

bool pc_listener_loopback(const struct pc_listener *s)
{
	static const uint8_t one[16] = {[15] = 1};

	if (!strcmp(s->ifname, "lo"))
		return true;
	return s->family == 4 ? s->addr[0] == 127 : !memcmp(s->addr, one, 16);
}

bool pc_listener_wildcard(const struct pc_listener *s)
{
	static const uint8_t zero[16];

	return !memcmp(s->addr, zero, s->family == 4 ? 4 : 16);
}

void pc_listener_addr(char buf[46], const struct pc_listener *s)
{
	if (!inet_ntop(s->family == 4 ? AF_INET : AF_INET6, s->addr, buf, 46))
		snprintf(buf, 46, "?");
}

/* What a socket on a Kerberos port is for, said when input drops it. */
static const struct {
	uint16_t port;
	const char *what;
} kerberos_ports[] = {
		{88, "clients will never reach the KDC"},
		{464, "users will never change their passwords (kpasswd)"},
		{749, "kadmin will never reach kadmind"},
		{754, "replicas will never receive the database (kpropd)"},
		{2121, "replicas will never receive incremental updates (iprop)"},
};

static const char *kerberos_consequence(uint16_t port)
{
	for (size_t i = 0; i < sizeof(kerberos_ports) / sizeof(kerberos_ports[0]); i++)
		if (kerberos_ports[i].port == port)
			return kerberos_ports[i].what;
	return NULL;
}

static bool any_listens(const struct pc_listener *v, size_t n, enum pc_proto proto, uint16_t lo,
		uint16_t hi)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].proto == proto && v[i].port >= lo && v[i].port <= hi)
			return true;
	return false;
}

static void check_allowed(const struct pc_policy *p, const struct pc_listener *v, size_t n,
		struct pc_diags *diags)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pc_rule *r = &p->rules[i];
		if (r->direction != PC_DIR_INPUT || r->action != PC_ACTION_ALLOW)
			continue;
		for (size_t k = 0; k < r->nmatches; k++) {
			const struct pc_match *m = &r->matches[k];
			char ports[24];
			if ((m->proto != PC_PROTO_TCP && m->proto != PC_PROTO_UDP) ||
					any_listens(v, n, m->proto, m->lo, m->hi))
				continue;
			if (m->lo == m->hi)
				snprintf(ports, sizeof(ports), "port %u", m->lo);
			else
				snprintf(ports, sizeof(ports), "ports %u-%u", m->lo, m->hi);
			char what[96];
			if (m->service)
				snprintf(what, sizeof(what), "%s (%s)", m->service,
						pc_proto_name(m->proto));
			else if (m->lo == m->hi)
				snprintf(what, sizeof(what), "%u/%s", m->lo,
						pc_proto_name(m->proto));
			else
				snprintf(what, sizeof(what), "%u-%u/%s", m->lo, m->hi,
						pc_proto_name(m->proto));
			struct pc_diag *d = pc_diag_add(diags, PC_SEV_WARNING,
					"allowed-not-listening", m->loc.file, m->loc.line,
					m->loc.col, "%s is allowed, but nothing listens on %s %s",
					what, pc_proto_name(m->proto), ports);
			if (m->lo == m->hi && kerberos_consequence(m->lo))
				pc_diag_hint(d, "is the daemon running, and configured for this "
						"port? (kdc.conf: kdc_ports, kdc_tcp_ports, "
						"kdc_listen, kadmind_port, kpasswd_port)");
			else
				pc_diag_hint(d, "is the daemon running, and configured for "
						"this port?");
		}
	}
}

/* An address of `family` no rule of input names as a source, from a short list; else the first. */
static void outsider(const struct pc_policy *p, int family, uint8_t addr[16])
{
	static const char *const v4[] = {"198.51.100.7", "203.0.113.7", "192.0.2.7", "100.64.0.7"};
	static const char *const v6[] = {"2001:db8::7", "3fff::7", "100::7", "fc00::7"};
	const char *const *c = family == 4 ? v4 : v6;

	for (size_t t = 0; t < 4; t++) {
		struct pc_packet pkt = {.family = (uint8_t)family};
		bool named = false;
		inet_pton(family == 4 ? AF_INET : AF_INET6, c[t], pkt.src);
		for (size_t i = 0; i < p->nrules && !named; i++) {
			const struct pc_rule *r = &p->rules[i];
			const struct pc_addrset *s = &r->src;
			if (r->direction != PC_DIR_INPUT || !r->nfrom || s->any)
				continue;
			const struct pc_prefix *x = family == 4 ? s->v4 : s->v6;
			size_t nx = family == 4 ? s->nv4 : s->nv6;
			for (size_t j = 0; j < nx && !named; j++) {
				unsigned bits = x[j].len, b = 0;
				while (b < bits && !((x[j].bytes[b / 8] ^ pkt.src[b / 8]) &
								   (0x80u >> (b % 8))))
					b++;
				named = b == bits;
			}
		}
		if (!named || t == 3) {
			memcpy(addr, pkt.src, 16);
			return;
		}
	}
}

/* The packet to socket `s` (as `family`), its source not yet given. */
static void packet_to(const struct pc_listener *s, int family, struct pc_packet *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->direction = PC_DIR_INPUT;
	pkt->proto = s->proto;
	pkt->family = (uint8_t)family;
	pkt->has_src = true;
	pkt->has_dst = !pc_listener_wildcard(s);
	if (pkt->has_dst)
		memcpy(pkt->dst, s->addr, family == 4 ? 4 : 16);
	pkt->port = s->port;
	snprintf(pkt->iface, sizeof(pkt->iface), "%s", s->ifname);
}

/* The packet to socket `s` (as `family`) from `src`, and what input does with it. */
static void ask(const struct pc_policy *p, const struct pc_listener *s, int family,
		const uint8_t *src, struct pc_decision *dec)
{
	struct pc_packet pkt;

	packet_to(s, family, &pkt);
	memcpy(pkt.src, src, family == 4 ? 4 : 16);
	pc_policy_evaluate(p, &pkt, dec);
}

/*
 * Whether a source some input rule names gets to `s`: the first such rule in
 * *rule.  Every prefix of every rule is a packet to ask: through an index of
 * the sources of the rules that can decide it, not the whole policy each.
 */
static bool some_source_accepted(
		const struct pc_policy *p, const struct pc_listener *s, int family, size_t *rule)
{
	struct pc_packet pkt;
	bool found = false;

	packet_to(s, family, &pkt);
	struct pc_source_index *x = pc_source_index_create(p, &pkt);
	for (size_t i = 0; i < p->nrules && !found; i++) {
		const struct pc_rule *r = &p->rules[i];
		if (r->direction != PC_DIR_INPUT || !r->nfrom || r->src.any)
			continue;
		const struct pc_prefix *v = family == 4 ? r->src.v4 : r->src.v6;
		size_t nv = family == 4 ? r->src.nv4 : r->src.nv6;
		for (size_t j = 0; j < nv && !found; j++) {
			struct pc_decision dec;
			pc_source_index_evaluate(x, v[j].bytes, &dec);
			if (dec.verdict == PC_VERDICT_ACCEPT) {
				*rule = dec.by_rule ? dec.rule : i;
				found = true;
			}
		}
	}
	pc_source_index_destroy(x);
	return found;
}

static bool same_place(const struct pc_listener *a, const struct pc_listener *b)
{
	return a->proto == b->proto && a->family == b->family && a->port == b->port &&
	       !memcmp(a->addr, b->addr, 16) && !strcmp(a->ifname, b->ifname);
}

/* "kpropd, pid 42" or "process not shown by /proc, uid 0". */
static void owner_text(char *buf, size_t n, const struct pc_listener *s)
{
	if (s->pid)
		snprintf(buf, n, "%s, pid %ld", s->comm[0] ? s->comm : "?", s->pid);
	else
		snprintf(buf, n, "process not shown by /proc, uid %u", s->uid);
}

static void check_sockets(const struct pc_policy *p, const struct pc_listener *v, size_t n,
		struct pc_diags *diags)
{
	for (size_t i = 0; i < n; i++) {
		const struct pc_listener *s = &v[i];
		if ((s->proto != PC_PROTO_TCP && s->proto != PC_PROTO_UDP) ||
				pc_listener_loopback(s) || s->ephemeral ||
				(i && same_place(&v[i - 1], s)))
			continue;
		/* An IPv6 wildcard that is not IPv6-only takes IPv4 too. */
		int fams[2] = {s->family, 0};
		if (s->family == 6 && pc_listener_wildcard(s) && !s->v6only)
			fams[1] = 4;
		bool accepted = false, restricted = false;
		struct pc_decision drop = {0};
		size_t rule = 0;
		for (int f = 0; f < 2 && fams[f] && !accepted; f++) {
			uint8_t src[16] = {0};
			struct pc_decision dec;
			outsider(p, fams[f], src);
			ask(p, s, fams[f], src, &dec);
			if (dec.verdict == PC_VERDICT_ACCEPT)
				accepted = true;
			else if (f == 0)
				drop = dec;
			if (!accepted && !restricted)
				restricted = some_source_accepted(p, s, fams[f], &rule);
		}
		if (accepted)
			continue;
		char addr[80], owner[64], where[32] = "";
		pc_listener_addr(addr, s);
		if (pc_listener_wildcard(s))
			snprintf(addr, sizeof(addr), "every %saddress (%s)",
					s->family == 6 && s->v6only ? "IPv6 " : "",
					s->family == 4 ? "0.0.0.0" : "::");
		owner_text(owner, sizeof(owner), s);
		if (s->ifname[0])
			snprintf(where, sizeof(where), " (bound to %s)", s->ifname);
		if (restricted) {
			const struct pc_rule *r = &p->rules[rule];
			pc_diag_add(diags, PC_SEV_NOTE, "listening-restricted", r->loc.file,
					r->loc.line, r->loc.col,
					"%s port %u on %s%s (%s) is accepted only from some "
					"sources: those this rule names",
					pc_proto_name(s->proto), s->port, addr, where, owner);
			continue;
		}
		const struct pc_loc *loc = drop.by_rule ? &p->rules[drop.rule].loc : &p->loc;
		const char *what = kerberos_consequence(s->port);
		struct pc_diag *d = pc_diag_add(diags, PC_SEV_WARNING, "listening-dropped",
				loc->file, loc->line, loc->col,
				"%s port %u on %s%s (%s) listens, but input drops it from "
				"every source: %s%s%s",
				pc_proto_name(s->proto), s->port, addr, where, owner,
				drop.by_rule ? (drop.action == PC_ACTION_REJECT
									       ? "this rule rejects it"
									       : "this rule denies it")
					     : "no rule allows it and the default policy of input is "
					       "drop",
				what ? "; " : "", what ? what : "");
		pc_diag_hint(d, "allow it from the hosts that use it, or stop what listens there "
				"(or bind it to loopback)");
	}
}

void pc_policy_check_listening(const struct pc_policy *p, const struct pc_listener *v, size_t n,
		struct pc_diags *diags)
{
	check_allowed(p, v, n, diags);
	check_sockets(p, v, n, diags);
}
