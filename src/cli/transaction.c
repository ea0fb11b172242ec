/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy's table sent to the kernel in one netlink transaction: applied
 * (apply), or checked and thrown away (check --kernel), so the kernel checks
 * every object.  Either the whole table is replaced or nothing changes; what
 * became of the transaction is said once, and decides the exit status.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "pc-version.h"
#include "portcullis/delta.h"
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
 * An apply that keeps what it installed (see apply_table()): in, the delta
 * to send instead of the table (NULL: the table); out, what became of it.
 */
struct sent {
	struct pc_dl_plan *plan;
	bool refused; /* the kernel refused the delta: nothing said yet */
	bool stale; /* refused as the generation moved after it was planned */
	char why[256]; /* then its first error */
	bool committed;
	uint32_t genid_after;
	bool table_existed;
	struct pc_dl_state installed; /* a replace committed: its objects */
};

/*
 * A report that cannot be written (a closed pipe, a full disk, a closed
 * descriptor) is said on standard error, with the outcome when the table
 * was `done` (applied, removed); the status stays the outcome's.
 */
static void report_unwritten(struct cli_ctx *ctx, const char *cmd, int ret, const char *done,
		uint32_t genid_before, uint32_t genid_after)
{
	if (fflush(ctx->out) == 0 && !ferror(ctx->out))
		return;
	int err = errno;
	if (ret == PC_EXIT_OK)
		fprintf(ctx->err,
				"%s %s: cannot write the report to standard output (%s); table inet "
				"%s was %s (generation %u -> %u)\n",
				ctx->prog, cmd, strerror(err), ctx->table, done, genid_before,
				genid_after);
	else
		fprintf(ctx->err, "%s %s: cannot write to standard output (%s)\n", ctx->prog, cmd,
				strerror(err));
	ctx->out_reported = true;
}

/* Says what a committed delta changed. */
static void report_delta(struct cli_ctx *ctx, const struct pc_policy *p, const char *table,
		const struct pc_dl_plan *d, const struct pc_nl_batch *b,
		const struct pc_nl_result *r)
{
	fprintf(ctx->out,
			"%s: table inet %s updated in place: %zu elements added, %zu deleted; "
			"%zu sets and maps created, %zu deleted; %zu chains created, %zu "
			"deleted, %zu rebuilt (%zu rules), %zu policies changed; other chains "
			"kept their rules and counters; one transaction of %zu messages (%zu "
			"bytes); generation %u -> %u\n",
			p->name, table, d->elems_added, d->elems_deleted, d->sets_created,
			d->sets_deleted, d->chains_created, d->chains_deleted, d->chains_rebuilt,
			d->rules_sent, d->policies_changed, b->n, b->len, r->genid_before,
			r->genid_after);
}

/*
 * Sends the transaction for t (NULL: the removal of table ctx->table), with
 * what the table records of its policy (`stamp`, NULL for none), and says
 * what became of it; returns the exit status.  With `sent` and its plan,
 * the delta is sent instead of t, and a refusal is left to the caller.
 */
static int transact(struct cli_ctx *ctx, const char *cmd, const struct pc_policy *p,
		const struct pc_nft_table *t, bool commit, const struct pc_nl_stamp *stamp,
		struct sent *sent, uint32_t genid)
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
	sigset_t old;
	cli_interrupts_hold(&old);
	if (sent && sent->plan) {
		o.build = pc_dl_build;
		o.build_arg = sent->plan;
		/* Planned from the table at that generation: sent at it or not at all. */
		o.genid_fixed = true;
		o.genid_expected = genid;
		pc_nl_apply(NULL, &o, &b, &r);
	} else {
		/*
		 * Applied: nothing reads the model's prefixes after the batch
		 * but to free them (the record comes off the batch), so their
		 * pages go back as the elements are written.
		 */
		o.release_prefixes = sent != NULL;
		pc_nl_apply(t, &o, &b, &r);
	}
	if (sent) {
		sent->committed = r.outcome == PC_NL_COMMITTED;
		sent->genid_after = r.genid_after;
		sent->table_existed = r.table_exists;
	}
	if (sent && sent->plan && r.outcome == PC_NL_STALE) {
		sent->refused = sent->stale = true;
		snprintf(sent->why, sizeof(sent->why),
				"the ruleset changed between reading the table (generation %u) and "
				"sending",
				genid);
		ret = PC_EXIT_KERNEL;
	} else if (sent && sent->plan && r.outcome == PC_NL_REFUSED && r.nerrors) {
		const struct pc_nl_msg *m = &b.msgs[r.errors[0].msg];
		sent->refused = true;
		snprintf(sent->why, sizeof(sent->why), "the %s %s: %s", m->what, m->name,
				strerror(r.errors[0].err));
		ret = PC_EXIT_KERNEL;
	} else if (sent && sent->plan && r.outcome == PC_NL_COMMITTED) {
		report_delta(ctx, p, table, sent->plan, &b, &r);
		ret = PC_EXIT_OK;
	} else {
		if (sent && r.outcome == PC_NL_COMMITTED) {
			pc_dl_from_sent_batch(&b, table, &sent->installed);
		}
		ret = report(ctx, cmd, p, table, &b, &r, commit);
	}
	/*
	 * The kernel decided the outcome, not the printing: a report that cannot
	 * be written (a closed pipe, a full disk, a closed descriptor) is said on
	 * standard error and the status stays the outcome's.  SIGPIPE is ignored
	 * (main), so a closed pipe is an error here, not the end of the process.
	 */
	if (commit && !(sent && sent->refused))
		report_unwritten(ctx, cmd, ret, p ? "applied" : "removed", r.genid_before,
				r.genid_after);
	cli_interrupts_restore(&old);
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

/*
 * Whether a delta can take the live table to t: the state file of the last
 * apply read, checked against the live table, and the delta planned from
 * the transaction that would replace the table.  0 with `d` filled (its
 * states and the full batch `full` the caller's to finish); 1 with why
 * (empty: nothing to say, there is no table); 2 when there is no record.
 */
static int plan_delta(struct cli_ctx *ctx, const struct pc_nft_table *t, struct pc_dl_state *old,
		struct pc_dl_state *new, struct pc_nl_batch *full, struct pc_dl_plan *d,
		uint32_t *genid, char *why, size_t size)
{
	char path[4096];
	int r;

	why[0] = '\0';
	cli_state_path(path, sizeof(path), ctx->table, "installed");
	r = pc_dl_read(path, ctx->table, PC_VERSION, old, why, size);
	if (r == 1)
		return 2;
	if (r != 0)
		return 1;
	/* The kernel keeps a table's user data from its creation: a new comment needs a new table.
	 */
	if (strcmp(old->comment, t->comment)) {
		snprintf(why, size,
				"its comment changes (the policy's name), which the kernel "
				"keeps from the table's creation");
		pc_dl_state_finish(old);
		return 1;
	}
	r = pc_dl_live_matches(old, genid, why, size);
	if (r != 1) {
		if (r == 2)
			why[0] = '\0'; /* no table: nothing to keep */
		pc_dl_state_finish(old);
		return 1;
	}
	unsigned lo = if_nametoindex("lo");
	/* The elements come from the model: a delta sends only those that change. */
	struct pc_nl_options bo = {.commit = true, .lo_ifindex = lo ? lo : 1, .sets_empty = true};
	pc_nl_build(t, &bo, full);
	pc_dl_from_model(t, full, ctx->table, new);
	pc_dl_plan(old, new, d);
	return 0;
}

bool cli_installed_policy(const char *table, const uint8_t stamp[32], uint64_t *time,
		uint8_t sha256[32], char **path)
{
	char file[4096], why[512];
	struct pc_dl_state s;
	bool used = false;

	cli_state_path(file, sizeof(file), table, "installed");
	if (pc_dl_read(file, table, PC_VERSION, &s, why, sizeof(why)) != 0)
		return false;
	if (!memcmp(s.table_sha256, stamp, 32) && s.table_time == *time) {
		memcpy(sha256, s.policy_sha256, 32);
		*time = s.policy_time;
		free(*path);
		*path = s.policy_path;
		s.policy_path = NULL;
		used = true;
	}
	pc_dl_state_finish(&s);
	return used;
}

void cli_apply_preview(
		struct cli_ctx *ctx, const struct pc_nft_table *t, struct cli_apply_preview *pv)
{
	struct pc_dl_state old, new;
	struct pc_nl_batch full = {0};
	struct pc_dl_plan d;
	uint32_t genid;

	memset(pv, 0, sizeof(*pv));
	pc_dl_state_init(&old);
	pc_dl_state_init(&new);
	int r = ctx->full ? 1
			  : plan_delta(ctx, t, &old, &new, &full, &d, &genid, pv->why,
					    sizeof(pv->why));
	if (r == 0) {
		pv->delta = true;
		pv->objects = pc_dl_plan_size(&d);
		pv->elems_added = d.elems_added;
		pv->elems_deleted = d.elems_deleted;
		pv->sets_created = d.sets_created;
		pv->sets_deleted = d.sets_deleted;
		pv->chains_created = d.chains_created;
		pv->chains_deleted = d.chains_deleted;
		pv->chains_rebuilt = d.chains_rebuilt;
		pv->policies_changed = d.policies_changed;
		pc_dl_plan_finish(&d);
		pc_dl_state_finish(&old);
		pc_dl_state_finish(&new);
		pc_nl_batch_finish(&full);
		return;
	}
	if (ctx->full)
		snprintf(pv->why, sizeof(pv->why), "--full");
	unsigned lo = if_nametoindex("lo");
	/* Counted, not built: the elements are walked, not written. */
	struct pc_nl_options bo = {.commit = true, .lo_ifindex = lo ? lo : 1, .sets_empty = true};
	pc_nl_build(t, &bo, &full);
	pv->objects = full.nchains + full.nrules + full.nsets + full.nelems;
	pc_nl_batch_finish(&full);
}

/* Records what was installed for the next apply's delta; a failure is said, not fatal. */
static void record_installed(struct cli_ctx *ctx, const char *cmd, struct pc_dl_state *s,
		const char *comment, const struct pc_nl_stamp *table_stamp,
		const struct pc_nl_stamp *stamp, uint32_t genid)
{
	char path[4096];

	snprintf(s->comment, sizeof(s->comment), "%s", comment);
	memcpy(s->table_sha256, table_stamp->sha256, 32);
	s->table_time = table_stamp->time;
	memcpy(s->policy_sha256, stamp->sha256, 32);
	free(s->policy_path);
	s->policy_path = stamp->path ? xstrdup(stamp->path) : NULL;
	s->policy_time = stamp->time;
	s->genid = genid;
	cli_state_path(path, sizeof(path), ctx->table, "installed");
	if (pc_dl_read_handles(s, genid) < 0) {
		fprintf(ctx->err,
				"%s %s: warning: cannot record what was installed: the ruleset "
				"changed again right after (or cannot be read); the next apply "
				"replaces the whole table\n",
				ctx->prog, cmd);
		return;
	}
	char why[4200] = "";
	/* The record is made without a name, named and renamed: an interrupt waits for it. */
	sigset_t was;
	cli_interrupts_hold(&was);
	if (cli_state_dir_make() < 0)
		cli_state_dir_why(why, sizeof(why), errno);
	else if (pc_dl_write(s, path, PC_VERSION) < 0)
		snprintf(why, sizeof(why), "%s", strerror(errno));
	cli_interrupts_restore(&was);
	if (why[0])
		fprintf(ctx->err,
				"%s %s: warning: cannot record what was installed in %s: %s; the "
				"next apply replaces the whole table\n",
				ctx->prog, cmd, path, why);
}

/*
 * apply: a delta of the last apply when the live table is the one it
 * installed, else (or with --full, or when the kernel refuses the delta:
 * the table drifted) the whole table replaced; said on standard error
 * when a delta could not be used.  What was installed is recorded after.
 */
static int apply_table(struct cli_ctx *ctx, const char *cmd, const struct pc_policy *p,
		const struct pc_nft_table *t, const struct pc_nl_stamp *stamp)
{
	struct sent sent = {0};
	struct pc_dl_state old, new;
	struct pc_nl_batch full = {0};
	struct pc_dl_plan d;
	char why[512] = "";
	uint32_t genid = 0;
	int ret;

	pc_dl_state_init(&old);
	pc_dl_state_init(&new);
	int planned = ctx->full ? 1
				: plan_delta(ctx, t, &old, &new, &full, &d, &genid, why,
						  sizeof(why));
	if (planned == 0) {
		struct pc_nl_stamp table_stamp = {.time = old.table_time};
		memcpy(table_stamp.sha256, old.table_sha256, 32);
		sent.plan = &d;
		cli_state_forget(ctx->table);
		if (!pc_dl_plan_size(&d)) {
			/* Nothing to change: a transaction would not even move the generation. */
			fprintf(ctx->out,
					"%s: table inet %s holds what this policy installs already; "
					"nothing was sent (generation %u)\n",
					p->name, ctx->table, genid);
			sent.committed = true;
			sent.genid_after = genid;
			ret = PC_EXIT_OK;
			report_unwritten(ctx, cmd, ret, "applied", genid, genid);
		} else {
			ret = transact(ctx, cmd, p, t, true, stamp, &sent, genid);
		}
		/* What the delta was planned from is not held while the new record is written. */
		pc_dl_plan_finish(&d);
		pc_dl_state_finish(&old);
		pc_nl_batch_finish(&full);
		new.batch = NULL;
		if (sent.committed)
			record_installed(ctx, cmd, &new, t->comment, &table_stamp, stamp,
					sent.genid_after);
		pc_dl_state_finish(&new);
		if (!sent.refused)
			return ret;
		if (sent.stale)
			snprintf(why, sizeof(why), "%s: the delta was not sent", sent.why);
		else
			snprintf(why, sizeof(why),
					"the kernel refused the delta (%s): the table changed "
					"since the last apply",
					sent.why);
		sent = (struct sent){0};
	}
	if (why[0])
		fprintf(ctx->err, "%s %s: replacing the whole table: %s\n", ctx->prog, cmd, why);
	cli_state_forget(ctx->table);
	ret = transact(ctx, cmd, p, t, true, stamp, &sent, 0);
	if (planned == 2 && sent.committed && sent.table_existed) {
		char path[4096];
		cli_state_path(path, sizeof(path), ctx->table, "installed");
		fprintf(ctx->err,
				"%s %s: replaced the whole table: there was no record of what the "
				"last apply installed (%s)\n",
				ctx->prog, cmd, path);
	}
	if (sent.committed)
		record_installed(ctx, cmd, &sent.installed, t->comment, stamp, stamp,
				sent.genid_after);
	pc_dl_state_finish(&sent.installed);
	return ret;
}

int cli_send_table(struct cli_ctx *ctx, const char *cmd, const char *path, bool commit,
		int (*before)(struct cli_ctx *ctx, const struct pc_policy *p))
{
	struct pc_policy p;
	struct pc_nft_table t;
	int ret;

	ctx->release_texts = true; /* the text is not held with the addresses it holds */
	if ((ret = cli_lower_policy(ctx, cmd, path, &p, &t)) != PC_EXIT_OK)
		return ret;
	if (before && (ret = before(ctx, &p)) != PC_EXIT_OK)
		goto out;

	struct pc_nl_stamp stamp;
	char *abs = make_stamp(&p, path, &stamp);
	if (commit)
		ret = apply_table(ctx, cmd, &p, &t, &stamp);
	else
		ret = transact(ctx, cmd, &p, &t, commit, &stamp, NULL, 0);
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
	cli_state_forget(ctx->table);
	return transact(ctx, cmd, NULL, NULL, true, NULL, NULL, 0);
}
