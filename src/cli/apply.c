/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portcullis apply: the policy's table, replaced in the kernel in one
 * netlink transaction (transaction.c), once the lockout check below has
 * found that the SSH session it comes through survives it.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "portcullis/netlink.h"
#include "portcullis/conntrack.h"
#include "portcullis/nft.h"
#include "portcullis/route.h"
#include "portcullis/session.h"
#include "portcullis/sockdiag.h"
#include "util.h"

/* Reads /proc/PID/NAME into buf (NUL-terminated); its length, or -1. */
static ssize_t read_proc(int pid, const char *name, char *buf, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (ssize_t)n;
}

static bool name_in(const char *name, const char *const *list)
{
	for (size_t k = 0; list[k]; k++)
		if (!strcmp(name, list[k]))
			return true;
	return false;
}

/* Ancestors looked at, at most: a few shells and wrappers deep is the usual case. */
#define MAX_ANCESTORS 16

enum session_found {
	SESSION_NONE,
	SESSION_FOUND,
	SESSION_HIDDEN, /* under sshd, but the variable is nowhere in reach */
	SESSION_ORPHAN, /* started by process 1 (run0) from a terminal: nothing to walk */
};

/*
 * The SSH session this command runs in: $SSH_CONNECTION, or, since root
 * shells (sudo -i, sudo -s, su -, sudo su -) and sudo, su, doas and pkexec
 * leave it out, the one an ancestor was started with, read from
 * /proc/PID/environ (root may) up a chain of such shells and wrappers.  Past
 * the first other program only names are read: an sshd above means a
 * session the variable does not reach (SESSION_HIDDEN, *sshd its pid).
 * run0 is no ancestor: process 1 starts the command (SESSION_ORPHAN).
 */
static enum session_found ssh_connection(char *out, size_t size, int *sshd)
{
	static const char *const shells[] = {"sh", "bash", "dash", "zsh", "ksh", "ksh93", "mksh",
			"fish", "tcsh", "csh", "sudo", "su", "doas", "pkexec", NULL};
	static const char *const sshds[] = {"sshd", "sshd-session", NULL};
	static const char key[] = "SSH_CONNECTION=";
	const char *v = getenv("SSH_CONNECTION");
	enum session_found found = SESSION_NONE;
	bool chain = true;
	char *env = NULL;

	if (v) {
		snprintf(out, size, "%s", v);
		return SESSION_FOUND;
	}
	int pid = (int)getppid();
	/*
	 * run0 has the service manager start the command: its parent is process
	 * 1 and the caller's processes are out of reach.  A terminal tells an
	 * interactive caller from a service.
	 */
	if (pid == 1 && (isatty(0) || isatty(1) || isatty(2)))
		return SESSION_ORPHAN;
	for (int depth = 0; depth < MAX_ANCESTORS && pid > 1; depth++) {
		char comm[32], stat[512];
		if (read_proc(pid, "comm", comm, sizeof(comm)) < 0)
			break;
		comm[strcspn(comm, "\n")] = '\0';
		/* A login shell may show as "-bash". */
		const char *name = comm[0] == '-' ? comm + 1 : comm;
		if (name_in(name, sshds)) {
			*sshd = pid;
			found = SESSION_HIDDEN;
			break;
		}
		chain = chain && name_in(name, shells);
		if (chain) {
			/* NUL-separated NAME=VALUE entries; a few KiB in practice. */
			if (!env)
				env = xmalloc(1 << 16);
			ssize_t len = read_proc(pid, "environ", env, 1 << 16);
			for (ssize_t i = 0; i < len; i += (ssize_t)strlen(env + i) + 1)
				if (!strncmp(env + i, key, sizeof(key) - 1)) {
					snprintf(out, size, "%s", env + i + sizeof(key) - 1);
					found = SESSION_FOUND;
					goto out;
				}
		}
		/* "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses. */
		if (read_proc(pid, "stat", stat, sizeof(stat)) < 0)
			break;
		const char *paren = strrchr(stat, ')');
		if (!paren || sscanf(paren + 1, " %*c %d", &pid) != 1)
			break;
	}
out:
	free(env);
	return found;
}

/*
 * The interface a "%zone" names: an interface name that exists, or the
 * decimal index of one.  Returns 0, or -1 with errno set (ENODEV: no such
 * interface, ERANGE: a number past any index).
 */
static int zone_iface(const char *zone, char iface[16])
{
	char name[IF_NAMESIZE];

	if (strspn(zone, "0123456789") == strlen(zone)) {
		errno = 0;
		unsigned long v = strtoul(zone, NULL, 10);
		if (errno || v > UINT_MAX) {
			errno = ERANGE;
			return -1;
		}
		if (!if_indextoname((unsigned)v, name)) {
			errno = ENODEV;
			return -1;
		}
		snprintf(iface, 16, "%s", name);
		return 0;
	}
	if (!if_nametoindex(zone)) {
		errno = ENODEV;
		return -1;
	}
	snprintf(iface, 16, "%s", zone);
	return 0;
}

/*
 * The interface the session's packets use: the client's zone, else the route
 * the replies take, from the server's address to the client's, with the
 * mark and bound interface of the session's socket (under policy routing the
 * source or the mark chooses the table, in a VRF the interface does; with
 * symmetric routing the client's packets come in on the same interface).
 */
static int session_iface(const struct pc_session *s, const struct pc_sock_route *r, char iface[16])
{
	static const uint8_t v6lo[16] = {[15] = 1};

	if (((r->mark || r->ifindex) && pc_route_lookup(s->family, s->client, s->server, r->mark,
							r->ifindex, iface) == 0) ||
			pc_route_lookup(s->family, s->client, s->server, 0, 0, iface) == 0 ||
			pc_route_lookup(s->family, s->client, NULL, 0, 0, iface) == 0)
		return 0;
	/* A loopback client goes over lo, whatever the routing tables say. */
	if ((s->family == 4 && s->client[0] == 127) ||
			(s->family == 6 && !memcmp(s->client, v6lo, 16))) {
		snprintf(iface, 16, "lo");
		return 0;
	}
	return -1;
}

/*
 * An apply over SSH must not cut off the session it comes through.  From the
 * session (see ssh_connection(), pc_session_parse()) the check builds the
 * packets the kernel will see: the client's new connection to the server's
 * port on input, on the interface the session uses, and, without
 * `established: accept`, the replies to the client's port on output.  Each
 * must be accepted; an accept by a rate-limited rule is not enough without
 * `established: accept`, since every packet of the session meets that limit.
 * Where it cannot decide (no variable under sshd, a value it cannot read, an
 * interface it cannot find) it says so on stderr and lets apply go on.
 * Returns PC_EXIT_OK, or PC_EXIT_KERNEL after saying why not.
 */
static int lockout_check(struct cli_ctx *ctx, const struct pc_policy *p)
{
	char conn[256], err[128], iface[16] = "";
	struct pc_session s;
	int sshd = 0, iface_err = 0;
	static const char undecided[] = "the lockout check cannot tell whether this policy keeps "
					"the session";

	if (ctx->allow_lockout)
		return PC_EXIT_OK;
	switch (ssh_connection(conn, sizeof(conn), &sshd)) {
	case SESSION_NONE:
		return PC_EXIT_OK;
	case SESSION_HIDDEN:
		fprintf(ctx->err,
				"%s apply: warning: it runs under sshd (process %d), but "
				"SSH_CONNECTION is set neither here nor for the shells, sudo or su "
				"between: %s. Keep the variable (sudo --preserve-env=SSH_CONNECTION), "
				"or ask `%s explain --packet`\n",
				ctx->prog, sshd, undecided, ctx->prog);
		return PC_EXIT_OK;
	case SESSION_ORPHAN:
		fprintf(ctx->err,
				"%s apply: warning: it was started by process 1 on a terminal "
				"(as run0 starts commands), so the SSH session it may come "
				"through cannot be found: %s. Pass the variable on (run0 "
				"--setenv=SSH_CONNECTION), or ask `%s explain --packet`\n",
				ctx->prog, undecided, ctx->prog);
		return PC_EXIT_OK;
	case SESSION_FOUND:
		break;
	}
	if (pc_session_parse(conn, &s, err, sizeof(err)) < 0) {
		fprintf(ctx->err, "%s apply: warning: cannot read SSH_CONNECTION '%s': %s; %s\n",
				ctx->prog, conn, err, undecided);
		return PC_EXIT_OK;
	}
	if (s.zone[0] && zone_iface(s.zone, iface) < 0) {
		fprintf(ctx->err,
				"%s apply: warning: the zone of the client in SSH_CONNECTION "
				"'%s' names no interface of this host (%s); %s\n",
				ctx->prog, conn, strerror(errno), undecided);
		return PC_EXIT_OK;
	}
	/* A tmux or screen pane keeps the variable it was started with. */
	struct pc_sock_route route = {0, 0};
	int live = pc_sockdiag_established(s.family, s.server, s.sport, s.client, s.cport, &route);
	if (!s.zone[0] && session_iface(&s, &route, iface) < 0) {
		iface_err = errno;
		iface[0] = '\0';
	}
	conn[strcspn(conn, " ")] = '\0';
	if (live == 0)
		fprintf(ctx->err,
				"%s apply: warning: SSH_CONNECTION names no live connection on "
				"this host (no established TCP connection from %s port %u to "
				"port %u): it is stale (e.g. kept by a tmux or screen session "
				"since it was started), so the lockout check cannot vouch for "
				"the session this command comes through\n",
				ctx->prog, conn, s.cport, s.sport);
	/*
	 * IPv6 lives on neighbour discovery, which conntrack does not track
	 * (`established: accept` does not pass it) and rules cannot name: the
	 * defaults keep it (`icmp: none` too) unless the policy drops it.  On
	 * lo there is none.
	 */
	if (s.family == 6 && !p->defaults.neighbour_discovery && strcmp(iface, "lo")) {
		const struct pc_loc *at = &p->defaults.neighbour_discovery_loc;
		fprintf(ctx->err,
				"%s apply: this policy would cut off the SSH session it is "
				"applied through (SSH_CONNECTION: %s port %u -> port %u): it is "
				"IPv6, and `neighbour-discovery: drop` (%s:%u:%u) drops the "
				"neighbour solicitations and advertisements it needs (to and "
				"from the client, or the router it is reached through; conntrack "
				"does not track them, so `established: accept` does not pass "
				"them): the session dies once the neighbour entry expires; "
				"nothing was changed. Remove `neighbour-discovery: drop`, or pass "
				"--allow-lockout\n",
				ctx->prog, conn, s.cport, s.sport, at->file, at->line, at->col);
		return PC_EXIT_KERNEL;
	}
	bool untracked = false;
	if (p->defaults.established) {
		int loose = pc_conntrack_tcp_loose(), tracked = 0;
		if (loose < 0 && errno != ENOENT) {
			fprintf(ctx->err,
					"%s apply: warning: cannot read "
					"net.netfilter.nf_conntrack_tcp_loose (%s); taken as 1\n",
					ctx->prog, strerror(errno));
			loose = 1;
		}
		/* Without conntrack loaded nothing is tracked; it loads with the ruleset. */
		if (loose >= 0 && (tracked = pc_conntrack_tracked(s.family, s.client, s.cport,
						   s.server, s.sport)) < 0)
			fprintf(ctx->err,
					"%s apply: warning: cannot ask conntrack whether it "
					"tracks the SSH session (%s); taken as tracked\n",
					ctx->prog, strerror(errno));
		untracked = tracked == 0;
		if (untracked && loose == 0) {
			fprintf(ctx->err,
					"%s apply: this policy would cut off the SSH session it "
					"is applied through (SSH_CONNECTION: %s port %u -> port "
					"%u): conntrack does not track the session yet (it was "
					"open before the first ruleset with connection tracking "
					"here), and with net.netfilter.nf_conntrack_tcp_loose 0 "
					"its packets are invalid, which `established: accept` "
					"drops; nothing was changed. Apply from a new session "
					"once conntrack is in use, or pass --allow-lockout\n",
					ctx->prog, conn, s.cport, s.sport);
			return PC_EXIT_KERNEL;
		}
	}
	for (int dir = 0; dir < 2; dir++) {
		if (dir == 1 && p->defaults.established && !untracked)
			break;
		struct pc_packet pkt = {.direction = dir ? PC_DIR_OUTPUT : PC_DIR_INPUT,
				.proto = PC_PROTO_TCP,
				.family = s.family,
				.has_src = true,
				.has_dst = true,
				.port = dir ? s.cport : s.sport};
		struct pc_decision dec;
		memcpy(pkt.src, dir ? s.server : s.client, sizeof(pkt.src));
		memcpy(pkt.dst, dir ? s.client : s.server, sizeof(pkt.dst));
		memcpy(pkt.iface, iface, sizeof(pkt.iface));
		pc_policy_evaluate(p, &pkt, &dec);
		if (dec.skipped_interface) {
			fprintf(ctx->err,
					"%s apply: warning: cannot tell which interface the SSH "
					"session from %s uses (%s), so the rules that name one are "
					"passed over: %s\n",
					ctx->prog, conn, strerror(iface_err), undecided);
			return PC_EXIT_OK;
		}
		const struct pc_rule *r = dec.by_rule ? &p->rules[dec.rule] : NULL;
		bool limited = r && (r->flags & PC_RULE_F_LIMIT) && !p->defaults.established;
		if (dec.verdict == PC_VERDICT_ACCEPT && !limited)
			continue;
		fprintf(ctx->err,
				"%s apply: this policy would cut off the SSH session it is "
				"applied through (SSH_CONNECTION: %s port %u -> port %u): ",
				ctx->prog, conn, s.cport, s.sport);
		if (limited) {
			fprintf(ctx->err,
					"rule %zu at %s:%u:%u accepts it at most %u/%s, and "
					"without `established: accept` every packet of the session "
					"meets that limit: those past it are dropped",
					dec.rule + 1, r->loc.file, r->loc.line, r->loc.col,
					r->limit_rate, r->limit_unit);
		} else if (r) {
			fprintf(ctx->err, "rule %zu at %s:%u:%u %s it", dec.rule + 1, r->loc.file,
					r->loc.line, r->loc.col,
					dec.action == PC_ACTION_REJECT ? "rejects" : "drops");
			pc_ifaces_print(ctx->err, " on ", &r->interface);
		} else {
			fprintf(ctx->err, "the default policy of %s drops it",
					dir ? "output" : "input");
		}
		if (dir == 1 && p->defaults.established)
			fprintf(ctx->err, " (conntrack does not track the session yet: it was "
					  "open before the first ruleset with connection tracking "
					  "here, so the next packet this host sends in it is a new "
					  "connection on output, dropped until the client speaks)");
		fprintf(ctx->err,
				"; nothing was changed. Allow it in the policy%s, or pass "
				"--allow-lockout\n",
				dir == 1 ? " (output to the client's port)" : "");
		return PC_EXIT_KERNEL;
	}
	return PC_EXIT_OK;
}

/*
 * The lockout check, then warnings about the other tables that filter the
 * same packets (a ruleset that cannot be read is left to the transaction to
 * report).
 */
static int before_apply(struct cli_ctx *ctx, const struct pc_policy *p)
{
	int ret = lockout_check(ctx, p);

	if (ret == PC_EXIT_OK)
		cli_warn_coexist(ctx, "apply", p, ctx->table);
	return ret;
}

/* With --confirm: the checks of every apply, then the live table saved. */
static int before_confirm(struct cli_ctx *ctx, const struct pc_policy *p)
{
	int ret = before_apply(ctx, p);

	return ret == PC_EXIT_OK ? cli_confirm_before(ctx) : ret;
}

/* --confirm SECONDS: 1 to 86400; 0 and a message when it is not. */
static unsigned confirm_seconds(struct cli_ctx *ctx)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(ctx->confirm, &end, 10);
	if (errno || end == ctx->confirm || *end || ctx->confirm[0] == '-' || v < 1 || v > 86400) {
		fprintf(ctx->err,
				"%s apply: --confirm takes the seconds to wait for '%s confirm', 1 to "
				"86400, e.g. '--confirm 60'; not '%s'\n",
				ctx->prog, ctx->prog, ctx->confirm);
		return 0;
	}
	return (unsigned)v;
}

int cmd_apply(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 1) {
		fprintf(ctx->err,
				"%s apply: name one policy file, e.g. '%s apply "
				"policies/kdc-primary.yaml'\n",
				ctx->prog, ctx->prog);
		return PC_EXIT_USAGE;
	}
	if (ctx->json && !ctx->dry_run) {
		fprintf(ctx->err,
				"%s apply: --json prints what --dry-run finds; apply itself reports in "
				"text\n",
				ctx->prog);
		return PC_EXIT_USAGE;
	}
	if (ctx->dry_run)
		return cli_diff(ctx, "apply", argv[0]);
	if (ctx->confirm) {
		unsigned seconds = confirm_seconds(ctx);
		if (!seconds)
			return PC_EXIT_USAGE;
		if (!cli_table_name_ok(ctx, "apply", ctx->table))
			return PC_EXIT_USAGE;
		int ret = cli_send_table(ctx, "apply", argv[0], true, before_confirm);
		return cli_confirm_after(ctx, ret, seconds);
	}
	if (cli_table_name_ok(ctx, "apply", ctx->table)) {
		int ret = cli_confirm_pending(ctx, "apply");
		if (ret != PC_EXIT_OK)
			return ret;
	}
	return cli_send_table(ctx, "apply", argv[0], true, before_apply);
}
