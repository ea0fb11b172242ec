/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy's table sent to the kernel in one netlink transaction: applied
 * (apply), or checked and thrown away (check --kernel), so the kernel checks
 * every object.  Either the whole table is replaced or nothing changes; what
 * became of the transaction is said once, and decides the exit status.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "portcullis/netlink.h"
#include "portcullis/nft.h"
#include "portcullis/policy.h"
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

static void print_errors(struct cli_ctx *ctx, const char *cmd, const struct pc_policy *p,
		const struct pc_nl_batch *b, const struct pc_nl_result *r)
{
	for (size_t i = 0; i < r->nerrors && i < MAX_ERRORS; i++)
		print_error(ctx, cmd, p, b, &r->errors[i]);
	if (r->nerrors > MAX_ERRORS)
		fprintf(ctx->err, "%s %s: %zu more errors not shown\n", ctx->prog, cmd,
				r->nerrors - MAX_ERRORS);
	if (r->lost)
		fprintf(ctx->err, "%s %s: more errors were lost (the receive buffer overflowed)\n",
				ctx->prog, cmd);
}

static void print_sys_error(struct cli_ctx *ctx, const char *cmd, const struct pc_nl_result *r)
{
	if (r->sys_err)
		fprintf(ctx->err, "%s %s: cannot %s: %s\n", ctx->prog, cmd, r->sys_what,
				strerror(r->sys_err));
}

/*
 * Says what became of the transaction and returns the exit status, both from
 * r->outcome alone: success only when the kernel committed (or, checking,
 * accepted) it, or when there was no table to remove.  `p` NULL: the
 * transaction removed the table.
 */
static int report(struct cli_ctx *ctx, const char *cmd, const struct pc_policy *p,
		const char *table, const struct pc_nl_batch *b, const struct pc_nl_result *r,
		bool commit)
{
	switch (r->outcome) {
	case PC_NL_ABSENT:
		fprintf(ctx->out, "table inet %s is not loaded; nothing was removed\n", table);
		return PC_EXIT_OK;
	case PC_NL_COMMITTED:
	case PC_NL_CHECKED:
		if (!p) {
			fprintf(ctx->out, "table inet %s removed; generation %u -> %u\n", table,
					r->genid_before, r->genid_after);
			return PC_EXIT_OK;
		}
		fprintf(ctx->out,
				"%s: table inet %s %s: %zu chains, %zu rules, %zu sets and maps, "
				"%zu elements in one transaction of %zu messages (%zu bytes); ",
				p->name, table, commit ? "applied" : "accepted by the kernel",
				b->nchains, b->nrules, b->nsets, b->nelems, r->sent_msgs,
				r->sent_bytes);
		if (commit)
			fprintf(ctx->out, "generation %u -> %u\n", r->genid_before, r->genid_after);
		else
			fprintf(ctx->out, "nothing changed (generation %u)\n", r->genid_after);
		return PC_EXIT_OK;
	case PC_NL_FOREIGN_TABLE:
		fprintf(ctx->err,
				"%s %s: table inet %s exists and portcullis does not manage it (its "
				"comment does not start with '%s'%s); nothing was changed. Name "
				"another with --table, or %s it with --force\n",
				ctx->prog, cmd, table, PC_NL_MARKER,
				r->attempts ? "; another program made it between two attempts" : "",
				p ? "replace" : "remove");
		return PC_EXIT_KERNEL;
	case PC_NL_REFUSED:
		print_errors(ctx, cmd, p, b, r);
		print_sys_error(ctx, cmd, r);
		/* A refused transaction is aborted whole: none of it was applied. */
		if (r->genid_after == r->genid_before || r->sys_err)
			fprintf(ctx->err, "%s %s: nothing was changed (ruleset generation %u)\n",
					ctx->prog, cmd, r->genid_before);
		else
			fprintf(ctx->err,
					"%s %s: nothing was changed; meanwhile another "
					"program moved the ruleset generation from %u to %u\n",
					ctx->prog, cmd, r->genid_before, r->genid_after);
		return PC_EXIT_KERNEL;
	case PC_NL_RETRIES_SPENT:
	case PC_NL_INTERRUPTED: {
		bool interrupted = r->outcome == PC_NL_INTERRUPTED;
		print_errors(ctx, cmd, p, b, r);
		fprintf(ctx->err,
				"%s %s: another program changed the ruleset before each of %u "
				"attempts%s; nothing was changed (ruleset generation %u)%s\n",
				ctx->prog, cmd, r->attempts,
				interrupted ? ", and an interrupt stopped the retries" : "",
				r->genid_after,
				interrupted ? "" : ". Try again when it is quieter");
		return PC_EXIT_KERNEL;
	}
	case PC_NL_NOT_STARTED:
	case PC_NL_NOT_SENT:
		print_sys_error(ctx, cmd, r);
		if (r->sys_err == EPERM || r->sys_err == EACCES) {
			fprintf(ctx->err, "%s %s: %s needs CAP_NET_ADMIN (run it as root)\n",
					ctx->prog, cmd, commit ? cmd : "check --kernel");
			return PC_EXIT_ENV;
		}
		if (r->sys_err == EMSGSIZE)
			fprintf(ctx->err,
					"%s %s: the transaction (%zu bytes) is larger than the "
					"socket may send; raise net.core.wmem_max\n",
					ctx->prog, cmd, b->len);
		if (r->attempts)
			fprintf(ctx->err,
					"%s %s: nothing was changed: another program changed the "
					"ruleset, and the kernel refused the %u %s sent\n",
					ctx->prog, cmd, r->attempts,
					r->attempts == 1 ? "transaction" : "transactions");
		else
			fprintf(ctx->err, "%s %s: nothing was changed\n", ctx->prog, cmd);
		return r->outcome == PC_NL_NOT_STARTED ? PC_EXIT_ENV : PC_EXIT_KERNEL;
	case PC_NL_UNKNOWN:
	default:
		break;
	}
	print_errors(ctx, cmd, p, b, r);
	print_sys_error(ctx, cmd, r);
	if (r->lost && !r->sys_err)
		fprintf(ctx->err,
				"%s %s: meanwhile the ruleset generation moved from %u to %u, by "
				"this transaction or another program's\n",
				ctx->prog, cmd, r->genid_before, r->genid_after);
	if (!p)
		fprintf(ctx->err,
				"%s %s: the outcome is unknown: see whether `nft list tables` "
				"still lists table inet %s\n",
				ctx->prog, cmd, table);
	else if (commit)
		fprintf(ctx->err,
				"%s %s: the outcome is unknown: compare `nft list table inet %s` "
				"with the rendering\n",
				ctx->prog, cmd, table);
	else
		fprintf(ctx->err,
				"%s %s: whether the kernel accepts the table is unknown; nothing "
				"was changed\n",
				ctx->prog, cmd);
	return PC_EXIT_UNKNOWN;
}

/*
 * What the table records of its policy: the SHA-256 of the files it read
 * (cli_policy_sha256: `render`'s of the file when it includes none), the
 * time, and the file's absolute path (none for standard input).  The path
 * is the caller's to free.
 */
static char *make_stamp(const struct pc_policy *p, const char *path, struct pc_nl_stamp *st)
{
	char hex[65];

	cli_policy_sha256(p, hex);
	for (int i = 0; i < 32; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		st->sha256[i] = (uint8_t)v;
	}
	st->time = (uint64_t)time(NULL);
	st->path = strcmp(path, "-") ? realpath(path, NULL) : NULL;
	return (char *)st->path;
}

/*
 * Sends the transaction for t (NULL: the removal of table ctx->table), with
 * what the table records of its policy (`stamp`, NULL for none), and says
 * what became of it; returns the exit status.
 */
static int transact(struct cli_ctx *ctx, const char *cmd, const struct pc_policy *p,
		const struct pc_nft_table *t, bool commit, const struct pc_nl_stamp *stamp)
{
	const char *table = ctx->table;
	int ret;

	struct pc_nl_apply_options o = {.table = table,
			.commit = commit,
			.stamp = stamp,
			.force = ctx->force,
			.retries = 100,
			.retry_ms = 5000};
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
	pc_nl_apply(t, &o, &b, &r);
	ret = report(ctx, cmd, p, table, &b, &r, commit);
	/*
	 * The kernel decided the outcome, not the printing: a report that cannot
	 * be written (a closed pipe, a full disk, a closed descriptor) is said on
	 * standard error and the status stays the outcome's.  SIGPIPE is ignored
	 * (main), so a closed pipe is an error here, not the end of the process.
	 */
	if ((fflush(ctx->out) != 0 || ferror(ctx->out)) && commit) {
		int err = errno;
		if (ret == PC_EXIT_OK)
			fprintf(ctx->err,
					"%s %s: cannot write the report to standard output (%s); "
					"table inet %s was %s (generation %u -> %u)\n",
					ctx->prog, cmd, strerror(err), table,
					p ? "applied" : "removed", r.genid_before, r.genid_after);
		else
			fprintf(ctx->err, "%s %s: cannot write to standard output (%s)\n",
					ctx->prog, cmd, strerror(err));
		ctx->out_reported = true;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(r.errors);
	pc_nl_batch_finish(&b);
	return ret;
}

int cli_lower_policy(struct cli_ctx *ctx, const char *cmd, const char *path, struct pc_policy *p,
		struct pc_nft_table *t)
{
	struct pc_diags d;
	int ret;

	if (!cli_table_name_ok(ctx, cmd, ctx->table))
		return PC_EXIT_USAGE;
	ret = cli_load_policy(ctx, path, p, NULL);
	if (ret != PC_EXIT_OK) {
		pc_policy_finish(p);
		return ret;
	}
	pc_diags_init(&d);
	ret = pc_nft_lower(p, ctx->table, t, &d) < 0 ? PC_EXIT_INVALID : PC_EXIT_OK;
	pc_policy_print_diags(p, &d, ctx->err);
	pc_diags_finish(&d);
	if (ret != PC_EXIT_OK) {
		pc_nft_table_finish(t);
		pc_policy_finish(p);
	}
	return ret;
}

int cli_send_table(struct cli_ctx *ctx, const char *cmd, const char *path, bool commit,
		int (*before)(struct cli_ctx *ctx, const struct pc_policy *p))
{
	struct pc_policy p;
	struct pc_nft_table t;
	int ret;

	if ((ret = cli_lower_policy(ctx, cmd, path, &p, &t)) != PC_EXIT_OK)
		return ret;
	if (before && (ret = before(ctx, &p)) != PC_EXIT_OK)
		goto out;

	struct pc_nl_stamp stamp;
	char *abs = make_stamp(&p, path, &stamp);
	ret = transact(ctx, cmd, &p, &t, commit, &stamp);
	free(abs);
out:
	pc_nft_table_finish(&t);
	pc_policy_finish(&p);
	return ret;
}

int cli_remove_table(struct cli_ctx *ctx, const char *cmd)
{
	if (!cli_table_name_ok(ctx, cmd, ctx->table))
		return PC_EXIT_USAGE;
	return transact(ctx, cmd, NULL, NULL, true, NULL);
}
