/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portcullis check: read policies, resolve every service and network, and
 * print every problem with its file:line:col, source line and caret.
 */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "portcullis/listening.h"
#include "portcullis/policy.h"

/* "POLICY: ok, 6 rules, 0 warnings", and the findings the policy acknowledges when it does. */
static void print_ok(FILE *out, const char *path, const struct pc_policy *p, size_t nw)
{
	size_t acked = 0;

	for (size_t i = 0; i < p->nacks; i++)
		acked += p->acks[i].matched;
	fprintf(out, "%s: ok, %zu %s, %zu %s", strcmp(path, "-") ? path : "<stdin>", p->nrules,
			p->nrules == 1 ? "rule" : "rules", nw, nw == 1 ? "warning" : "warnings");
	if (acked)
		fprintf(out, ", %zu acknowledged", acked);
	fputc('\n', out);
}

/* Before the kernel's check: the other tables that would filter the same packets. */
static int coexist(struct cli_ctx *ctx, const struct pc_policy *p)
{
	cli_warn_coexist(ctx, "check", p, ctx->table);
	return PC_EXIT_OK;
}

/*
 * check --listening: the host's sockets against the loaded policy p, the
 * findings filtered as the policy's are, printed (or collected for
 * --json and --sarif); their warnings are added to *nw.  Returns the
 * status: PC_EXIT_INVALID when --strict made errors of them.
 */
static int listening(struct cli_ctx *ctx, const struct pc_policy *p, const struct pc_listeners *l,
		size_t *nw)
{
	struct pc_diags d;
	int ret = PC_EXIT_OK;

	pc_diags_init(&d);
	d.keep_acknowledged = ctx->collect != NULL;
	pc_policy_check_listening(p, l->v, l->n, &d);
	if (l->proc_missing)
		pc_diag_add(&d, PC_SEV_NOTE, "listening-owner", NULL, 0, 0,
				"/proc cannot be read: the processes holding the sockets are not "
				"named");
	else if (l->proc_denied)
		pc_diag_add(&d, PC_SEV_NOTE, "listening-owner", NULL, 0, 0,
				"the descriptors of %zu %s could not be read: the sockets they "
				"hold are not named (root sees them all)",
				l->proc_denied, l->proc_denied == 1 ? "process" : "processes");
	if (l->truncated)
		pc_diag_add(&d, PC_SEV_WARNING, "listening-owner", NULL, 0, 0,
				"%zu sockets past the first %u were not read", l->truncated,
				(unsigned)PC_LISTENERS_MAX);
	pc_diags_filter(&d, ctx->wno.v, ctx->wno.n, ctx->strict, CLI_MAX_PRINTED);
	*nw += d.nwarnings;
	if (d.nerrors)
		ret = PC_EXIT_INVALID;
	if (ctx->collect)
		pc_diags_take(ctx->collect, &d);
	else
		pc_policy_print_diags(p, &d, ctx->err);
	pc_diags_finish(&d);
	return ret;
}

int cmd_check(struct cli_ctx *ctx, int argc, char **argv)
{
	int worst = PC_EXIT_OK;
	struct cli_report *rep = NULL;
	struct pc_diags collected;

	if (argc < 1) {
		fprintf(ctx->err,
				"%s check: name a policy file, e.g. '%s check policies/kdc-primary.yaml'\n",
				ctx->prog, ctx->prog);
		return PC_EXIT_USAGE;
	}
	if (ctx->json && ctx->sarif) {
		fprintf(ctx->err, "%s check: give --json or --sarif, not both\n", ctx->prog);
		return PC_EXIT_USAGE;
	}
	if ((ctx->json || ctx->sarif) && ctx->kernel) {
		fprintf(ctx->err,
				"%s check: --kernel reports as text only; leave out --%s, or run "
				"check --%s and check --kernel apart\n",
				ctx->prog, ctx->json ? "json" : "sarif",
				ctx->json ? "json" : "sarif");
		return PC_EXIT_USAGE;
	}
	if (ctx->listening && ctx->kernel) {
		fprintf(ctx->err,
				"%s check: --listening and --kernel are two checks; run them apart\n",
				ctx->prog);
		return PC_EXIT_USAGE;
	}
	struct pc_listeners socks;
	pc_listeners_init(&socks);
	if (ctx->listening && pc_listeners_read(&socks) < 0) {
		fprintf(ctx->err,
				"%s check: cannot read the listening sockets over NETLINK_SOCK_DIAG: "
				"%s\n",
				ctx->prog, strerror(errno));
		return PC_EXIT_ENV;
	}
	if (ctx->json || ctx->sarif) {
		/* Every diagnostic goes into the report instead of standard error. */
		rep = cli_report_create();
		pc_diags_init(&collected);
		ctx->collect = &collected;
	}
	for (int i = 0; i < argc; i++) {
		int ret;

		if (rep) {
			struct pc_policy p;
			ret = cli_load_policy(ctx, argv[i], &p, NULL);
			size_t nw = 0;
			if (ctx->listening && ret == PC_EXIT_OK)
				ret = listening(ctx, &p, &socks, &nw);
			cli_report_add(rep, argv[i], &p, ret, &collected);
			pc_policy_finish(&p);
		} else if (ctx->kernel) {
			/* The same checks, then the kernel's on the whole table. */
			ret = cli_send_table(ctx, "check", argv[i], false, coexist);
		} else {
			struct pc_policy p;
			size_t nw = 0;
			ret = cli_load_policy(ctx, argv[i], &p, &nw);
			if (ctx->listening && ret == PC_EXIT_OK)
				ret = listening(ctx, &p, &socks, &nw);
			if (ret == PC_EXIT_OK)
				print_ok(ctx->out, argv[i], &p, nw);
			pc_policy_finish(&p);
		}
		if (ret == PC_EXIT_ENV || (ret != PC_EXIT_OK && worst == PC_EXIT_OK))
			worst = ret;
	}
	if (ctx->listening && !rep) {
		size_t lo = 0;
		for (size_t i = 0; i < socks.n; i++)
			lo += pc_listener_loopback(&socks.v[i]);
		fprintf(ctx->out, "listening: %zu %s, %zu on loopback only (not checked)\n",
				socks.n, socks.n == 1 ? "socket" : "sockets", lo);
	}
	if (rep) {
		if (ctx->listening)
			cli_report_listening(rep, &socks);
		cli_report_print(rep, ctx->sarif, worst, ctx->out);
		cli_report_destroy(rep);
		pc_diags_finish(&collected);
		ctx->collect = NULL;
	}
	pc_listeners_finish(&socks);
	return worst;
}
