/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portcullis apply: the policy's table, replaced in the kernel in one
 * netlink transaction (transaction.c), once the lockout check below has
 * found that the SSH session it comes through survives it.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "portcullis/netlink.h"
#include "portcullis/nft.h"
#include "portcullis/route.h"
#include "portcullis/session.h"
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
};

/*
 * The SSH session this command runs in: $SSH_CONNECTION, or, since root
 * shells (sudo -i, sudo -s, su -, sudo su -) and sudo, su, doas, pkexec and
 * run0 leave it out, the one an ancestor was started with, read from
 * /proc/PID/environ (root may) up a chain of such shells and wrappers.  Past
 * the first other program only names are read: an sshd above means a
 * session the variable does not reach (SESSION_HIDDEN, *sshd its pid).
 */
static enum session_found ssh_connection(char *out, size_t size, int *sshd)
{
	static const char *const shells[] = {"sh", "bash", "dash", "zsh", "ksh", "ksh93", "mksh",
		"fish", "tcsh", "csh", "sudo", "su", "doas", "pkexec", "run0", NULL};
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

/* The interface the session's packets use: the client's zone, else the route to it. */
static int session_iface(const struct pc_session *s, char iface[16])
{
	static const uint8_t v6lo[16] = {[15] = 1};

	if (s->zone[0]) {
		if (strspn(s->zone, "0123456789") == strlen(s->zone)) {
			char name[IF_NAMESIZE];
			if (!if_indextoname((unsigned)atoi(s->zone), name))
				return -1;
			snprintf(iface, 16, "%s", name);
		} else {
			snprintf(iface, 16, "%s", s->zone);
		}
		return 0;
	}
	if (pc_route_lookup(s->family, s->client, iface) == 0)
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
		fprintf(ctx->err, "%s apply: warning: it runs under sshd (process %d), but "
				  "SSH_CONNECTION is set neither here nor for the shells, sudo or su "
				  "between: %s. Keep the variable (sudo --preserve-env=SSH_CONNECTION), "
				  "or ask `%s explain --packet`\n",
				ctx->prog, sshd, undecided, ctx->prog);
		return PC_EXIT_OK;
	case SESSION_FOUND:
		break;
	}
	if (pc_session_parse(conn, &s, err, sizeof(err)) < 0) {
		fprintf(ctx->err, "%s apply: warning: cannot read SSH_CONNECTION '%s': %s; %s\n",
				ctx->prog, conn, err, undecided);
		return PC_EXIT_OK;
	}
	if (session_iface(&s, iface) < 0) {
		iface_err = errno;
		iface[0] = '\0';
	}
	conn[strcspn(conn, " ")] = '\0';
	for (int dir = 0; dir < 2; dir++) {
		if (dir == 1 && p->defaults.established)
			break;
		struct pc_packet pkt = {dir ? PC_DIR_OUTPUT : PC_DIR_INPUT, PC_PROTO_TCP, s.family,
			{0}, dir ? s.cport : s.sport, {0}};
		struct pc_decision dec;
		memcpy(pkt.addr, s.client, sizeof(pkt.addr));
		memcpy(pkt.iface, iface, sizeof(pkt.iface));
		pc_policy_evaluate(p, &pkt, &dec);
		if (dec.skipped_interface) {
			fprintf(ctx->err, "%s apply: warning: cannot tell which interface the SSH "
					  "session from %s uses (%s), so the rules that name one are "
					  "passed over: %s\n",
					ctx->prog, conn, strerror(iface_err), undecided);
			return PC_EXIT_OK;
		}
		const struct pc_rule *r = dec.by_rule ? &p->rules[dec.rule] : NULL;
		bool limited = r && (r->flags & PC_RULE_F_LIMIT) && !p->defaults.established;
		if (dec.verdict == PC_VERDICT_ACCEPT && !limited)
			continue;
		fprintf(ctx->err, "%s apply: this policy would cut off the SSH session it is "
				  "applied through (SSH_CONNECTION: %s port %u -> port %u): ",
				ctx->prog, conn, s.cport, s.sport);
		if (limited) {
			fprintf(ctx->err, "rule %zu at %s:%u:%u accepts it at most %u/%s, and "
					  "without `established: accept` every packet of the session "
					  "meets that limit: those past it are dropped",
					dec.rule + 1, r->loc.file, r->loc.line, r->loc.col,
					r->limit_rate, r->limit_unit);
		} else if (r) {
			fprintf(ctx->err, "rule %zu at %s:%u:%u %s it", dec.rule + 1, r->loc.file,
					r->loc.line, r->loc.col,
					dec.action == PC_ACTION_REJECT ? "rejects" : "drops");
			if (r->interface)
				fprintf(ctx->err, " on %s", r->interface);
		} else {
			fprintf(ctx->err, "the default policy of %s drops it", dir ? "output" : "input");
		}
		fprintf(ctx->err, "; nothing was changed. Allow it in the policy, or pass "
				  "--allow-lockout\n");
		return PC_EXIT_KERNEL;
	}
	return PC_EXIT_OK;
}

int cmd_apply(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 1) {
		fprintf(ctx->err, "%s apply: name one policy file, e.g. '%s apply "
				  "policies/kdc-primary.yaml'\n",
				ctx->prog, ctx->prog);
		return PC_EXIT_USAGE;
	}
	return cli_send_table(ctx, "apply", argv[0], true, lockout_check);
}
