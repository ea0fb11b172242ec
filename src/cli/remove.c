/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portcullis remove: the table portcullis manages, deleted in one netlink
 * transaction (transaction.c) checked against the ruleset generation.  Only
 * that table: never the whole ruleset, never another program's table.
 */
#include "cli.h"

int cmd_remove(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (argc != 0) {
		fprintf(ctx->err,
				"%s remove: takes no policy, only options: e.g. '%s remove "
				"--table %s'\n",
				ctx->prog, ctx->prog, CLI_DEFAULT_TABLE);
		return PC_EXIT_USAGE;
	}
	/* The rollback would bring back the table removed now: confirm or roll back first. */
	if (cli_table_name_ok(ctx, "remove", ctx->table)) {
		int ret = cli_confirm_pending(ctx, "remove");
		if (ret != PC_EXIT_OK)
			return ret;
	}
	return cli_remove_table(ctx, "remove");
}
