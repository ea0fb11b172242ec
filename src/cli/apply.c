/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portcullis apply: the policy's table, replaced in the kernel in one
 * netlink transaction; and `check --kernel`, the same transaction without
 * its end, so the kernel checks every object and then throws it all away.
 * Either the whole table is replaced or nothing changes.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "portcullis/netlink.h"
#include "portcullis/nft.h"
#include "util.h"

/* Errors printed; the rest are counted. */
#define MAX_ERRORS 20

static const char *kernel_reason(int err)
{
	switch (err) {
	case ENFILE:
		return "a set or map is full (its declared size)";
	case EEXIST:
		return "it exists already";
	case ENOENT:
		return "something it refers to does not exist";
	case EOPNOTSUPP:
		return "the kernel lacks a feature it needs";
	case ELOOP:
		return "the jumps would loop";
	case EBUSY:
		return "it is in use";
	case ERESTART:
		return "another program changed the ruleset at the same time";
	case EPERM:
		return "another program owns the table (nft `flags owner`)";
	default:
		return NULL;
	}
}

static void print_error(struct cli_ctx *ctx, const char *cmd, const struct pc_policy *p,
		const struct pc_nl_batch *b, const struct pc_nl_error *e)
{
	const struct pc_nl_msg *m = &b->msgs[e->msg];
	const char *why = kernel_reason(e->err);

	if (m->rule) {
		const struct pc_rule *r = &p->rules[m->rule->policy_rule];
		fprintf(ctx->err, "%s:%u:%u: error: the kernel refused rule %zu (in chain %s): %s",
				r->loc.file, r->loc.line, r->loc.col, m->rule->policy_rule + 1,
				m->name, strerror(e->err));
	} else {
		fprintf(ctx->err, "%s %s: error: the kernel refused the %s%s%s: %s", ctx->prog, cmd,
				m->what, m->name[0] ? " " : "", m->name, strerror(e->err));
	}
	fprintf(ctx->err, "%s%s\n", why ? "; " : "", why ? why : "");
}

static int report(struct cli_ctx *ctx, const char *cmd, const struct pc_policy *p,
		const char *table, const struct pc_nl_batch *b, const struct pc_nl_result *r,
		bool commit)
{
	if (r->sys_err) {
		fprintf(ctx->err, "%s %s: cannot %s: %s\n", ctx->prog, cmd, r->sys_what,
				strerror(r->sys_err));
		if (r->sys_err == EPERM || r->sys_err == EACCES) {
			fprintf(ctx->err, "%s %s: %s needs CAP_NET_ADMIN (run it as root)\n",
					ctx->prog, cmd, commit ? cmd : "check --kernel");
			return PC_EXIT_ENV;
		}
		if (r->sys_err == EMSGSIZE)
			fprintf(ctx->err, "%s %s: the transaction (%zu bytes) is larger than the "
					  "socket may send; raise net.core.wmem_max\n",
					ctx->prog, cmd, b->len);
		if (!r->sent) {
			fprintf(ctx->err, "%s %s: nothing was changed\n", ctx->prog, cmd);
			return r->send_tried ? PC_EXIT_KERNEL : PC_EXIT_ENV;
		}
		fprintf(ctx->err, "%s %s: the outcome is unknown: compare `nft list table inet %s` "
				  "with the rendering\n",
				ctx->prog, cmd, table);
		return PC_EXIT_UNKNOWN;
	}
	if (r->table_exists && !r->table_ours && !r->send_tried) {
		fprintf(ctx->err, "%s %s: table inet %s exists and portcullis does not manage it (its "
				  "comment does not start with '%s'); nothing was changed. Name another "
				  "with --table, or replace it with --force\n",
				ctx->prog, cmd, table, PC_NL_MARKER);
		return PC_EXIT_KERNEL;
	}
	if (r->nerrors || r->lost) {
		for (size_t i = 0; i < r->nerrors && i < MAX_ERRORS; i++)
			print_error(ctx, cmd, p, b, &r->errors[i]);
		if (r->nerrors > MAX_ERRORS)
			fprintf(ctx->err, "%s %s: %zu more errors not shown\n", ctx->prog, cmd,
					r->nerrors - MAX_ERRORS);
		if (r->lost)
			fprintf(ctx->err, "%s %s: more errors were lost (the receive buffer "
					  "overflowed)\n",
					ctx->prog, cmd);
		/* A refused transaction is aborted whole: none of it was applied. */
		bool restart = false;
		for (size_t i = 0; i < r->nerrors; i++)
			restart |= r->errors[i].err == ERESTART;
		if (restart)
			fprintf(ctx->err, "%s %s: another program changed the ruleset before "
					  "each of %u attempts; nothing was changed (ruleset "
					  "generation %u). Try again when it is quieter\n",
					ctx->prog, cmd, r->attempts, r->genid_after);
		else if (r->genid_after == r->genid_before)
			fprintf(ctx->err, "%s %s: nothing was changed (ruleset generation %u)\n",
					ctx->prog, cmd, r->genid_before);
		else
			fprintf(ctx->err, "%s %s: nothing was changed; meanwhile another "
					  "program moved the ruleset generation from %u to %u\n",
					ctx->prog, cmd, r->genid_before, r->genid_after);
		return PC_EXIT_KERNEL;
	}
	fprintf(ctx->out, "%s: table inet %s %s: %zu chains, %zu rules, %zu sets and maps, "
			  "%zu elements in one transaction of %zu messages (%zu bytes); ",
			p->name, table, commit ? "applied" : "accepted by the kernel", b->nchains,
			b->nrules, b->nsets, b->nelems, b->n, b->len);
	if (commit)
		fprintf(ctx->out, "generation %u -> %u\n", r->genid_before, r->genid_after);
	else
		fprintf(ctx->out, "nothing changed (generation %u)\n", r->genid_after);
	return PC_EXIT_OK;
}

/*
 * The SSH session this command runs in: $SSH_CONNECTION, or, when sudo, su,
 * doas or pkexec started it and left the variable out, the one that command
 * itself was given (read from /proc; root may).  Only those are looked
 * through: a plain parent without the variable means no session.  Copied
 * into `out`; false when there is none.
 */
static bool ssh_connection(char *out, size_t size)
{
	const char *v = getenv("SSH_CONNECTION");
	static const char key[] = "SSH_CONNECTION=";

	if (v) {
		snprintf(out, size, "%s", v);
		return true;
	}
	static const char *const wrappers[] = {"sudo", "su", "doas", "pkexec", "run0", NULL};
	pid_t pid = getppid();
	for (int depth = 0; depth < 8 && pid > 1; depth++) {
		char path[64], comm[32] = "", *env = NULL;
		size_t len = 0;
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		FILE *f = fopen(path, "re");
		if (!f || !fgets(comm, sizeof(comm), f)) {
			if (f)
				fclose(f);
			break;
		}
		fclose(f);
		comm[strcspn(comm, "\n")] = '\0';
		bool wrapper = false;
		for (int k = 0; wrappers[k]; k++)
			wrapper |= !strcmp(comm, wrappers[k]);
		if (!wrapper)
			break;
		snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
		f = fopen(path, "re");
		if (f) {
			/* NUL-separated NAME=VALUE entries; a few KiB at most in practice. */
			env = xmalloc(1 << 16);
			len = fread(env, 1, (1 << 16) - 1, f);
			env[len] = '\0';
			fclose(f);
			for (size_t i = 0; i < len; i += strlen(env + i) + 1)
				if (!strncmp(env + i, key, sizeof(key) - 1)) {
					snprintf(out, size, "%s", env + i + sizeof(key) - 1);
					free(env);
					return true;
				}
			free(env);
		}
		/* /proc/PID/stat: "PID (COMM) STATE PPID ...", COMM may hold spaces. */
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		char stat[512] = "";
		f = fopen(path, "re");
		if (!f)
			break;
		size_t n = fread(stat, 1, sizeof(stat) - 1, f);
		fclose(f);
		stat[n] = '\0';
		const char *paren = strrchr(stat, ')');
		int ppid;
		if (!paren || sscanf(paren + 1, " %*c %d", &ppid) != 1)
			break;
		pid = ppid;
	}
	return false;
}

/*
 * An apply over SSH must not cut off the session it comes through: from
 * $SSH_CONNECTION ("CLIENT CPORT SERVER SPORT", see ssh_connection()), a new connection from the
 * client to the server's port must be accepted on input, and without
 * `established: accept` the replies to the client's port on output too.
 * Returns PC_EXIT_OK, or PC_EXIT_KERNEL after saying why not.
 */
static int lockout_check(struct cli_ctx *ctx, const struct pc_policy *p)
{
	char conn[256], client[64], server[64];
	unsigned cport, sport;

	if (ctx->allow_lockout || !ssh_connection(conn, sizeof(conn)) ||
			sscanf(conn, "%63s %u %63s %u", client, &cport, server, &sport) != 4 ||
			!cport || cport > 65535 || !sport || sport > 65535)
		return PC_EXIT_OK;
	for (int dir = 0; dir < 2; dir++) {
		if (dir == 1 && p->defaults.established)
			break;
		char *text = dir ? xasprintf("tcp -> %s %u", client, cport)
				 : xasprintf("tcp %s -> %u", client, sport);
		struct pc_packet pkt;
		struct pc_decision dec;
		char err[128];
		int ok = pc_packet_parse(text, &pkt, err, sizeof(err));
		free(text);
		if (ok < 0)
			return PC_EXIT_OK; /* not an address portcullis reads: nothing to check */
		pc_policy_evaluate(p, &pkt, &dec);
		if (dec.verdict == PC_VERDICT_ACCEPT)
			continue;
		fprintf(ctx->err, "%s apply: this policy would cut off the SSH session it is "
				  "applied through (SSH_CONNECTION: %s port %u -> port %u): ",
				ctx->prog, client, cport, sport);
		if (dec.by_rule) {
			const struct pc_rule *r = &p->rules[dec.rule];
			fprintf(ctx->err, "rule %zu at %s:%u:%u %s it", dec.rule + 1, r->loc.file,
					r->loc.line, r->loc.col,
					dec.action == PC_ACTION_REJECT ? "rejects" : "drops");
		} else {
			fprintf(ctx->err, "the default policy of %s drops it", dir ? "output" : "input");
		}
		fprintf(ctx->err, "; nothing was changed. Allow it in the policy, or pass "
				  "--allow-lockout\n");
		return PC_EXIT_KERNEL;
	}
	return PC_EXIT_OK;
}

int cli_apply_policy(struct cli_ctx *ctx, const char *cmd, const char *path, bool commit)
{
	const char *table = ctx->table ? ctx->table : "portcullis";
	struct pc_policy p;
	struct pc_nft_table t;
	struct pc_diags d;
	int ret;

	if (!cli_table_name_ok(ctx, cmd, table))
		return PC_EXIT_USAGE;
	ret = cli_check_policy(ctx, path, &p);
	if (ret != PC_EXIT_OK) {
		pc_policy_finish(&p);
		return ret;
	}
	pc_diags_init(&d);
	if (pc_nft_lower(&p, table, &t, &d) < 0) {
		pc_policy_print_diags(&p, &d, ctx->err);
		ret = PC_EXIT_INVALID;
		goto out;
	}
	pc_policy_print_diags(&p, &d, ctx->err);
	if (commit && (ret = lockout_check(ctx, &p)) != PC_EXIT_OK)
		goto out;

	struct pc_nl_apply_options o = {.table = table, .commit = commit, .force = ctx->force,
		.retries = 100, .retry_ms = 5000};
	struct pc_nl_batch b;
	struct pc_nl_result r;
	/*
	 * From here until the outcome is printed, an interrupt waits: the
	 * transaction is all or nothing in the kernel, and what happened is said
	 * before the signal ends the process (when unblocked below).
	 */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, &old);
	pc_nl_apply(&t, &o, &b, &r);
	ret = report(ctx, cmd, &p, table, &b, &r, commit);
	/*
	 * The kernel decided the outcome, not the printing: a report that cannot
	 * be written (a closed pipe, a full disk, a closed descriptor) is said on
	 * standard error and the status stays the outcome's.  SIGPIPE is ignored
	 * (main), so a closed pipe is an error here, not the end of the process.
	 */
	if ((fflush(ctx->out) != 0 || ferror(ctx->out)) && commit) {
		int err = errno;
		if (ret == PC_EXIT_OK)
			fprintf(ctx->err, "%s %s: cannot write the report to standard output (%s); "
					  "table inet %s was applied (generation %u -> %u)\n",
					ctx->prog, cmd, strerror(err), table, r.genid_before,
					r.genid_after);
		else
			fprintf(ctx->err, "%s %s: cannot write to standard output (%s)\n",
					ctx->prog, cmd, strerror(err));
		ctx->out_reported = true;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(r.errors);
	pc_nl_batch_finish(&b);
out:
	pc_nft_table_finish(&t);
	pc_diags_finish(&d);
	pc_policy_finish(&p);
	return ret;
}

int cmd_apply(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 1) {
		fprintf(ctx->err, "%s apply: name one policy file, e.g. '%s apply "
				  "policies/kdc-primary.yaml'\n",
				ctx->prog, ctx->prog);
		return PC_EXIT_USAGE;
	}
	return cli_apply_policy(ctx, "apply", argv[0], true);
}
