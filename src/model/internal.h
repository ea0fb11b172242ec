/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the two halves of the model (lower.c, paths.c) share. */
#ifndef PORTCULLIS_MODEL_INTERNAL_H
#define PORTCULLIS_MODEL_INTERNAL_H

#include "portcullis/model.h"
#include "util.h"

/* The size a set or map declares for n elements: a power of two, at least 16 and 2n. */
size_t pc_model_declared_size(size_t n);

/* Appends "; from admins,lan; to dmz": the networks by the names the policy gives them. */
void pc_model_add_peers(struct pc_buf *b, const struct pc_rule *r);

/*
 * Compiles the packet path of a lowered table: the verdict maps, the jump
 * chains and their sharing, the source-address maps (see portcullis/model.h).
 */
void pc_model_compile_paths(struct pc_nft_table *t, const struct pc_policy *p);

#endif
