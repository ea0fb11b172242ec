/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reply path: what a policy accepts is of use only if the answers come
 * back.  The replies to input leave through output, those to output come in
 * through input, and those to forward go back through forward; conntrack's
 * `established: accept`, the default policy of that hook, or `loopback:
 * accept` on lo let them through (no rule can: rules match the destination
 * port, and a reply's is the client's, unknown beforehand).  IPv6 also needs
 * neighbour discovery, which conntrack does not track.
 */
#include <stdio.h>
#include <string.h>

#include "portcullis/diag.h"
#include "portcullis/policy.h"

static enum pc_direction reply_direction(enum pc_direction dir)
{
	return dir == PC_DIR_INPUT ? PC_DIR_OUTPUT : dir == PC_DIR_OUTPUT ? PC_DIR_INPUT : dir;
}

static enum pc_verdict default_of(const struct pc_policy *p, enum pc_direction dir)
{
	return dir == PC_DIR_INPUT    ? p->defaults.input
	       : dir == PC_DIR_OUTPUT ? p->defaults.output
				      : p->defaults.forward;
}

enum pc_unusable pc_policy_reply_path(const struct pc_policy *p, enum pc_direction dir, int family,
		const char *iface, enum pc_direction *reply)
{
	bool lo = dir != PC_DIR_FORWARD && !strcmp(iface, "lo");

	*reply = reply_direction(dir);
	if (lo && p->defaults.loopback)
		return PC_USABLE;
	if (family != 4 && !lo && !p->defaults.neighbour_discovery)
		return PC_UNUSABLE_ND;
	if (!p->defaults.established && default_of(p, *reply) == PC_VERDICT_DROP)
		return PC_UNUSABLE_REPLIES;
	return PC_USABLE;
}

enum pc_unusable pc_policy_reject_path(const struct pc_policy *p, enum pc_direction dir,
		enum pc_proto proto, int family, const char *iface)
{
	enum pc_direction reply;
	enum pc_unusable why = pc_policy_reply_path(p, dir, family, iface, &reply);

	/*
	 * The host sends the answer itself, through output, as related
	 * traffic; on output it goes to a local socket.  ICMP errors also pass
	 * by `icmp: essential` or `all`.
	 */
	if (why == PC_UNUSABLE_ND)
		return why;
	if (dir == PC_DIR_OUTPUT ||
			(dir != PC_DIR_FORWARD && !strcmp(iface, "lo") && p->defaults.loopback) ||
			p->defaults.established || p->defaults.output == PC_VERDICT_ACCEPT)
		return PC_USABLE;
	if (proto == PC_PROTO_TCP)
		return PC_UNUSABLE_RESET;
	return p->defaults.icmp == PC_ICMP_NONE ? PC_UNUSABLE_ICMP_ERROR : PC_USABLE;
}

enum pc_unusable pc_decision_unusable(const struct pc_policy *p, const struct pc_packet *pkt,
		const struct pc_decision *dec, enum pc_direction *reply)
{
	*reply = pkt->direction;
	if (dec->by_rule && dec->action == PC_ACTION_REJECT) {
		*reply = PC_DIR_OUTPUT;
		return pc_policy_reject_path(
				p, pkt->direction, pkt->proto, pkt->family, pkt->iface);
	}
	if (dec->verdict != PC_VERDICT_ACCEPT)
		return PC_USABLE;
	return pc_policy_reply_path(p, pkt->direction, pkt->family, pkt->iface, reply);
}

const char *pc_unusable_code(enum pc_unusable why)
{
	return why == PC_UNUSABLE_ND ? "nd-dropped" : why ? "replies-dropped" : NULL;
}

void pc_unusable_text(const struct pc_policy *p, enum pc_unusable why, enum pc_direction reply,
		char *buf, size_t n)
{
	static const char *const ways[] = {
			[PC_DIR_INPUT] = "come in through input",
			[PC_DIR_OUTPUT] = "leave through output",
			[PC_DIR_FORWARD] = "go back through forward",
	};
	const struct pc_loc *at = &p->defaults.neighbour_discovery_loc;

	if (why == PC_UNUSABLE_ND)
		snprintf(buf, n,
				"it is IPv6, and `neighbour-discovery: drop` (%s:%u:%u) keeps this "
				"host from finding its neighbours",
				at->file ? at->file : "", at->line, at->col);
	else if (why == PC_UNUSABLE_REPLIES)
		snprintf(buf, n,
				"its replies %s, whose default policy is drop, and `established: "
				"none` does not pass them",
				ways[reply]);
	else if (why == PC_UNUSABLE_RESET)
		snprintf(buf, n,
				"its answer, a TCP reset, leaves through output, whose default "
				"policy is drop, and `established: none` does not pass it");
	else if (why == PC_UNUSABLE_ICMP_ERROR)
		snprintf(buf, n,
				"its answer, an ICMP error, leaves through output, whose default "
				"policy is drop, and neither `established: none` nor `icmp: none` "
				"passes it");
	else
		snprintf(buf, n, "its replies pass");
}

/* Whether a rule applies on lo alone: its replies stay there too. */
static bool only_on_lo(const struct pc_rule *r)
{
	const struct pc_ifaces *s = &r->interface;

	return s->n == 1 && !s->negate && !strcmp(s->names[0], "lo");
}

void pc_policy_check_replies(const struct pc_policy *p, struct pc_diags *diags)
{
	char why[256];

	for (size_t i = 0; i < p->nrules; i++) {
		const struct pc_rule *r = &p->rules[i];
		enum pc_direction reply;
		/* Neighbour discovery is said once, at its key. */
		if (r->action != PC_ACTION_ALLOW ||
				pc_policy_reply_path(p, r->direction, 4, only_on_lo(r) ? "lo" : "",
						&reply) != PC_UNUSABLE_REPLIES)
			continue;
		pc_unusable_text(p, PC_UNUSABLE_REPLIES, reply, why, sizeof(why));
		struct pc_diag *d = pc_diag_add(diags, PC_SEV_WARNING, "replies-dropped",
				r->loc.file, r->loc.line, r->loc.col,
				"every connection this rule accepts fails: %s", why);
		pc_diag_hint(d, "set `defaults.established: accept` (replies and the ICMP errors "
				"of a connection then pass)");
	}
}
