// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `portcullis show [--table T]`: the live table read back through netlink
 * and printed one object a line, each rule and element with the comment
 * (its provenance) it carries.
 */
#include "cli.h"
#include "portcullis/readback.h"

int cmd_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct pc_rb_table live;
	int ret;

	(void)argv;
	if (argc != 0) {
		fprintf(ctx->err, "%s show: takes no arguments (the table is --table NAME)\n",
				ctx->prog);
		return PC_EXIT_USAGE;
	}
	if (!cli_table_name_ok(ctx, "show", ctx->table))
		return PC_EXIT_USAGE;
	/* Each object printed as it is made: a large set is never held as text. */
	if ((ret = cli_read_live(ctx, "show", ctx->table, &live, cli_print_live, ctx->out)) !=
			PC_EXIT_OK)
		return ret;
	if (!live.exists) {
		fprintf(ctx->err,
				"%s show: there is no table inet %s; apply a policy to load it, or "
				"name another with --table\n",
				ctx->prog, ctx->table);
		ret = PC_EXIT_INVALID;
	}
	pc_rb_finish(&live);
	return ret;
}
